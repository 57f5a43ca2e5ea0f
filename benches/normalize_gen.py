#!/usr/bin/env python3
"""Write a realistic shop export: semicolons, a header, d/m/Y H:M local times, zero-padded
order ids, extra columns. Usage: normalize_gen.py OUT TARGET_BYTES"""
import random, sys
out, target = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
names = ["Red shoe", "Blue hat", "Socks 3-pack", "Winter jacket", "Scarf; wool", "Gloves"]
with open(out, "w", encoding="utf-8", newline="\n") as f:
    f.write("\ufeffDatum;Order ID;Customer;SKU;Price;Qty;Name\n")
    size, order, buf = 0, 100000, []
    day, minute = 0, 0
    while size < target:
        order += 1
        minute += rng.randint(1, 7)
        d = 1 + (minute // 1440) % 28
        m = 1 + (minute // (1440 * 28)) % 12
        y = 2021 + (minute // (1440 * 28 * 12)) % 4
        ts = f"{d:02d}/{m:02d}/{y} {(minute // 60) % 24:02d}:{minute % 60:02d}"
        cust = f"C{rng.randint(1, 400000):07d}" if rng.random() < 0.8 else ""
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 6))):
            p = rng.randint(1, 200000)
            name = f"{names[p % len(names)]} {p}"
            if ";" in name:
                name = '"' + name + '"'
            line = f"{ts};{order:010d};{cust};/p/{p};{p % 97},{p % 100:02d};{1 + p % 3};{name}\n"
            buf.append(line)
            size += len(line)
        if len(buf) > 20000:
            f.write("".join(buf)); buf = []
    f.write("".join(buf))
