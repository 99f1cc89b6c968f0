"""Derived docs fail loudly when stale."""

from pathlib import Path

from websocat.planner.docs import render_manpage, render_reference, render_runtime

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_reference_is_fresh() -> None:
    assert (
        render_reference() == (DOCS / "reference.md").read_text()
    ), "docs/reference.md is stale; run: python -m websocat.planner.docs"


def test_manpage_is_fresh() -> None:
    assert (
        render_manpage() == (DOCS / "websocat.1").read_text()
    ), "docs/websocat.1 is stale; run: python -m websocat.planner.docs"


def test_readme_exit_codes_are_the_table() -> None:
    from websocat.planner.docs import exit_code_table

    readme = (DOCS.parent / "README.md").read_text()
    assert "\n".join(exit_code_table()) in readme, "README.md's exit-code table differs from runtime/errors.py"


def test_runtime_api_is_fresh() -> None:
    assert (
        render_runtime() == (DOCS / "runtime.md").read_text()
    ), "docs/runtime.md is stale; run: python -m websocat.planner.docs"
