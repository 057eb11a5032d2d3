"""`chalice local`, with API Gateway's greedy-route fallback, a deep listen backlog and no `Server` banner
(see infra/gateway.py).

Run as `python -m infra.chalice_local --host 127.0.0.1 --port 8000`; arguments are those of `chalice local`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.gateway import install_greedy_routes, install_local_server

PROJECT_DIR = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    install_greedy_routes()
    install_local_server()
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", "--project-dir", str(PROJECT_DIR), "local", "--no-autoreload", *argv]
    result = chalice_main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
