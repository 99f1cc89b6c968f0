"""-H 'Host: ...' replaces the automatic Host header (ws:// and ws-r:), as a `websockets` server sees it."""

from __future__ import annotations

import pytest
from conftest import RecordingServer, Websocat
from websockets.sync.server import ServerConnection


class HostRecordingServer(RecordingServer):
    """Records the Host headers of the first request, too."""

    hosts: list[str] | None = None

    def _handler(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        if self.hosts is None:
            self.hosts = conn.request.headers.get_all("Host")
        super()._handler(conn)


def _server(ws_server: type[RecordingServer]) -> HostRecordingServer:
    cls = type("Recording", (HostRecordingServer, ws_server), {})
    server = cls()
    assert isinstance(server, HostRecordingServer)
    return server


@pytest.mark.parametrize("form", ["ws://", "ws-ll-c:ws-r:"])
def test_explicit_host_header_replaces_the_automatic_one(
    websocat: Websocat, ws_server: type[RecordingServer], form: str
) -> None:
    server = _server(ws_server)
    if form == "ws://":
        target = [f"ws://127.0.0.1:{server.port}/"]
    else:
        target = ["--ws-c-uri", f"ws://127.0.0.1:{server.port}/", f"ws-ll-c:ws-r:tcp:127.0.0.1:{server.port}"]
    out = websocat.run("-H", "Host: virtual.example", *target, input=b"hello\n")
    assert out.returncode == 0, out.stderr
    assert server.wait_finished() == ["hello"]
    assert server.hosts == ["virtual.example"]


def test_without_an_explicit_host_the_automatic_one_is_sent(
    websocat: Websocat, ws_server: type[RecordingServer]
) -> None:
    server = _server(ws_server)
    out = websocat.run(f"ws://127.0.0.1:{server.port}/", input=b"hi\n")
    assert out.returncode == 0, out.stderr
    assert server.wait_finished() == ["hi"]
    assert server.hosts == [f"127.0.0.1:{server.port}"]
