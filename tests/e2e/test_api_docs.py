"""The interactive API page of the local stage, rendered by a real browser (Debian's headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest
import requests

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(url: str) -> str:
    """The page's DOM after its scripts ran (headless, no network beyond loopback, a throwaway profile)."""
    assert CHROMIUM is not None, "chromium is not installed: `make e2e` installs Debian's chromium when run as root"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode(errors="replace")


def test_the_docs_page_renders_every_operation(local_stack: LocalStack) -> None:
    document = requests.get(local_stack.url("/api/v1/openapi.json"), timeout=30).json()
    expected = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    dom = rendered_dom(local_stack.url("/api/v1/docs"))
    assert "VBWD Serverless API" in dom
    shown = set()
    for block in re.finditer(r'<div class="opblock opblock-(\w+)[^"]*"[^>]*id="([^"]+)"', dom):
        shown.add(block.group(1).upper())
    paths = set(re.findall(r'data-path="([^"]+)"', dom))
    missing = {path for _, path in expected} - paths
    assert not missing, f"operations the page does not show: {sorted(missing)[:10]}"
    assert {"GET", "POST"} <= shown


def test_the_docs_page_keeps_to_its_own_assets(local_stack: LocalStack) -> None:
    page = requests.get(local_stack.url("/api/v1/docs"), timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "http" not in re.sub(
        r"https?://127\.0\.0\.1[^\"']*", "", "".join(re.findall(r'(?:src|href)="([^"]+)"', page.text))
    )
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        answer = requests.get(local_stack.url(f"/api/v1/docs/{asset}"), timeout=30)
        assert answer.status_code == 200 and len(answer.content) > 1000
    assert requests.get(local_stack.url("/api/v1/docs/../../etc/passwd"), timeout=30).status_code == 404
