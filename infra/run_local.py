"""`make run`: the whole system on this machine.

Starts DynamoDB Local (AWS's own DynamoDB engine, on Java 17+; infra/dynamodb_local.py) and moto's AWS server for
SQS, EventBridge, SES, SSM and SNS (unless AWS_EMULATOR=external, e.g. LocalStack from docker-compose), creates the
stage's resources, seeds the demo data, then runs `chalice local` (the API), the worker (outbox relay and queue
consumers) and the scheduler (scheduled jobs) as child processes. SIGINT or SIGTERM stops every child, Java
included; the ports are free again when this process exits. Every child names the stack's clock file in
`VBWD_CLOCK_FILE` (`infra/local_env.py`), so moving the clock with `POST /api/v1/admin/dev/clock` moves the "now"
of all of them; each run starts on the real time (the file is removed at start and at exit).

`DYNAMODB_ENGINE` picks the DynamoDB: `auto` (the default) is DynamoDB Local when Java 17+ and the npm package are
present, else moto's server with its DynamoDB calls made one at a time (infra/moto_server.py) — moto interleaves
concurrent transactions, and a local stack on it would lose money under parallel requests. `dynamodb-local` or
`moto` insist on one. An `AWS_ENDPOINT_URL_DYNAMODB` set by the caller is used as it is (`external`). The children
get the engine's name in `DYNAMODB_ENGINE`; the API reports it at /api/v1/health.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import dynamodb_local
from infra.local_env import api_port, aws_port, dynamodb_port, local_environment, stack_file
from infra.ports import port_is_free, wait_for_port

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = PROJECT_DIR / ".local" / "logs"
STOP_TIMEOUT = 8.0
ENGINES = ("auto", "dynamodb-local", "moto")
NAMES = {"stripe": "Stripe", "paypal": "PayPal", "yookassa": "YooKassa"}

LOGINS = (
    ("admin@example.com", "AdminPass123@", "ADMIN (every permission)"),
    ("super@example.com", "SuperPass123@", "SUPER_ADMIN"),
    ("observer@example.com", "ObserverPass123@", "ADMIN, read-only"),
    ("test@example.com", "TestPass123@", "USER with an active subscription"),
    ("user.pro@demo.local", "DemoPass123!", "USER on Pro, 200 tokens"),
    ("user.de@demo.local", "DemoPass123!", "USER billed in Germany (19 % VAT)"),
)


def wait_for_http(url: str, timeout: float, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — our own loopback URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclass(frozen=True)
class DynamoDBChoice:
    """Which DynamoDB `make run` uses, and why (the banner says both)."""

    engine: str  # "dynamodb-local", "moto" or "external" (the names /api/v1/health reports)
    reason: str
    java: str | None = None


def choose_dynamodb(environ: Mapping[str, str], java: str | None, installed: bool) -> DynamoDBChoice:
    """Resolve `DYNAMODB_ENGINE` against what this machine has (see the module docstring)."""
    external_emulator = environ.get("AWS_EMULATOR", "moto") == "external"
    if environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        return DynamoDBChoice("external", "AWS_ENDPOINT_URL_DYNAMODB")
    requested = environ.get("DYNAMODB_ENGINE", "auto") or "auto"
    if requested not in ENGINES:
        raise ValueError(f"DYNAMODB_ENGINE must be one of {', '.join(ENGINES)}, not {requested!r}")
    if requested != "moto" and java is not None and installed:
        return DynamoDBChoice("dynamodb-local", "Java 17+ present", java)
    if requested == "dynamodb-local":
        missing = "Java 17 or later on PATH" if java is None else "the npm package (run `npm ci`)"
        raise ValueError(f"DYNAMODB_ENGINE=dynamodb-local needs {missing}")
    if external_emulator:
        return DynamoDBChoice("external", "the emulator on AWS_PORT")
    if requested == "moto":
        return DynamoDBChoice("moto", "DYNAMODB_ENGINE=moto")
    return DynamoDBChoice("moto", "no Java 17+ for DynamoDB Local" if java is None else "DynamoDB Local not installed")


def dynamodb_local_installed() -> bool:
    try:
        dynamodb_local.jar_path()
    except dynamodb_local.NotInstalled:
        return False
    return True


class Stack:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[Any]]] = []
        self.stopping = False

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_file: Path | None = None,
        cwd: Path = PROJECT_DIR,
    ) -> subprocess.Popen[Any]:
        output = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            output = log_file.open("ab")
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT if output else None)
        if output is not None:
            output.close()
        self.children.append((name, process))
        return process

    def python(self, name: str, args: list[str], env: dict[str, str], log_file: Path | None = None) -> Any:
        return self.start(name, [sys.executable, *args], env, log_file)

    def stop(self) -> None:
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", flush=True)
                process.kill()
                process.wait()

    def crashed(self) -> str | None:
        for name, process in self.children:
            if process.poll() is not None:
                return f"{name} exited with {process.returncode}"
        return None


def start_provider_emulators(api: int, env: dict[str, str]) -> list[Any]:
    """Stripe, PayPal and YooKassa emulated on loopback ports (infra/emulators/), their webhooks posted to the API,
    the API's providers pointed at them, and YooKassa's plugin and method switched on for this stack — unless the
    developer configured a provider's own keys (then that provider talks to its vendor) or set
    `PROVIDER_EMULATORS=0`."""
    if env.get("PROVIDER_EMULATORS", "1") == "0":
        return []
    from chalicelib.events.envelope import Actor
    from infra.emulators.base import http_deliverer
    from infra.emulators.providers import start

    own = {"stripe": "STRIPE_SECRET_KEY", "paypal": "PAYPAL_CLIENT_ID", "yookassa": "YOOKASSA_SHOP_ID"}

    def deliver_for(code: str) -> Any:
        return http_deliverer(f"http://127.0.0.1:{api}/api/v1/plugins/{code}/webhook")

    started = [e for e in start(deliver_for) if not env.get(own[e.code])]
    for emulated in started:
        env.update(emulated.environment)
        os.environ.update(emulated.environment)
        emulated.emulator.auto_flush()
    if any(e.code == "yookassa" for e in started):
        from chalicelib.admin_settings.plugins import enable_plugin
        from chalicelib.admin_settings.service import activate_payment_method
        from chalicelib.core.ids import seed_id

        system = Actor("system", None)
        enable_plugin(system, "yookassa")
        activate_payment_method(system, seed_id("payment_method", "yookassa"), True)
    from chalicelib.core.config import reload_settings

    reload_settings()
    return started


def banner(
    api: int,
    aws: int,
    external: bool,
    choice: DynamoDBChoice,
    dynamodb_url: str,
    loopback: bool,
    providers: list[Any] | None = None,
) -> str:
    if choice.engine == "dynamodb-local":
        where = "" if loopback else "; listens on every interface (no javac to build the loopback launcher)"
        dynamodb = f"DynamoDB Local (AWS's engine, in memory{where}), log in .local/logs/dynamodb-local.log"
        services = "SQS, EventBridge, SES, SSM, SNS"
    elif choice.engine == "moto":
        dynamodb = f"moto server, one DynamoDB call at a time ({choice.reason})"
        services = "DynamoDB, SQS, EventBridge, SES, SSM, SNS"
    else:
        dynamodb = f"external ({choice.reason})"
        services = "SQS, EventBridge, SES, SSM, SNS" if dynamodb_url != f"http://127.0.0.1:{aws}" else "every service"
    aws_note = "external emulator" if external else "moto server, log in .local/logs/moto.log"
    lines = [
        "",
        "VBWD Serverless is running (stage: local)",
        f"  API        http://127.0.0.1:{api}/api/v1   (health: http://127.0.0.1:{api}/api/v1/health)",
        f"  DynamoDB   {dynamodb_url:<30} {dynamodb}",
        f"  AWS        {f'http://127.0.0.1:{aws}':<30} {services} ({aws_note})",
        "  Worker     relays outbox events and drains the consumer queues",
        *[
            f"  {NAMES[e.code]:<10} {e.emulator.base_url:<30} {NAMES[e.code]}'s emulator (hosted page, signed webhooks)"
            for e in providers or []
        ],
        "  Scheduler  fires the scheduled jobs",
        "",
        "  Demo logins:",
    ]
    lines += [f"    {email:<24} {password:<18} {role}" for email, password, role in LOGINS]
    lines += [
        "",
        "  Admin CLI (another terminal, this stack): .venv/bin/python -m chalicelib.cli <command>",
        "    create-admin --email E --password P [--super] · reset-password --email E [--password P]",
        "    run-job <name> · check · reconcile-analytics",
        "    export-invoices --from YYYY-MM-DD --to YYYY-MM-DD [--out file.csv]",
    ]
    lines += ["", "Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


def taken(port: int, variable: str) -> bool:
    if port_is_free(port):
        return False
    print(f"Port {port} is taken; set {variable} to another port.", file=sys.stderr)
    return True


def main() -> int:
    aws, api, ddb = aws_port(), api_port(), dynamodb_port()
    external = os.environ.get("AWS_EMULATOR", "moto") == "external"
    try:
        choice = choose_dynamodb(os.environ, dynamodb_local.find_java(), dynamodb_local_installed())
    except ValueError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    for key, value in local_environment(aws).items():
        env.setdefault(key, value)
    if choice.engine == "dynamodb-local":
        env["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://127.0.0.1:{ddb}"
    env["DYNAMODB_ENGINE"] = choice.engine
    os.environ.update(env)
    clock_path = Path(env["VBWD_CLOCK_FILE"])
    dynamodb_url = env.get("AWS_ENDPOINT_URL_DYNAMODB") or env["AWS_ENDPOINT_URL"]
    if (
        (not external and taken(aws, "AWS_PORT"))
        or (choice.engine == "dynamodb-local" and taken(ddb, "DYNAMODB_PORT"))
        or taken(api, "API_PORT")
    ):
        return 2
    stack = Stack()
    state = stack_file(aws)

    def request_stop(*_: Any) -> None:
        stack.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        loopback = True
        waits: list[tuple[int, subprocess.Popen[Any]]] = []
        if choice.engine == "dynamodb-local":
            how = dynamodb_local.launch(ddb, choice.java)
            loopback = how.loopback_only
            java = stack.start("DynamoDB Local", how.argv, env, LOG_DIR / "dynamodb-local.log", cwd=how.cwd)
            waits.append((ddb, java))
        if not external:
            moto = stack.python(
                "moto server", ["-m", "infra.moto_server", "-H", "127.0.0.1", "-p", str(aws)], env, LOG_DIR / "moto.log"
            )
            waits.append((aws, moto))
        for port, process in waits:
            wait_for_port(port, dynamodb_local.START_TIMEOUT, process)
        state.parent.mkdir(parents=True, exist_ok=True)
        _forget_clock(clock_path)  # a new stack starts on the real time
        from chalicelib.core import clock

        clock.use_clock(clock.from_environment(os.environ))  # the seed below runs on the stack's clock
        recorded = {"AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url, "DYNAMODB_ENGINE": choice.engine}
        state.write_text(json.dumps(recorded))
        from chalicelib.core.config import reload_settings
        from chalicelib.seed.runner import seed
        from infra.bootstrap import bootstrap

        settings = reload_settings()
        created = bootstrap(settings)["created_tables"]
        print(f"Resources of {settings.prefix} ready ({len(created)} tables created)", flush=True)
        report = seed()
        print(f"Seed data in place ({report.get('users', 0)} users created this time)", flush=True)
        providers = start_provider_emulators(api, env)
        api_process = stack.python(
            "api", ["-m", "infra.chalice_local", "--host", "127.0.0.1", "--port", str(api), "--stage", "local"], env
        )
        wait_for_http(f"http://127.0.0.1:{api}/api/v1/health", 60, api_process)
        stack.python("worker", ["-m", "infra.worker"], env)
        stack.python("scheduler", ["-m", "infra.scheduler"], env)
        print(banner(api, aws, external, choice, dynamodb_url, loopback, providers), flush=True)
        while not stack.stopping:
            problem = stack.crashed()
            if problem:
                print(f"Stopping: {problem}", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.3)
        print("\nStopping…", flush=True)
        return 0
    except Exception as exc:
        print(f"make run failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()
        state.unlink(missing_ok=True)
        _forget_clock(clock_path)


def _forget_clock(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.lock").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
