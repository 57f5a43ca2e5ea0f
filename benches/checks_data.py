#!/usr/bin/env python3
"""Data for benches/checks.sh, written independently of lbimport (Python's xxhash and hashlib).

  checks_data.py sent FILE.csv SET_PATH      the file's distinct order ids as a sent set
                                             (format of src/config/sent.rs, version 1)
  checks_data.py catalog N SKIP OUT.txt      a catalog of N identities /product/SKIP+1 ...
                                             (one per line, as `catalog import` reads it)
"""
import hashlib
import struct
import sys

import xxhash  # pip install xxhash


def varint(v, out):
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def sent(csv_path, set_path):
    hashes = set()
    with open(csv_path, "rb") as f:
        for line in f:
            order = line.split(b",", 1)[0]
            if order:
                hashes.add(xxhash.xxh3_64_intdigest(order))
    hs = sorted(hashes)
    out = bytearray(b"LBSENT\0\n")
    out += struct.pack("<IQ", 1, len(hs))
    prev = 0
    for i, h in enumerate(hs):
        varint(h if i == 0 else h - prev, out)
        prev = h
    out += hashlib.sha256(out).digest()[:8]
    with open(set_path, "wb") as f:
        f.write(out)
    print(f"{len(hs)} orders, {len(out)} bytes ({len(out) / len(hs):.2f} B per order)")


def catalog(n, skip, out_path):
    with open(out_path, "w") as f:
        for i in range(skip + 1, skip + n + 1):
            f.write(f"/product/{i}\n")


if __name__ == "__main__":
    if sys.argv[1] == "sent":
        sent(sys.argv[2], sys.argv[3])
    else:
        catalog(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
