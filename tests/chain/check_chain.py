#!/usr/bin/env python3
"""Re-verifies a chained audit.log trail with nothing but the standard
library, by the recipe in the chain guide: a third party's check.

usage: check_chain.py DIR [NAME]   (NAME defaults to audit.log)
Exits 0 when every record's hash and link hold, 1 otherwise.
"""
import gzip, hashlib, json, os, re, sys

directory = sys.argv[1]
name = sys.argv[2] if len(sys.argv) > 2 else "audit.log"
rotated = re.compile(re.escape(name) + r"\.\d{8}T\d{6}\.\d{6}Z(\.gz)?$")
files = sorted(f for f in os.listdir(directory) if rotated.match(f))
files.append(name)
prev, seq, records = "0" * 64, 0, 0
for f in files:
    path = os.path.join(directory, f)
    opener = gzip.open if f.endswith(".gz") else open
    with opener(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip(b"\n")
            cut = line.rindex(b',"hash":"')
            record = json.loads(line)
            where = f"{f}:{number}"
            if record["prev_hash"] != prev or record["seq"] != seq + 1:
                sys.exit(f"{where}: does not follow seq {seq}")
            if hashlib.sha256(line[:cut] + b"}").hexdigest() != record["hash"]:
                sys.exit(f"{where}: hash does not match")
            prev, seq, records = record["hash"], record["seq"], records + 1
print(f"python check: {len(files)} files, {records} records, last seq {seq}: intact")
