#!/usr/bin/env python3
"""Large exports of the shapes in tests/fixtures/exports, with their expected output.

  exports_gen.py FIXTURE BYTES OUT OUT_EXPECTED

Repeats the fixture's data (everything after its header) until OUT holds about BYTES bytes.
Copy k renames every order id and user id (a number n to n + k·10^7, any other id to `<id>-k`
or `<id>+k`; placeholders such as `0` that the expected output leaves empty are kept), in the file's own encoding, delimiter,
quoting and line endings; the products and times stay. OUT_EXPECTED gets the fixture's
hand-written expected output (`*.expected.csv`) renamed the same way, so
`lbimport normalize OUT` must write exactly OUT_EXPECTED. Written independently of lbimport:
the columns to rename are the ones whose values are the expected output's order and user ids.
"""
import json
import os
import sys


def encoding_of(raw, name):
    if raw.startswith(b"\xff\xfe"):
        return "utf-16-le", b"\xff\xfe"
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8", b"\xef\xbb\xbf"
    if "windows1250" in name:
        return "cp1250", b""
    return "utf-8", b""


def records(text, delim):
    """CSV records of `text` with the (start, end) span of each field's text (quotes
    included) and the record's end (after its line ending)."""
    out, fields, i, start, quoted, n = [], [], 0, 0, False, len(text)
    while i < n:
        c = text[i]
        if quoted:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 2
                    continue
                quoted = False
            i += 1
            continue
        if c == '"' and i == start:
            quoted = True
        elif c == delim:
            fields.append((start, i))
            start = i + 1
        elif c in "\r\n":
            end = i
            i += 2 if text[i : i + 2] == "\r\n" else 1
            fields.append((start, end))
            out.append((fields, i))
            fields, start = [], i
            continue
        i += 1
    if start < n or fields:
        fields.append((start, n))
        out.append((fields, n))
    return out


def unquote(s):
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1].replace('""', '"')
    return s


def renamed(value, k, sep):
    # numbers stay numbers (a shop's numeric ids must not turn into text or decimals)
    if value.isdigit() and not value.startswith("0"):
        return str(int(value) + k * 10**7)
    return f"{value}{sep}{k}"


def rename(value, k, ids, users):
    if value in ids:
        return renamed(value, k, "-")
    if value in users:
        return renamed(value, k, "+")
    return None


def csv_copy(body, recs, cols, k, ids, users, base):
    """The data records `recs` (spans relative to `body`) with columns `cols` renamed."""
    parts, pos = [], base
    for fields, end in recs:
        for c in cols:
            if c < len(fields):
                a, b = fields[c]
                v = unquote(body[a:b])
                new = rename(v, k, ids, users)
                if new is not None:
                    parts.append(body[pos:a])
                    quoted = body[a:b].startswith('"')
                    parts.append(f'"{new}"' if quoted else new)
                    pos = b
        parts.append(body[pos:end])
        pos = end
    return "".join(parts)


def main(fixture, size, out, out_expected):
    name = os.path.basename(fixture)
    stem = name.rsplit(".", 1)[0]
    expected = open(os.path.join(os.path.dirname(fixture), stem + ".expected.csv"), encoding="utf-8").read()
    exp_recs = records(expected, ",")
    ids = {unquote(expected[f[0][0] : f[0][1]]) for f, _ in exp_recs}
    users = {unquote(expected[f[2][0] : f[2][1]]) for f, _ in exp_recs if len(f) > 2}
    users.discard("")
    raw = open(fixture, "rb").read()
    with open(out, "wb") as w, open(out_expected, "w", encoding="utf-8", newline="") as we:
        written, k = 0, 0
        if name.endswith(".jsonl") or name.endswith(".json"):
            whole = json.loads(raw) if name.endswith(".json") else None
            lines = None if whole is not None else [json.loads(l) for l in raw.decode().splitlines() if l.strip()]

            def walk(v, k):
                if isinstance(v, dict):
                    return {key: walk(x, k) for key, x in v.items()}
                if isinstance(v, list):
                    return [walk(x, k) for x in v]
                s = str(v) if isinstance(v, (int, str)) and not isinstance(v, bool) else None
                if s is not None:
                    new = rename(s, k, ids, users)
                    if new is not None:
                        return new
                return v

            if whole is not None:
                w.write(b"[")
            while written < size:
                k += 1
                if whole is not None:
                    chunk = ("," if k > 1 else "") + ",".join(json.dumps(walk(o, k)) for o in whole)
                else:
                    chunk = "".join(json.dumps(walk(o, k)) + "\n" for o in lines)
                data = chunk.encode()
                w.write(data)
                written += len(data)
                we.write(csv_copy(expected, exp_recs, [0, 2], k, ids, users, 0))
            if whole is not None:
                w.write(b"]")
            return
        enc, bom = encoding_of(raw, name)
        text = raw[len(bom) :].decode(enc)
        delim = ";" if "windows1250" in name else "\t" if name.endswith(".txt") else ","
        recs = records(text, delim)
        header_end = recs[0][1]
        data = recs[1:]
        # the columns whose values are the expected order / user ids
        cols = []
        width = max(len(f) for f, _ in data)
        for c in range(width):
            vals = {unquote(text[f[c][0] : f[c][1]]) for f, _ in data if c < len(f)}
            vals -= {"", "0", "guest", "NULL", "null", "N/A", "-"}
            if vals and (vals <= ids or vals <= users):
                cols.append(c)
        w.write(bom + text[:header_end].encode(enc))
        while written < size:
            k += 1
            chunk = csv_copy(text, data, cols, k, ids, users, header_end).encode(enc)
            w.write(chunk)
            written += len(chunk)
            we.write(csv_copy(expected, exp_recs, [0, 2], k, ids, users, 0))


if __name__ == "__main__":
    main(sys.argv[1], int(float(sys.argv[2])), sys.argv[3], sys.argv[4])
