"""PASS/FAIL bookkeeping with the closing line `N passed, N failed` that CI reads."""

import sys
import time


class Report:
    """Counts checks; every check prints one line saying what was seen."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.lines = []
        self.started = time.monotonic()

    def check(self, name, ok, detail=""):
        """Record one assertion. `detail` must say what was observed, pass or fail."""
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        line = f"{'PASS' if ok else 'FAIL'} {name}: {detail}"
        self.lines.append(line)
        print(line, flush=True)
        return ok

    def skip(self, name, reason):
        """A check that could not run here (a missing tool); never hides a failure of the stack."""
        self.skipped += 1
        self.lines.append(f"SKIP {name}: {reason}")
        print(f"SKIP {name}: {reason}", flush=True)

    def info(self, msg):
        """Context for a human reading the log; not an assertion."""
        print(f"  .. {msg}", flush=True)

    def summary(self):
        line = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        return line

    def close(self):
        """Print the closing line and return the process exit code."""
        elapsed = time.monotonic() - self.started
        print(f"# resilience suite took {elapsed:.0f}s", flush=True)
        line = self.summary()
        print(line, flush=True)
        sys.stdout.flush()
        return 1 if self.failed else 0


def write_block(path, key, block):
    """Replace (or append) the block between `<!-- key:start -->` and `<!-- key:end -->` in `path`."""
    from pathlib import Path

    path = Path(path)
    text = path.read_text() if path.exists() else "# Resilience results\n"
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    if start in text and end in text:
        text = text.split(start)[0] + f"{start}\n{block}\n{end}" + text.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{start}\n{block}\n{end}\n"
    path.write_text(text)
