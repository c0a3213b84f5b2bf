"""PASS/FAIL bookkeeping with the closing line `N passed, N failed` that CI reads."""

import sys
import time


class Report:
    """Counts checks; every check prints one line saying what was seen."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.started = time.monotonic()

    def check(self, name, ok, detail=""):
        """Record one assertion. `detail` must say what was observed, pass or fail."""
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        return ok

    def skip(self, name, reason):
        """A check that could not run here (a missing tool); never hides a failure of the stack."""
        self.skipped += 1
        print(f"SKIP {name}: {reason}", flush=True)

    def info(self, msg):
        """Context for a human reading the log; not an assertion."""
        print(f"  .. {msg}", flush=True)

    def close(self):
        """Print the closing line and return the process exit code."""
        elapsed = time.monotonic() - self.started
        print(f"# resilience suite took {elapsed:.0f}s", flush=True)
        line = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        print(line, flush=True)
        sys.stdout.flush()
        return 1 if self.failed else 0
