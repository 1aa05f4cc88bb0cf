"""Shipping under rotation: a lagging tailer built like Vector's file source
must get every line the crate wrote exactly once.

    python tests/shipping/rotation_check.py <path of the shipping example binary>

The tailer follows `examples/shipping/vector.toml`: it polls the directory
every 500 ms (Vector's glob cooldown), takes the files the include patterns
name (`<kind>.log` and `<kind>.log.<UTC time>Z`, never `.gz`), knows a file
by the checksum of its first line (fingerprint.strategy = "checksum"), keeps
a checkpoint per fingerprint, and reads at most 64 KiB per file per poll, so
it falls behind a writer that rotates every few tens of milliseconds. The
same run is made three ways:

  recommended       rotated names included, gzip after the default delay
  live name only    only `<kind>.log` included (what the issue measured)
  gzip at once      compress_after(0): rotated files turn .gz before read

The recommended one must ship every line once; the other two show what it
prevents (their losses are printed, and must be non-zero, else the run did
not rotate fast enough to test anything).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import zlib

from checks import ROTATED, Tally

TALLY = Tally()
check = TALLY.check

POLL_SECONDS = 0.5
READ_BUDGET = 64 * 1024




class Tailer:
    def __init__(self, directory, rotated_names):
        self.directory = directory
        self.rotated_names = rotated_names
        self.checkpoints = {}  # fingerprint -> offset
        self.seen = {}  # event_id -> times shipped
        self.lines_by_kind = {}

    def poll(self):
        """One pass over the files; returns the number of lines read."""
        read = 0
        for name in sorted(os.listdir(self.directory)):
            m = ROTATED.match(name)
            if not m or (m.group("rotated") and not self.rotated_names):
                continue
            try:
                with open(os.path.join(self.directory, name), "rb") as f:
                    first = f.readline()
                    if not first.endswith(b"\n"):
                        continue  # no full first line yet: no fingerprint
                    fingerprint = zlib.crc32(first)
                    offset = self.checkpoints.get(fingerprint, 0)
                    f.seek(offset)
                    data = f.read(READ_BUDGET)
            except FileNotFoundError:
                continue  # renamed or compressed away between list and open
            end = data.rfind(b"\n") + 1
            for line in data[:end].splitlines():
                record = json.loads(line)
                self.seen[record["event_id"]] = self.seen.get(record["event_id"], 0) + 1
                kind = m.group("kind")
                self.lines_by_kind[kind] = self.lines_by_kind.get(kind, 0) + 1
                read += 1
            self.checkpoints[fingerprint] = offset + end
        return read


def run(binary, label, rotated_names, extra_args):
    print(f"{label}:")
    with tempfile.TemporaryDirectory() as tmp:
        directory = os.path.join(tmp, "logs")
        args = [binary, "--dir", directory, "--rounds", "3000", "--pause-us", "1000",
                "--max-file-size", "65536"] + extra_args
        start = time.monotonic()
        writer = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not os.path.isdir(directory):
            time.sleep(0.01)
        tailer = Tailer(directory, rotated_names)
        while writer.poll() is None:
            tailer.poll()
            time.sleep(POLL_SECONDS)
        seconds = time.monotonic() - start
        if writer.returncode != 0:
            raise SystemExit(f"writer failed: {writer.stderr.read().decode()}")
        # The writer is done; the tailer catches up until a pass finds nothing.
        while tailer.poll():
            pass
        expected = json.load(open(os.path.join(directory, "expected.json"), encoding="utf-8"))
        made = sum(expected["rows"].values())
        files = [n for n in os.listdir(directory) if n != "expected.json"]
        rotations = len([n for n in files if not ROTATED.match(n) or ROTATED.match(n).group("rotated")])
        shipped = len(tailer.seen)
        twice = sum(1 for n in tailer.seen.values() if n > 1)
        lost = made - shipped
        print(f"  {made} lines written in {seconds:.1f} s, {rotations} rotations "
              f"(one every {1000 * seconds / max(rotations, 1):.0f} ms across 4 files); "
              f"shipped {shipped}, lost {lost} ({100 * lost / made:.1f}%), twice {twice}")
        return made, shipped, twice, rotations


def main():
    binary = sys.argv[1]
    made, shipped, twice, rotations = run(binary, "recommended (rotated names, gzip after 5 min)", True,
                                          ["--compress-after-ms", "300000"])
    check("the writer rotated at least 20 times", rotations >= 20, rotations)
    check("every line shipped", shipped == made, (shipped, made))
    check("no line shipped twice", twice == 0, twice)

    made, shipped, twice, _ = run(binary, "live name only", False, [])
    check("without the rotated names, lines are lost (what the recommended config prevents)", shipped < made, (shipped, made))

    made, shipped, twice, _ = run(binary, "rotated names, but gzip at once", True, ["--compress-after-ms", "0"])
    check("with gzip at once, lines are lost (what compress_after prevents)", shipped < made, (shipped, made))

    return TALLY.summary("rotation check")


if __name__ == "__main__":
    sys.exit(main())
