"""The local HTTP server of `make run` (chalice local, tuned in infra/gateway.py): bursts and banners."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from chalice.app import Chalice
from chalice.config import Config

from infra.gateway import install_local_server

BURST = 100


@pytest.fixture
def local_server() -> Iterator[object]:
    """A chalice local server, bound and listening but not yet accepting (the tests start its loop)."""
    install_local_server()
    from chalice.local import create_local_server

    app = Chalice("burst")

    @app.route("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    server = create_local_server(app, Config(chalice_stage="local"), "127.0.0.1", 0)
    try:
        yield server
    finally:
        server.server.server_close()


def serve(server: object) -> threading.Thread:
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_a_burst_of_100_new_connections_is_queued_and_every_one_answered(local_server: object) -> None:
    port = local_server.server.server_address[1]  # type: ignore[attr-defined]
    sockets = [socket.socket() for _ in range(BURST)]
    try:
        for client in sockets:
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
        # Nothing accepts yet, so every handshake must complete into the listen backlog. With socketserver's
        # backlog of 5 the kernel drops the SYNs past it and those clients wait a second or more to retry.
        pending, deadline = set(sockets), time.monotonic() + 0.5
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], list(pending), [], 0.05)
            pending -= set(writable)
        assert not pending, f"{len(pending)} of {BURST} connections were not queued"
        assert all(client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for client in sockets)

        thread = serve(local_server)
        for client in sockets:
            client.setblocking(True)
            client.settimeout(10)
            client.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answers = [read_all(client) for client in sockets]
    finally:
        for client in sockets:
            client.close()
    assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers), answers[:3]
    assert all(answer.endswith(b'{"ok":true}') for answer in answers)
    local_server.server.shutdown()  # type: ignore[attr-defined]
    thread.join(5)


def test_answers_carry_no_server_banner(local_server: object) -> None:
    port = local_server.server.server_address[1]  # type: ignore[attr-defined]
    thread = serve(local_server)
    try:
        for request in (
            b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"BOGUS /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  # http.server itself answers 501
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(request)
                head = read_all(client).split(b"\r\n\r\n", 1)[0].decode("latin-1")
            names = [line.split(":", 1)[0].lower() for line in head.split("\r\n")[1:]]
            assert head.startswith("HTTP/1.")
            assert "server" not in names, head
            assert "Python" not in head and "BaseHTTP" not in head
    finally:
        local_server.server.shutdown()  # type: ignore[attr-defined]
        thread.join(5)


def read_all(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
