#!/usr/bin/env bash
# `lbimport validate` on the benchmark files, this build against another one (e.g. main's),
# alternating so both see the same machine load, and a check that both reports are identical.
#
#   benches/validate.sh OTHER_LBIMPORT FILE...   (needs: cargo build --release, python3)
#   e.g. benches/validate.sh /work/target-main/release/lbimport /work/bench/big.csv /work/bench/big.json
#
# Files are only read. Reports go to a temporary directory that is removed afterwards.
set -euo pipefail
other=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CARGO_TARGET_DIR:-$root/target}/release/lbimport
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LBIMPORT_CONFIG_DIR=$work/cfg LBIMPORT_DATA_DIR=$work/data
cat "$@" > /dev/null # page cache warm
t() {
  local out=$1
  shift
  /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS, load $(cut -d' ' -f1 /proc/loadavg)" \
    "$@" --json > "$out" 2> "$work/time" || true
  tail -1 "$work/time"
}
same() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# when and where a report was made are not its contents
for r in (a, b):
    for k in ("validated_at", "validated_by", "file_absolute", "lbimport_version"):
        r.pop(k, None)
print("  reports identical" if a == b else "  REPORTS DIFFER")
PY
}
for f in "$@"; do
  for rep in 1 2 3; do
    echo "$(basename "$f") rep $rep"
    echo -n "  this build: "; t "$work/new.json" "$bin" validate "$f"
    echo -n "  other:      "; t "$work/old.json" "$other" validate "$f"
    same "$work/new.json" "$work/old.json"
  done
done
