"""`make check`: the invariants of issue 7 §8 over the stage the environment points at (the running `make run`
stack by default). Exits 1 when one is violated, printing each violation."""

from __future__ import annotations

import sys

from infra.local_env import apply_local_environment


def main() -> int:
    apply_local_environment()
    from chalicelib.audit.invariants import check_all, report
    from chalicelib.core import clock

    violations = check_all(clock.now())
    print(report(violations))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
