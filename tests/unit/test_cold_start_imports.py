"""Importing the app must not load what only requests need (the cold-start budget, docs/performance.md).

Powertools imports the top-level `botocore` package for its user agent (a few hundred microseconds); the client
machinery behind it must wait.
"""

import subprocess
import sys

DEFERRED = (
    "botocore.client",
    "botocore.session",
    "boto3",
    "pynamodb",
    "jwt",
    "bcrypt",
    "fpdf",
    "stripe",
    "moto",
    "aws_lambda_powertools.utilities.batch",  # only the queue consumers use it, on their first batch
)


def test_importing_the_app_leaves_heavy_modules_for_the_first_request() -> None:
    probe = f"import sys, app; print(' '.join(m for m in {DEFERRED!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
