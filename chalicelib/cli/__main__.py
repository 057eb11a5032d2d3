"""`python -m chalicelib.cli <command>`: on the local stage, the endpoints of the running `make run` stack."""

from __future__ import annotations

import sys

from chalicelib.cli.commands import main, use_local_stack

if __name__ == "__main__":
    use_local_stack()
    sys.exit(main())
