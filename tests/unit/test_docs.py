"""Derived docs fail loudly when stale."""

from pathlib import Path

from websocat.planner.docs import render_manpage, render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_reference_is_fresh() -> None:
    assert render_reference() == (DOCS / "reference.md").read_text(), (
        "docs/reference.md is stale; run: python -m websocat.planner.docs"
    )


def test_manpage_is_fresh() -> None:
    assert render_manpage() == (DOCS / "websocat.1").read_text(), (
        "docs/websocat.1 is stale; run: python -m websocat.planner.docs"
    )
