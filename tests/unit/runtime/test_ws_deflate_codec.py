"""permessage-deflate: negotiation strings and the compressed frames of ws_framing."""

from __future__ import annotations

import os

import pytest

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.ws_deflate import Deflate, DeflateOptions, agreed, answer
from websocat.runtime.overlays.ws_framing import FrameBuilder, FrameError, FrameParser
from websocat.runtime.sockets import CONTINUES, PING, TEXT, Message


def test_offers() -> None:
    assert DeflateOptions().offer() == "permessage-deflate; client_max_window_bits"
    assert DeflateOptions(True, 10).offer() == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=10; client_max_window_bits=10"
    )


@pytest.mark.parametrize(
    "offers, ours, reply, deflate",
    [
        (["permessage-deflate"], DeflateOptions(), "permessage-deflate", Deflate(False)),
        (["permessage-deflate; client_max_window_bits"], DeflateOptions(), "permessage-deflate", Deflate(False)),
        (
            ["permessage-deflate; client_max_window_bits"],
            DeflateOptions(window_bits=11),
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=11",
            Deflate(False, server_max_window_bits=11, client_max_window_bits=11),
        ),
        (
            ["permessage-deflate; server_no_context_takeover; server_max_window_bits=10"],
            DeflateOptions(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
            Deflate(False, server_no_context_takeover=True, server_max_window_bits=10),
        ),
        (
            ["permessage-deflate"],
            DeflateOptions(no_context_takeover=True),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Deflate(False, True, True),
        ),
        (
            ["x-other, permessage-deflate; server_max_window_bits=8", "permessage-deflate"],
            DeflateOptions(),
            "permessage-deflate",
            Deflate(False),
        ),
        (["permessage-deflate; client_max_window_bits=16"], DeflateOptions(), None, None),
        (["permessage-deflate; server_no_context_takeover=1"], DeflateOptions(), None, None),
        (["permessage-deflate; x=1"], DeflateOptions(), None, None),
        (["permessage-deflate; client_max_window_bits; client_max_window_bits"], DeflateOptions(), None, None),
        ([], DeflateOptions(), None, None),
    ],
)
def test_server_answers(offers: list[str], ours: DeflateOptions, reply: str | None, deflate: Deflate | None) -> None:
    got = answer(offers, ours)
    assert (None if got is None else got[0]) == reply
    assert (None if got is None else got[1]) == deflate


def test_client_reads_answers() -> None:
    assert agreed([], DeflateOptions()) is None
    assert agreed(["permessage-deflate"], DeflateOptions()) == Deflate(True)
    assert agreed(["permessage-deflate; client_max_window_bits=9"], DeflateOptions()) == Deflate(
        True, client_max_window_bits=9
    )
    assert agreed(["permessage-deflate; client_no_context_takeover"], DeflateOptions()) == Deflate(
        True, client_no_context_takeover=True
    )
    for bad, ours, why in [
        (["x-webkit-deflate-frame"], DeflateOptions(), "only permessage-deflate was offered"),
        (["permessage-deflate; mystery"], DeflateOptions(), "unknown parameter mystery"),
        (["permessage-deflate; server_max_window_bits=12"], DeflateOptions(window_bits=10), "above the 10"),
        (["permessage-deflate"], DeflateOptions(window_bits=10), "server_max_window_bits missing"),
        (["permessage-deflate"], DeflateOptions(True), "server_no_context_takeover missing"),
        (["permessage-deflate; client_max_window_bits=8"], DeflateOptions(), "window bits '8' outside 9-15"),
    ]:
        with pytest.raises(ProtocolError, match=why):
            agreed(bad, ours)


def parser(limit: int | None = None, no_context_takeover: bool = False) -> FrameParser:
    return FrameParser(False, Deflate(True, server_no_context_takeover=no_context_takeover).inflater(limit), limit)


def test_rfc7692_examples() -> None:
    """Section 7.2.3: 'Hello' compressed, whole and in two fragments; then again with context."""
    out: list[Message] = []
    p = parser()
    assert p.parse(b"\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", out) == 9
    assert p.parse(b"\x41\x03\xf2\x48\xcd\x80\x04\xc9\xc9\x07\x00", out) == 11
    assert p.parse(b"\xc1\x05\xf2\x00\x11\x00\x00", out) == 7  # uses the previous message's window
    assert out == [(b"Hello", TEXT), (b"He", TEXT | CONTINUES), (b"llo", TEXT), (b"Hello", TEXT)]


@pytest.mark.parametrize("no_context_takeover", [False, True])
def test_round_trip_through_builder_and_parser(no_context_takeover: bool) -> None:
    deflate = Deflate(True, no_context_takeover, no_context_takeover, 15, 10)
    builder = FrameBuilder(mask=True, deflater=deflate.deflater())
    receiving = Deflate(False, no_context_takeover, no_context_takeover)
    p = FrameParser(True, receiving.inflater(None))
    batch: list[Message] = [
        (b"json " * 100, TEXT),
        (b"json " * 100, TEXT),
        (b"", 0),
        (b"ping", PING),
        (b"frag", TEXT | CONTINUES),
        ("ment ż".encode(), TEXT),
        (os.urandom(3 << 20), 0),  # incompressible: a frame over 1 MiB, parsed in pieces
    ]
    wire = bytes(builder.build(batch))
    assert wire[0] == 0xC1 and wire[1] & 127 < 100  # RSV1, and it did shrink
    out: list[Message] = []
    control: list[Message] = []
    buf = b""
    for start in range(0, len(wire), 65536):  # as reads deliver it
        buf += wire[start : start + 65536]
        if len(buf) >= p.need:
            buf = buf[p.parse(buf, out, control) :]
    assert not buf
    joined: list[Message] = []
    pending = b""
    for data, flags in out:
        pending += data
        if not flags & CONTINUES:
            joined.append((pending, flags))
            pending = b""
    assert joined == [batch[0], batch[1], batch[2], ("fragment ż".encode(), TEXT), batch[-1]]
    assert control == [(b"ping", PING)]
    # without context takeover the second, identical message costs as much as the first
    first, second = builder.build([(b"abc" * 50, TEXT)]), builder.build([(b"abc" * 50, TEXT)])
    assert (len(first) == len(second)) == no_context_takeover


def test_compressed_bit_is_refused_where_it_has_no_place() -> None:
    for wire, why in [
        (b"\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", "reserved bits set"),  # not negotiated
    ]:
        with pytest.raises(FrameError, match=why):
            FrameParser(False).parse(wire, [])
    for wire in (b"\x41\x03\xf2\x48\xcd\xc0\x04\xc9\xc9\x07\x00", b"\xc9\x00"):  # continuation, ping
        with pytest.raises(FrameError, match="RSV1"):
            parser().parse(wire, [])
    with pytest.raises(FrameError, match="RSV2|reserved bits") as caught:
        parser().parse(b"\xe1\x00", [])
    assert caught.value.code == 1002


def test_limits() -> None:
    bomb = FrameBuilder(mask=False, deflater=Deflate(False).deflater()).build([(bytes(10 << 20), 0)])
    assert len(bomb) < 20_000
    with pytest.raises(FrameError, match="inflates to more than 4096 bytes") as caught:
        parser(4096).parse(bytes(bomb), [])
    assert caught.value.code == 1009
    plain = FrameParser(False, max_size=4096)
    assert plain.parse(b"\x82\x7e\x10\x00" + bytes(4096), []) == 4100
    with pytest.raises(FrameError, match="longer than 4096") as caught:
        plain.parse(b"\x82\x7e\x10\x01", [])  # refused from its header, before its payload
    with pytest.raises(FrameError, match="longer than 4096"):
        FrameParser(False, max_size=4096).parse(
            b"\x02\x7e\x08\x00" + bytes(2048) + b"\x80\x7e\x08\x01" + bytes(2049), []
        )
    with pytest.raises(FrameError, match="not valid deflate") as caught:
        parser().parse(b"\xc2\x02\xff\xff", [])
    assert caught.value.code == 1007


def test_the_level_is_ours_and_used_for_what_we_send() -> None:
    text = b"".join(b'{"id": %d, "name": "item %d", "tags": ["a", "b"]}\n' % (i, i * 7 % 13) for i in range(3000))
    sizes = {}
    for level in (0, 1, 9):
        ours = DeflateOptions(level=level)
        answered = answer(["permessage-deflate"], ours)
        assert answered is not None and answered[1].level == level
        client = agreed(["permessage-deflate"], ours)
        assert client is not None and client.level == level
        sizes[level] = len(answered[1].deflater().compress(text, True))
    assert sizes[0] > len(text) > sizes[1] > sizes[9]
