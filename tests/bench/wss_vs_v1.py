"""wss:// side by side with websocat v1: bulk throughput and echo round trips over TLS.

    python tests/bench/wss_vs_v1.py [--v1 PATH] [--v4 PATH] [--mib 128] [--echoes 2000] [--rounds 3]

A CA and a server certificate for 127.0.0.1 are made here (PEM for us, PKCS#12 for v1,
which takes no PEM).  Each implementation is paired with itself:

* bulk: `-b -u -n --oneshot wss-l: writefile:/dev/null` server, `-b -u readfile:FILE wss://`
  client (both trust the CA: SSL_CERT_FILE); MB/s from the client's start to both exits;
* echo: a `-t wss-l: mirror:` server and a Python `websockets` client over TLS sending
  one message at a time; median round trip in microseconds.

Rounds interleave v1 and ours; medians are reported with the ratio to v1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

P12_PASSWORD = b"bench"


def make_pki(folder: Path) -> dict[str, Path]:
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = {
        "ca": ca.public_bytes(pem),
        "cert": cert.public_bytes(pem),
        "key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "p12": pkcs12.serialize_key_and_certificates(
            b"bench", key, cert, [ca], serialization.BestAvailableEncryption(P12_PASSWORD)
        ),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def server_args(impl: str, pki: dict[str, Path]) -> list[str]:
    if impl == "v1":
        return ["--pkcs12-der", str(pki["p12"]), "--pkcs12-passwd", P12_PASSWORD.decode()]
    return ["--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"])]


def bulk(exe: str, impl: str, pki: dict[str, Path], data: Path, env: dict[str, str]) -> float:
    port = free_port()
    server = subprocess.Popen(
        [exe, *server_args(impl, pki), "-b", "-u", "-n", "--oneshot", f"wss-l:127.0.0.1:{port}", "writefile:/dev/null"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    if impl == "v1":
        time.sleep(0.3)  # probing the port would be v1's --oneshot connection
    else:
        time.sleep(1.0)
    start = time.perf_counter()
    subprocess.run([exe, "-b", "-u", f"readfile:{data}", f"wss://127.0.0.1:{port}/"], env=env, check=True, timeout=300)
    server.wait(60)
    return data.stat().st_size / (time.perf_counter() - start) / 1e6


async def echo_rounds(port: int, pki: dict[str, Path], count: int) -> float:
    from websockets.asyncio.client import connect

    context = ssl.create_default_context(cafile=str(pki["ca"]))
    times = []
    async with connect(f"wss://127.0.0.1:{port}/", ssl=context, compression=None) as conn:
        for i in range(count):
            started = time.perf_counter()
            await conn.send(f"message {i}")
            await conn.recv()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def echo(exe: str, impl: str, pki: dict[str, Path], count: int, env: dict[str, str]) -> float:
    port = free_port()
    extra = ["-E"] if impl == "v1" else []
    server = subprocess.Popen(
        [exe, *server_args(impl, pki), *extra, "-t", f"wss-l:127.0.0.1:{port}", "mirror:"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        return asyncio.run(echo_rounds(port, pki, count))
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--v1", default="/tmp/bench-home/venv/bin/websocat")
    parser.add_argument("--v4", default=shutil.which("websocat") or "websocat")
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--echoes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pki = make_pki(folder)
        data = folder / "data"
        data.write_bytes(os.urandom(1 << 20) * args.mib)
        env = dict(os.environ, SSL_CERT_FILE=str(pki["ca"]))
        impls = {"v1": args.v1, "v4": args.v4}
        results: dict[str, dict[str, list[float]]] = {name: {"bulk": [], "echo": []} for name in impls}
        for _round in range(args.rounds):
            for name, exe in impls.items():
                results[name]["bulk"].append(bulk(exe, name, pki, data, env))
                results[name]["echo"].append(echo(exe, name, pki, args.echoes, env))
                print(
                    f"{name}: bulk {results[name]['bulk'][-1]:.0f} MB/s, echo {results[name]['echo'][-1]:.0f} us",
                    file=sys.stderr,
                )
    v1_bulk = statistics.median(results["v1"]["bulk"])
    v1_echo = statistics.median(results["v1"]["echo"])
    for name in impls:
        b = statistics.median(results[name]["bulk"])
        e = statistics.median(results[name]["echo"])
        print(
            f"{name}: wss bulk {b:.0f} MB/s (ratio to v1 {b / v1_bulk:.2f}, higher is better); "
            f"wss echo median {e:.0f} us (ratio to v1 {e / v1_echo:.2f}, lower is better)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
