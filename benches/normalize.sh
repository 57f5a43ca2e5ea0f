#!/usr/bin/env bash
# `lbimport normalize` vs `lbimport validate` on the same realistic 1 GB export
# (semicolons, header, BOM, d/m/Y local times, zero-padded ids, extra columns).
#
#   benches/normalize.sh [BYTES]      (default 1000000000; needs: cargo build --release, python3)
#
# Writes into a temporary directory that is removed afterwards.
set -euo pipefail
bytes=${1:-1000000000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CARGO_TARGET_DIR:-$root/target}/release/lbimport
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LBIMPORT_CONFIG_DIR=$work/cfg LBIMPORT_DATA_DIR=$work/data
python3 "$root/benches/normalize_gen.py" "$work/export.csv" "$bytes"
ls -l "$work/export.csv"
t() { echo -n "(load $(cut -d' ' -f1 /proc/loadavg)) "; /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" "$@" >/dev/null; }
for rep in 1 2 3; do
  echo "rep $rep"
  echo -n "  validate export.csv:         "; t "$bin" validate "$work/export.csv" 2>&1 || true
  echo -n "  normalize (no cleaning):     "; t "$bin" normalize "$work/export.csv" -o "$work/out.csv" --time-zone Europe/Bratislava --no-validate
  echo -n "  validate the normalized csv: "; t "$bin" validate "$work/out.csv" 2>&1 || true
  echo -n "  normalize --dedupe --trim:   "; t "$bin" normalize "$work/export.csv" -o "$work/out.csv" --time-zone Europe/Bratislava --dedupe --trim --no-validate
  echo -n "  dry run, every option:       "; t "$bin" normalize "$work/export.csv" --dry-run --time-zone Europe/Bratislava --dedupe --trim --max-order-items 100 --exclude-invalid
done
