"""Cold start: how long a fresh Python process takes to import the Lambda app, next to a bare `import boto3`.

Each sample is a new interpreter (as a Lambda cold start is), run with the `local` stage's environment from
.chalice/config.json; the kinds of sample are interleaved so machine noise hits them alike. Reported per kind:
median and p90 of the import's wall time (measured inside the process, interpreter start-up excluded), the
median wall time of the whole process, and the median peak RSS.

    .venv/bin/python bench/cold_start.py [--runs 21]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
GOAL_RATIO = 1.6

PROBE = """
import json, resource, time
start = time.perf_counter()
{statement}
elapsed = (time.perf_counter() - start) * 1000
print(json.dumps({{"ms": elapsed, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""

KINDS = {
    "import boto3": "import boto3",
    "import app": "import app",
    "import app + first request": (
        "import app\n"
        "event = {'requestContext': {'httpMethod': 'GET', 'resourcePath': '/api/v1/health', 'path': '/api/v1/health',"
        " 'identity': {'sourceIp': '127.0.0.1'}}, 'headers': {}, 'multiValueHeaders': {}, 'pathParameters': {},"
        " 'multiValueQueryStringParameters': None, 'body': None, 'isBase64Encoded': False, 'stageVariables': {}}\n"
        "assert app.app(event, None)['statusCode'] == 200"
    ),
    "import app + DynamoDB client": ("import app\nfrom chalicelib.store.connection import client\nclient()"),
    "import app + every lazy module": (
        "import app\n"
        "import chalicelib.auth.service, chalicelib.users.service, chalicelib.catalog.service\n"
        "import chalicelib.events.dispatch, chalicelib.seed.runner"
    ),
}


def stage_environment() -> dict[str, str]:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VBWD_", "AWS_ENDPOINT"))}
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"]["local"].get("environment_variables", {}))
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def sample(statement: str, env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = (time.perf_counter() - started) * 1000
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    result["process_ms"] = wall
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = stage_environment()
    samples: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    for statement in KINDS.values():  # warm the file-system cache once
        sample(statement, env)
    for _ in range(args.runs):
        for kind, statement in KINDS.items():
            samples[kind].append(sample(statement, env))
    rows = {}
    for kind, runs in samples.items():
        times = sorted(r["ms"] for r in runs)
        rows[kind] = {
            "median_ms": statistics.median(times),
            "p90_ms": times[int(0.9 * (len(times) - 1))],
            "process_ms": statistics.median(r["process_ms"] for r in runs),
            "rss_mb": statistics.median(r["rss_kb"] for r in runs) / 1024,
        }
    baseline = rows["import boto3"]["median_ms"]
    print(f"Cold start, {args.runs} fresh processes per kind, Python {sys.version.split()[0]}\n")
    print(f"{'kind':<32} {'median':>9} {'p90':>9} {'process':>9} {'peak RSS':>9} {'vs boto3':>9}")
    for kind, row in rows.items():
        print(
            f"{kind:<32} {row['median_ms']:>7.1f}ms {row['p90_ms']:>7.1f}ms {row['process_ms']:>7.1f}ms "
            f"{row['rss_mb']:>6.1f}MiB {row['median_ms'] / baseline:>8.2f}x"
        )
    ratio = rows["import app"]["median_ms"] / baseline
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    print(f"\nimport app / import boto3 = {ratio:.2f} ({verdict} the goal of ≤ {GOAL_RATIO}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
