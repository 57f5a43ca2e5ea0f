#!/usr/bin/env bash
# `lbimport validate` with and without the tracker checks (catalog, already sent), alternating
# so both see the same machine load.
#
#   benches/checks.sh FILE.csv     (needs: cargo build --release, python3 with `pip install xxhash`)
#
# A throwaway data directory gets three trackers: "cat" with a stored catalog of 1,000,000
# identities /product/20001 … /product/1020000 (imported with `lbimport catalog import`);
# "sent" with a sent set holding every order id of FILE (written by benches/checks_data.py,
# not by lbimport); "both" with both.
set -euo pipefail
file=$1
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CARGO_TARGET_DIR:-$root/target}/release/lbimport
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LBIMPORT_CONFIG_DIR=$work/cfg LBIMPORT_DATA_DIR=$work/data
"$bin" tracker add cat --tracker-id 1-1 --private-key-env BENCH_KEY >/dev/null 2>&1
"$bin" tracker add sent --tracker-id 1292-9381 --private-key-env BENCH_KEY >/dev/null 2>&1
"$bin" tracker add both --tracker-id 1292-9381 --private-key-env BENCH_KEY >/dev/null 2>&1
mkdir -p "$work/data/sent/1292-9381" && chmod -R 700 "$work/data"
python3 "$root/benches/checks_data.py" sent "$file" "$work/data/sent/1292-9381/20261101T000000000000Z-000000000000.bin"
python3 "$root/benches/checks_data.py" catalog 1000000 20000 "$work/catalog.txt"
"$bin" catalog import --tracker cat "$work/catalog.txt" >/dev/null
"$bin" catalog import --tracker both "$work/catalog.txt" >/dev/null
ls -l "$work/data/catalogs"
cat "$file" > /dev/null # page cache warm
t() {
  local out=$1
  shift
  /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS, load $(cut -d' ' -f1 /proc/loadavg)" \
    "$@" --json > "$out" 2> "$work/time" || true
  tail -1 "$work/time"
}
for rep in 1 2 3 4 5; do
  echo "rep $rep"
  echo -n "  no checks:          "; t "$work/a.json" "$bin" validate "$file"
  echo -n "  catalog (1 M ids):  "; t "$work/c.json" "$bin" validate "$file" --tracker cat
  echo -n "  sent (9 M orders):  "; t "$work/s.json" "$bin" validate "$file" --tracker sent
  echo -n "  both:               "; t "$work/b.json" "$bin" validate "$file" --tracker both
done
python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print("stats identical:", a["stats"] == b["stats"])
c, s = b.get("catalog"), b.get("already_sent")
print("catalog:", {k: c[k] for k in ("catalog_identities", "rows", "rows_matched", "identities", "identities_matched")})
print("already_sent:", {k: s[k] for k in ("orders", "rows", "file_orders", "uploads_compared")})
PY
