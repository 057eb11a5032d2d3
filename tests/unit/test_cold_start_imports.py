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
    "jinja2",  # the e-mail template sandbox, loaded by the first mail or template request
    "stripe",
    "paypalserversdk",  # each provider's SDK loads with its provider's first call
    "apimatic_core",
    "yookassa",
    "moto",
    "aws_lambda_powertools.utilities.batch",  # only the queue consumers use it, on their first batch
)


def test_importing_the_app_leaves_heavy_modules_for_the_first_request() -> None:
    probe = f"import sys, app; print(' '.join(m for m in {DEFERRED!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_declaring_the_routes_builds_no_request_or_answer_model() -> None:
    """Route declarations name their pydantic models through `model_refs`: ~150 model classes cost a cold start
    more than the rest of `import app` together, so each schema module loads with the first request needing it."""
    probe = "import sys, app; print(' '.join(m for m in sys.modules if m.endswith('.schemas')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
