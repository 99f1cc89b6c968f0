"""The stacks options add (--tee, --write-splitoff, --filter, --filter-reverse): parsed like
positional arguments, fixed up like them, checked, and handed to the layer that uses them."""

from __future__ import annotations

import pytest

from websocat.planner.model import Kind, Role, SpecError
from websocat.planner.pipeline import plan, script_source
from websocat.planner.specs.chunking import LineChunks, StreamChunks
from websocat.planner.specs.splitoff import Filters, WriteSplitoff
from websocat.planner.specs.tcp import TcpConnectByEarlyHostname, TcpConnectByIp
from websocat.planner.specs.tee import Tee
from websocat.planner.specs.trivial import MessageMirror
from websocat.planner.specs.ws import WsConnect


def test_tee_option_stacks_get_the_positional_fixups() -> None:
    """--tee ws://name/ becomes ws-c: over a resolved tcp:, a byte node gets the chunker,
    and tee: goes over the right side (outermost), with the chunker under it."""
    inv = plan(["-b", "--tee", "ws://localhost:1234/p", "--tee", "tcp:127.0.0.1:5", "-", "tcp:127.0.0.1:6"])
    nodes = inv.stacks_of(Role.TEE)
    assert [type(layer) for layer in nodes[0].layers()] == [WsConnect, TcpConnectByEarlyHostname]
    assert [type(layer) for layer in nodes[1].layers()] == [StreamChunks, TcpConnectByIp]
    assert inv.right is not None
    assert [type(layer) for layer in inv.right.layers()] == [Tee, StreamChunks, TcpConnectByIp]
    assert inv.left is not None and inv.left.provides is Kind.MESSAGES


def test_tee_node_mirror_is_the_message_mirror() -> None:
    inv = plan(["--tee", "mirror:", "ws://127.0.0.1:1/", "udp:127.0.0.1:2"])
    assert type(inv.stacks_of(Role.TEE)[0].endpoint) is MessageMirror


def test_tee_options_bind_to_the_tee_layer() -> None:
    inv = plan(["--tee-propagate-eof", "--tee-use-first-hangup", "--tee", "udp:127.0.0.1:5", "-", "udp:127.0.0.1:6"])
    assert inv.right is not None
    layer = inv.right.overlays[0]
    assert isinstance(layer, Tee) and layer.propagate_eof and layer.use_first_hangup and not layer.use_hangups


def test_write_splitoff_kinds_are_bridged() -> None:
    """Messages read, bytes written: the write stack gets the chunker (-t: lines:)."""
    inv = plan(["--write-splitoff", "tcp:127.0.0.1:5", "ws-l:127.0.0.1:1", "write-splitoff:udp:127.0.0.1:6"])
    writer = inv.stacks_of(Role.WRITE_SPLITOFF)[0]
    assert [type(layer) for layer in writer.layers()] == [LineChunks, TcpConnectByIp]
    inv = plan(["--write-splitoff", "udp:127.0.0.1:5", "ws-l:127.0.0.1:1", "tcp:127.0.0.1:6"])
    assert inv.right is not None
    assert [type(layer) for layer in inv.right.layers()][:2] == [WriteSplitoff, LineChunks]


def test_filters_follow_the_session_kind() -> None:
    """A filter that gives messages makes the session carry messages (websocat4's rule)."""
    inv = plan(["--filter", "udp:127.0.0.1:5", "--filter-reverse", "tcp:127.0.0.1:7", "-", "tcp:127.0.0.1:6"])
    assert inv.right is not None and isinstance(inv.right.overlays[0], Filters)
    assert [stack.provides for _role, stack in inv.stacks] == [Kind.MESSAGES] * 4
    source, _warnings = script_source(["--filter", "cmd:cat", "--filter", "cmd:rev", "-", "tcp:127.0.0.1:6"])
    assert "splitoff.through_filters(tcp2, forward=[proc3, proc4])" in source


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tee", "tcp:127.0.0.1:5", "tee:-", "tee:tcp:127.0.0.1:6"], "more than one tee: overlay"),
        (["--tee", "tee:tcp:127.0.0.1:5", "-", "tcp:127.0.0.1:6"], "cannot itself contain a tee: overlay"),
        (["-", "write-splitoff:tcp:127.0.0.1:6"], "write-splitoff: needs --write-splitoff"),
        (["--less-fixups", "--tee", "udp:127.0.0.1:5", "-", "tcp:127.0.0.1:6"], "no tee: overlay uses it"),
        (["--no-fixups", "--tee", "udp:127.0.0.1:5", "lines:-", "tee:udp:127.0.0.1:6"], None),
        (["--no-fixups", "--tee", "tcp:127.0.0.1:5", "lines:-", "tee:udp:127.0.0.1:6"], "where messages are needed"),
        (["--tee-use-hangups", "--tee-use-first-hangup", "-", "mirror:"], "cannot be used together"),
        (["--tee", "nosuch:x", "-", "mirror:"], "option '--tee' 'nosuch:x': unknown prefix"),
        (["--filter", "cmd:cat", "--exec-dup2", "0", "-", "cmd:cat"], "takes the left socket itself"),
        (["--filter", "cmd:cat", "-", "registry-send:x"], "takes the left socket itself"),
        (["--tee", "udp:127.0.0.1:5", "-", "registry-send:x"], "registry-send: .* takes no overlays"),
    ],
)
def test_bad_stacks_are_one_line_errors(argv: list[str], message: str | None) -> None:
    if message is None:
        plan(argv)  # fine: explicit tee: and a message node, no fixups needed
        return
    with pytest.raises(SpecError, match=message):
        plan(argv)


def test_tee_without_nodes_warns() -> None:
    inv = plan(["-", "tee:udp:127.0.0.1:6"])
    assert any("tee: without --tee" in w for w in inv.warnings)


def test_lints_for_options_without_their_overlay() -> None:
    inv = plan(["--tee-propagate-eof", "--write-splitoff-omit-shutdown", "-", "mirror:"])
    assert any("--tee-* options" in w for w in inv.warnings)
    assert any("--write-splitoff-omit-shutdown has no effect" in w for w in inv.warnings)
    inv = plan(["--tee-propagate-eof", "--tee", "exec:cat", "-", "mirror:", "--exec-args", "x"])
    assert not [w for w in inv.warnings if "--tee-*" in w or "exec:" in w]


def test_a_shared_stack_opens_its_tee_nodes_once() -> None:
    """Under a listener, tee: over stdio: is shared with its nodes (reuse-raw:, as websocat4);
    a node that would resolve a name first cannot go into the shared coroutine."""
    source, _warnings = script_source(["-t", "--tee", "tcp:127.0.0.1:5", "ws-l:127.0.0.1:1", "-"])
    upstream = source[source.index("async def upstream2") : source.index("async def session")]
    assert "tcp.connect('127.0.0.1', 5)" in upstream and "tee.tee(lines2, [lines3])" in upstream
    with pytest.raises(SpecError, match="resolve a hostname first"):
        script_source(["-t", "--tee", "ws://localhost:5/", "ws-l:127.0.0.1:1", "-"])
