"""`make seed`: seed the stage the environment points at (idempotent)."""

from __future__ import annotations

import json

from infra.local_env import apply_local_environment

if __name__ == "__main__":
    apply_local_environment()
    from chalicelib.seed.runner import seed

    print(json.dumps(seed(), indent=2))
