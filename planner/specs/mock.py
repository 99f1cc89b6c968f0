"""mock_stream_socket: (runtime/endpoints/mock.py); its text grammar is planner/mockscript.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, SpecError
from websocat.planner.specs import Rendered, positional, register


@register("mock_stream_socket:", "mock-stream-socket:", "mss:")
@dataclass(frozen=True)
class MockStreamSocket(Endpoint):
    """Byte stream socket for tests that can produce and consume (assert) data according to special scenario supplied as an argument."""

    ops: tuple[tuple[str, bytes | int | str], ...] = positional(())
    grammar: ClassVar[str] = (
        "operations separated by |: R data, W data, N name, ER, EW, T<ms>, X (read EOF), "
        "D (expect shutdown), Q (stop checking), ZR<n>, ZW<n> (zero bytes), I<n> (ignore "
        "written bytes); numbers decimal or hex after x/0x; the tokio-io-mock-fork text scenario grammar"
    )
    render: ClassVar = Rendered("endpoints.mock", "MockStream", "mock")

    def call_arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (list(self.ops),), {}  # a list reads better in the script than nested tuples

    @classmethod
    def from_value(cls, value: str) -> Self:
        from websocat.planner.mockscript import MockScriptError, parse_mock_script

        try:
            ops = parse_mock_script(value)
        except MockScriptError as exc:
            raise SpecError(f"'mock_stream_socket:' {exc}") from None
        return cls(tuple((op[0], op[1]) for op in ops))
