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


def test_bash_completion_is_fresh() -> None:
    from websocat.planner.docs import render_bash_completion

    assert (
        render_bash_completion() == (DOCS / "websocat.bash").read_text()
    ), "docs/websocat.bash is stale; run: python -m websocat.planner.docs"


def _complete(line: str) -> list[str]:
    import subprocess

    script = f'source {DOCS / "websocat.bash"}; COMP_LINE="$1"; COMP_POINT=${{#1}}; _websocat; printf "%s\\n" "${{COMPREPLY[@]}}"'
    done = subprocess.run(["bash", "-c", script, "bash", line], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_options_and_prefixes_after_overlays() -> None:
    assert _complete("websocat --exit-on-h") == ["--exit-on-hangup"]
    assert "tcp-listen:" in _complete("websocat lines:tc") and "lines:" not in _complete("websocat lines:tc")
    assert _complete("websocat ws-l:127.0.0.1:1 mirr") == ["mirror:"]
    assert _complete("websocat -b chunks:ws-ll-c:std") == ["stdio:"]  # after the last ':', as bash splits
