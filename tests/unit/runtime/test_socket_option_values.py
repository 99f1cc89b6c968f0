"""Socket options on real sockets: each is set with setsockopt and read back with getsockopt
(as root here, the privileged ones too; tests/functional/test_socket_options.py checks
the one-line refusal without privileges)."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest

from websocat.runtime.endpoints import tcp
from websocat.runtime.errors import ConnectError, UsageError
from websocat.runtime.sockets import StreamProtocol

TCP = socket.IPPROTO_TCP
SOL = socket.SOL_SOCKET


def _int(sock: socket.socket, level: int, number: int) -> int:
    return sock.getsockopt(level, number)


# option, value, how to read it back, what it reads back as
STREAM_CASES: list[tuple[str, Any, Any, Any]] = [
    ("socket_nodelay", True, lambda s: _int(s, TCP, socket.TCP_NODELAY), 1),
    ("socket_keepalive", True, lambda s: _int(s, SOL, socket.SO_KEEPALIVE), 1),
    ("socket_keepalive_retries", 4, lambda s: _int(s, TCP, socket.TCP_KEEPCNT), 4),
    ("socket_keepalive_interval_s", 7, lambda s: _int(s, TCP, socket.TCP_KEEPINTVL), 7),
    ("socket_keepalive_idletime_s", 9, lambda s: _int(s, TCP, socket.TCP_KEEPIDLE), 9),
    ("socket_linger_s", 3, lambda s: struct.unpack("ii", s.getsockopt(SOL, socket.SO_LINGER, 8)), (1, 3)),
    ("socket_out_of_band_inline", True, lambda s: _int(s, SOL, socket.SO_OOBINLINE), 1),
    ("socket_user_timeout_s", 5, lambda s: _int(s, TCP, socket.TCP_USER_TIMEOUT), 5000),
    ("socket_priority", 3, lambda s: _int(s, SOL, socket.SO_PRIORITY), 3),
    ("socket_mark", 7, lambda s: _int(s, SOL, socket.SO_MARK), 7),
    ("socket_recv_buffer_size", 100_000, lambda s: _int(s, SOL, socket.SO_RCVBUF) >= 100_000, True),
    ("socket_send_buffer_size", 100_000, lambda s: _int(s, SOL, socket.SO_SNDBUF) >= 100_000, True),
    ("socket_tos_v4", 0x10, lambda s: _int(s, socket.IPPROTO_IP, socket.IP_TOS), 0x10),
    ("socket_ttl", 33, lambda s: _int(s, socket.IPPROTO_IP, socket.IP_TTL), 33),
    ("socket_notsent_lowat", 16384, lambda s: _int(s, TCP, 25), 16384),
    ("socket_thin_linear_timeouts", True, lambda s: _int(s, TCP, 16), 1),
    ("socket_cpu_affinity", 0, lambda s: _int(s, SOL, 49), 0),
    (
        "socket_tcp_congestion",
        "reno",
        lambda s: s.getsockopt(TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0"),
        b"reno",
    ),
]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def _with_listener(body: Any) -> Any:
    server = await asyncio.get_running_loop().create_server(StreamProtocol, "127.0.0.1", 0)
    try:
        return await body(server.sockets[0].getsockname()[1])
    finally:
        server.close()


@pytest.mark.parametrize("name,value,read,expected", STREAM_CASES, ids=[case[0] for case in STREAM_CASES])
def test_stream_option_on_a_connected_socket(name: str, value: Any, read: Any, expected: Any) -> None:
    async def body(port: int) -> Any:
        async with tcp.connect("127.0.0.1", port, sockopts={name: value}) as stream:
            return read(stream.protocol.transport.get_extra_info("socket"))

    assert run(_with_listener(body)) == expected


def test_mss_is_set() -> None:
    """A connected socket reads back the MSS in use, not the one asked for: read it back
    from a socket not connected yet, where the kernel keeps the user's value."""
    from websocat.runtime import socket_options

    with socket.socket() as raw:
        socket_options.apply_stream(raw, {"socket_mss": 1200})
        assert raw.getsockopt(TCP, socket.TCP_MAXSEG) == 1200


def test_stream_options_on_each_accepted_socket() -> None:
    async def main() -> list[int]:
        seen: list[int] = []
        ready = asyncio.Event()

        async def session(stream: Any) -> None:
            raw = stream.protocol.transport.get_extra_info("socket")
            seen.append(raw.getsockopt(TCP, socket.TCP_NODELAY))
            ready.set()

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        serving = asyncio.ensure_future(tcp.serve("127.0.0.1", port, session, sockopts={"socket_nodelay": True}))
        for _ in range(100):
            try:
                _r, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.02)
        await ready.wait()
        writer.close()
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        return seen

    assert run(main()) == [1]


def test_bind_options_on_the_listening_socket() -> None:
    async def main() -> tuple[int, int]:
        server = await tcp._listen(
            "127.0.0.1", 0, StreamProtocol, {"reuseaddr": False, "reuseport": True, "socket_listen_backlog": 3}
        )
        raw = server.sockets[0]
        try:
            return raw.getsockopt(SOL, socket.SO_REUSEADDR), raw.getsockopt(SOL, socket.SO_REUSEPORT)
        finally:
            server.close()

    assert run(main()) == (0, 1)


def test_freebind_and_transparent_before_connect() -> None:
    async def body(port: int) -> tuple[int, int]:
        options = {"socket_freebind": True, "socket_transparent": True}
        async with tcp.connect("127.0.0.1", port, sockopts=options) as stream:
            raw = stream.protocol.transport.get_extra_info("socket")
            return raw.getsockopt(socket.IPPROTO_IP, 15), raw.getsockopt(socket.IPPROTO_IP, 19)

    assert run(_with_listener(body)) == (1, 1)


def test_bind_before_connect_sets_the_source_address() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        source_port = probe.getsockname()[1]

    async def body(port: int) -> int:
        options = {"bind_before_connect": f"127.0.0.1:{source_port}"}
        async with tcp.connect("127.0.0.1", port, sockopts=options) as stream:
            return int(stream.protocol.transport.get_extra_info("sockname")[1])

    assert run(_with_listener(body)) == source_port


def test_a_refused_option_is_one_line_naming_it() -> None:
    async def body(port: int) -> None:
        async with tcp.connect("127.0.0.1", port, sockopts={"socket_tcp_congestion": "no-such-algorithm"}):
            pass

    with pytest.raises(ConnectError, match=r"^--socket-tcp-congestion: cannot set TCP_CONGESTION: "):
        run(_with_listener(body))


def test_an_unknown_option_name_is_refused() -> None:
    with pytest.raises(UsageError, match="no socket option 'socket_nodelai'"):
        tcp.connect("127.0.0.1", 1, sockopts={"socket_nodelai": True})


# -- UDP sockets


def _udp_socket(sock: Any) -> socket.socket:
    return sock.sock  # type: ignore[no-any-return]


def test_datagram_options_on_a_bound_udp_socket() -> None:
    from websocat.runtime.endpoints import udp

    options = {
        "socket_broadcast": True,
        "socket_ttl": 17,
        "socket_recv_buffer_size": 200_000,
        "socket_multicast": "239.1.2.3",
        "socket_multicast_interface_addr": "127.0.0.1",
        "socket_multicast_loop": False,
        "socket_multicast_ttl": 4,
        "socket_multicast_all": False,
        "reuseaddr": True,
    }

    async def main() -> tuple[list[int], str]:
        async with udp.bind("0.0.0.0", 0, sockopts=options) as bound:
            raw = _udp_socket(bound)
            ip = socket.IPPROTO_IP
            values = [
                raw.getsockopt(SOL, socket.SO_BROADCAST),
                raw.getsockopt(ip, socket.IP_TTL),
                int(raw.getsockopt(SOL, socket.SO_RCVBUF) >= 200_000),
                raw.getsockopt(ip, socket.IP_MULTICAST_LOOP),
                raw.getsockopt(ip, socket.IP_MULTICAST_TTL),
                raw.getsockopt(ip, 49),  # IP_MULTICAST_ALL
                raw.getsockopt(SOL, socket.SO_REUSEADDR),
            ]
            with open("/proc/net/igmp") as table:
                return values, table.read()

    values, igmp = run(main())
    assert values == [1, 17, 1, 0, 4, 0, 1]
    assert "030201EF" in igmp  # 239.1.2.3 joined (the kernel lists groups in host byte order)


def test_ipv6_multicast_join_by_interface_index() -> None:
    from websocat.runtime.endpoints import udp

    options = {"socket_multicast": "ff02::1:7", "socket_multicast_interface_index": 1, "socket_multicast_ttl": 5}

    async def main() -> tuple[int, str]:
        async with udp.bind("::", 0, sockopts=options) as bound:
            hops = _udp_socket(bound).getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS)
            with open("/proc/net/igmp6") as table:
                return hops, table.read()

    hops, igmp6 = run(main())
    assert hops == 5
    assert "ff020000000000000000000000010007" in igmp6


@pytest.mark.parametrize(
    "options,message",
    [
        ({"socket_multicast_loop": True}, "--socket-multicast-loop needs --socket-multicast"),
        (
            {
                "socket_multicast": "239.1.2.3",
                "socket_multicast_interface_addr": "127.0.0.1",
                "socket_multicast_interface_index": 1,
            },
            "give one of them",
        ),
        ({"socket_multicast": "ff02::1:7", "socket_multicast_specific_source": "::1"}, "not supported for IPv6"),
        ({"socket_multicast": "not-an-ip"}, "--socket-multicast: not an IP address"),
    ],
)
def test_multicast_option_mistakes_are_one_line(options: dict[str, Any], message: str) -> None:
    from websocat.runtime.endpoints import udp

    async def main() -> None:
        host = "::" if ":" in str(options.get("socket_multicast", "")) else "0.0.0.0"
        async with udp.bind(host, 0, sockopts=options):
            pass

    with pytest.raises(UsageError, match=message):
        run(main())


def test_bind_to_device_and_the_ipv6_options() -> None:
    async def main() -> tuple[bytes, int, int, int]:
        server = await asyncio.get_running_loop().create_server(StreamProtocol, "::1", 0)
        port = server.sockets[0].getsockname()[1]
        options = {"socket_bind_to_device": "lo", "socket_only_v6": True, "socket_tclass_v6": 0x20, "socket_ttl": 9}
        try:
            async with tcp.connect("::1", port, sockopts=options) as stream:
                raw = stream.protocol.transport.get_extra_info("socket")
                return (
                    raw.getsockopt(SOL, socket.SO_BINDTODEVICE, 16).rstrip(b"\0"),
                    raw.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY),
                    raw.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS),
                    raw.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS),
                )
        finally:
            server.close()

    assert run(main()) == (b"lo", 1, 0x20, 9)
