"""`make run`: the whole system on this machine.

Starts moto's AWS server (unless AWS_EMULATOR=external, e.g. LocalStack from docker-compose), creates the stage's
resources, seeds the demo data, then runs `chalice local` (the API), the worker (outbox relay and queue
consumers) and the scheduler (scheduled jobs) as child processes. SIGINT or SIGTERM stops every child; the ports
are free again when this process exits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from infra.local_env import api_port, aws_port, local_environment

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = PROJECT_DIR / ".local" / "logs"
MOTO_NOTE = "moto server, log in .local/logs/moto.log"
STOP_TIMEOUT = 8.0

LOGINS = (
    ("admin@example.com", "AdminPass123@", "ADMIN (every permission)"),
    ("super@example.com", "SuperPass123@", "SUPER_ADMIN"),
    ("observer@example.com", "ObserverPass123@", "ADMIN, read-only"),
    ("test@example.com", "TestPass123@", "USER with an active subscription"),
    ("user.pro@demo.local", "DemoPass123!", "USER on Pro, 200 tokens"),
    ("user.de@demo.local", "DemoPass123!", "USER billed in Germany (19 % VAT)"),
)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f} s")


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


class Stack:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[Any]]] = []
        self.stopping = False

    def start(
        self, name: str, args: list[str], env: dict[str, str], log_file: Path | None = None
    ) -> subprocess.Popen[Any]:
        output = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            output = log_file.open("ab")
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        if output is not None:
            output.close()
        self.children.append((name, process))
        return process

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


def banner(api: int, aws: int, external: bool) -> str:
    lines = [
        "",
        "VBWD Serverless is running (stage: local)",
        f"  API        http://127.0.0.1:{api}/api/v1   (health: http://127.0.0.1:{api}/api/v1/health)",
        f"  AWS        http://127.0.0.1:{aws}          ({'external emulator' if external else MOTO_NOTE})",
        "  Worker     relays outbox events and drains the consumer queues",
        "  Scheduler  fires the scheduled jobs",
        "",
        "  Demo logins:",
    ]
    lines += [f"    {email:<24} {password:<18} {role}" for email, password, role in LOGINS]
    lines += ["", "Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


def main() -> int:
    aws, api = aws_port(), api_port()
    external = os.environ.get("AWS_EMULATOR", "moto") == "external"
    env = dict(os.environ)
    for key, value in local_environment(aws).items():
        env.setdefault(key, value)
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    stack = Stack()

    def request_stop(*_: Any) -> None:
        stack.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if not external:
            if not port_is_free(aws):
                print(f"Port {aws} is taken; set AWS_PORT to another port.", file=sys.stderr)
                return 2
            moto = stack.start(
                "moto server", ["-m", "moto.server", "-H", "127.0.0.1", "-p", str(aws)], env, LOG_DIR / "moto.log"
            )
            wait_for_port(aws, 30, moto)
        if not port_is_free(api):
            print(f"Port {api} is taken; set API_PORT to another port.", file=sys.stderr)
            stack.stop()
            return 2
        from chalicelib.core.config import reload_settings
        from chalicelib.seed.runner import seed
        from infra.bootstrap import bootstrap

        settings = reload_settings()
        created = bootstrap(settings)["created_tables"]
        print(f"Resources of {settings.prefix} ready ({len(created)} tables created)", flush=True)
        report = seed()
        print(f"Seed data in place ({report.get('users', 0)} users created this time)", flush=True)
        api_process = stack.start(
            "api", ["-m", "infra.chalice_local", "--host", "127.0.0.1", "--port", str(api), "--stage", "local"], env
        )
        wait_for_http(f"http://127.0.0.1:{api}/api/v1/health", 60, api_process)
        stack.start("worker", ["-m", "infra.worker"], env)
        stack.start("scheduler", ["-m", "infra.scheduler"], env)
        print(banner(api, aws, external), flush=True)
        while not stack.stopping:
            problem = stack.crashed()
            if problem:
                print(f"Stopping: {problem}", file=sys.stderr, flush=True)
                stack.stop()
                return 1
            time.sleep(0.3)
        print("\nStopping…", flush=True)
        return 0
    except Exception as exc:
        print(f"make run failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
