#!/usr/bin/env bash
# Upload throughput and memory: `lbimport upload` vs `curl -F` against the same local sandbox,
# same run, alternating, several repetitions.
#
#   benches/upload.sh [REPS]          (default 3; needs a release build: cargo build --release)
#
# Env: LBIMPORT (binary, default target/release/lbimport or $CARGO_TARGET_DIR/release/lbimport),
#      BENCH_DIR (default /work/bench; the 1 GB file and the sandbox store live there and are
#      deleted at the end).
set -euo pipefail

REPS=${1:-3}
BENCH_DIR=${BENCH_DIR:-/work/bench}
BIN=${LBIMPORT:-${CARGO_TARGET_DIR:-target}/release/lbimport}
TRACKER=1292-9381
export BENCH_KEY=bench-private-key-0123456789
SIZE=1000000000   # 1 GB (10^9 bytes), under the 1 GiB limit

[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)"; exit 2; }
mkdir -p "$BENCH_DIR"
FILE=$BENCH_DIR/upload-1g.csv
WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
cleanup() {
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
  rm -rf "$WORK" "$FILE"
}
trap cleanup EXIT

# 1. The file: deterministic purchase rows repeated up to exactly 10^9 bytes.
python3 - "$FILE" "$SIZE" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
rows = []
i = 0
while sum(map(len, rows)) < (1 << 20):
    rows.append(f"{i // 3},/p/{(i * 7919) % 100003},{i % 977},\"2024-01-{i % 28 + 1:02d} 10:00:00\"\n")
    i += 1
block = "".join(rows).encode()
with open(path, "wb") as f:
    left = size
    while left > 0:
        n = min(left, len(block))
        f.write(block[:n])
        left -= n
PY
ls -l "$FILE"

# 2. The sandbox, validation off, storing into the bench directory.
"$BIN" serve --port 0 --tracker-id "$TRACKER" --private-key-env BENCH_KEY \
  --store "$WORK/store" --no-validate >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(head -1 "$WORK/serve.out" | awk '{print $NF}')
echo "sandbox at $URL"
EP="/v1/interactions/$TRACKER/files"

rss_kb() { awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$1"; }

echo "rep,client,seconds,MB_per_s,peak_rss_MB" | tee "$WORK/results.csv"
for rep in $(seq "$REPS"); do
  uptime
  # lbimport (transfer time from its own JSON; the sha256 pre-pass is excluded but reported)
  export LBIMPORT_CONFIG_DIR=$WORK/config LBIMPORT_DATA_DIR=$WORK/data
  rm -rf "$WORK/data" "$WORK/store"/*
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$WORK/time.lb" "$BIN" upload "$FILE" --tracker-id "$TRACKER" \
    --private-key-env BENCH_KEY --base-url "$URL" --yes --no-validate --allow-duplicate --json \
    >"$WORK/lb.json" 2>"$WORK/lb.err"
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  t=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['outcome']=='accepted', d; print(d['transfer_ms']/1000)" "$WORK/lb.json")
  rss=$(rss_kb "$WORK/time.lb")
  printf "%s,lbimport,%.2f,%.1f,%.1f\n" "$rep" "$t" "$(echo "$SIZE/$t/1000000" | bc -l)" "$(echo "$rss/1024" | bc -l)" | tee -a "$WORK/results.csv"
  printf "%s,lbimport-wall-incl-sha256,%.2f,%.1f,%.1f\n" "$rep" "$wall" "$(echo "$SIZE/$wall/1000000" | bc -l)" "$(echo "$rss/1024" | bc -l)" | tee -a "$WORK/results.csv"

  # curl -F with a correctly signed header (Expect: 100-continue off, as lbimport doesn't wait)
  rm -rf "$WORK/store"/*
  DATE=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  SIG=$(printf 'POST\nmultipart/form-data\n%s\n%s' "$DATE" "$EP" | openssl dgst -sha256 -hmac "$BENCH_KEY" -binary | base64)
  /usr/bin/time -v -o "$WORK/time.curl" curl -sS -o "$WORK/curl.out" -w '%{http_code} %{time_total}\n' \
    -H "Date: $DATE" -H "Authorization: ApiAuth $TRACKER:$SIG" -H 'Expect:' \
    -F "file=@$FILE;filename=bench.csv" "$URL$EP" >"$WORK/curl.w"
  read -r code t <"$WORK/curl.w"
  [ "$code" = 200 ] || { echo "curl got HTTP $code: $(cat "$WORK/curl.out")"; exit 1; }
  rss=$(rss_kb "$WORK/time.curl")
  printf "%s,curl,%.2f,%.1f,%.1f\n" "$rep" "$t" "$(echo "$SIZE/$t/1000000" | bc -l)" "$(echo "$rss/1024" | bc -l)" | tee -a "$WORK/results.csv"
done

python3 - "$WORK/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def col(client, key):
    return [float(r[key]) for r in rows if r["client"] == client]
lb, cu = col("lbimport", "MB_per_s"), col("curl", "MB_per_s")
print(f"median MB/s: lbimport {statistics.median(lb):.1f}, curl {statistics.median(cu):.1f}, "
      f"ratio {statistics.median(lb) / statistics.median(cu):.2f}")
print(f"best MB/s:   lbimport {max(lb):.1f}, curl {max(cu):.1f}, ratio {max(lb) / max(cu):.2f}")
print(f"peak RSS MB: lbimport {max(col('lbimport', 'peak_rss_MB')):.1f}, curl {max(col('curl', 'peak_rss_MB')):.1f}")
PY
