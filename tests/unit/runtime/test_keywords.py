"""Keyword families (runtime/keywords.py): a call that takes ``**options: Unpack[...]``
still refuses a keyword its family does not list, as Python would, without -x."""

from __future__ import annotations

import pytest

from websocat.runtime.endpoints import process


def test_spawn_refuses_an_unknown_keyword() -> None:
    with pytest.raises(TypeError, match=r"^spawn\(\) got an unexpected keyword argument 'chdri'$"):
        process.spawn("true", chdri="/")  # type: ignore[call-arg]
