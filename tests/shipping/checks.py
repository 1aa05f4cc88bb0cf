"""What the shipping checks share: the names rotation makes, and a tally
of passed and failed checks printed as `ok`/`FAIL` lines."""

import re

# The live file and its plain rotated names (`<kind>.log.<UTC time>Z`),
# the names Vector's file sources take; never `.gz`.
ROTATED = re.compile(r"^(?P<kind>audit|api|login|app)\.log(?P<rotated>\.\d{8}T\d{6}\.\d{6}Z)?$")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what} {detail}")

    def summary(self, name):
        print(f"{name}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
