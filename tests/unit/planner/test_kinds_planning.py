"""Where the planner puts the kinds overlay of --base64, --base64-text, --text-prefix and
--binary-prefix, and what it says when there is no WebSocket for them."""

from __future__ import annotations

import ast
import os

from websocat.planner.model import Invocation
from websocat.planner.pipeline import dump_spec, plan, warnings_of
from websocat.planner.specs.chunking import LineChunks, StreamChunks
from websocat.planner.specs.kinds import TaggedKinds
from websocat.planner.specs.ws import WsAccept, WsConnect


def planned(*argv: str) -> Invocation:
    inv = plan(list(argv))
    assert isinstance(inv, Invocation)
    return inv


def test_over_the_websocket_client_and_bound_from_the_options() -> None:
    inv = planned("--base64", "--binary-prefix", "B:", "ws://127.0.0.1:1/")
    assert inv.left is not None and inv.right is not None
    tagged, ws = inv.left.overlays[:2]
    assert tagged == TaggedKinds(binary_prefix="B:", base64=True) and isinstance(ws, WsConnect)
    assert inv.right.overlays == (LineChunks(),)


def test_over_the_accepted_websocket_of_a_server() -> None:
    inv = planned("--text-prefix", "T", "-s", "1234")
    assert inv.left is not None
    assert [type(o) for o in inv.left.overlays] == [TaggedKinds, WsAccept]


def test_over_each_websocket_when_both_sides_are() -> None:
    inv = planned("--base64-text", "ws-l:127.0.0.1:1", "ws://127.0.0.1:2/")
    assert inv.left is not None and inv.right is not None
    assert isinstance(inv.left.overlays[0], TaggedKinds) and isinstance(inv.right.overlays[0], TaggedKinds)


def test_binary_mode_reads_lines_as_binary_messages() -> None:
    tagged = planned("-b", "--base64", "ws://127.0.0.1:1/")
    assert tagged.right is not None and tagged.right.overlays == (LineChunks(text=False),)
    plain = planned("-b", "ws://127.0.0.1:1/")
    assert plain.right is not None and plain.right.overlays == (StreamChunks(),)


def test_not_there_without_the_options() -> None:
    inv = planned("ws://127.0.0.1:1/")
    layers = [o for _role, s in inv.stacks for o in s.overlays]
    assert not any(isinstance(o, TaggedKinds) for o in layers)


def test_no_websocket_no_effect() -> None:
    inv = planned("--base64", "--text-prefix", "T", "tcp:127.0.0.1:1", "-")
    where = "no WebSocket (ws://, ws-l:, -s, ws-c:, ws-upgrade:, ws-ll-*:) in this command"
    assert list(warnings_of(inv)) == [
        f"--base64 has no effect here: {where}",
        f"--text-prefix has no effect here: {where}",
    ]
    assert list(warnings_of(planned("--base64", "ws://127.0.0.1:1/"))) == []


def test_prefixes_reach_the_script_as_literals() -> None:
    evil = "\"); import os; os.system('x') #"
    script = dump_spec(["--text-prefix", evil, "--binary-prefix", os.fsdecode(b"\xff:"), "ws://127.0.0.1:1/"])
    calls = [
        node
        for node in ast.walk(ast.parse(script))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "kinds.tagged"
    ]
    assert len(calls) == 1
    keywords = {k.arg: ast.literal_eval(k.value) for k in calls[0].keywords}
    assert keywords == {"text_prefix": evil, "binary_prefix": b"\xff:"}
