"""Derived docs fail loudly when stale."""

from pathlib import Path

from websocat.planner.docs import render_manpage, render_reference, render_runtime

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_reference_is_fresh() -> None:
    assert (
        render_reference() == (DOCS / "reference.md").read_text()
    ), "docs/reference.md is stale; run: python -m websocat.planner.docs"


def test_family_pages_are_fresh() -> None:
    from websocat.planner.docs import render_family_pages

    pages = render_family_pages(DOCS.parent / "golden")
    on_disk = {path.name: path.read_text() for path in (DOCS / "reference").glob("*.md")}
    assert pages == on_disk, "docs/reference/*.md are stale; run: python -m websocat.planner.docs"


def test_every_implemented_kind_has_an_example_and_every_family_a_title() -> None:
    from websocat.planner.docs import EXPANDS, FAMILIES, PLANNER_AFFECTS, family_of, render_family_pages
    from websocat.planner.pipeline import PLANNER_OPTIONS
    from websocat.planner.specs import SPECS

    assert {family_of(cls) for cls in SPECS} <= FAMILIES.keys()
    assert PLANNER_AFFECTS.keys() <= PLANNER_OPTIONS.keys()
    names = {cls.__name__ for cls in SPECS}
    assert {kind for kinds in (*PLANNER_AFFECTS.values(), *EXPANDS.values()) for kind in kinds} <= names
    text = "\n".join(render_family_pages(DOCS.parent / "golden").values())
    for cls in SPECS:
        if cls.implemented:
            section = text.split(f"## {cls.__name__} (", 1)[1].split("\n## ", 1)[0]
            assert "```sh\nwebsocat " in section, f"{cls.__name__}: no golden case names it"


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


def test_zsh_completion_is_fresh() -> None:
    from websocat.planner.docs import render_zsh_completion

    assert (
        render_zsh_completion() == (DOCS / "_websocat").read_text()
    ), "docs/_websocat is stale; run: python -m websocat.planner.docs"


# An interactive zsh in a pseudo-terminal (zsh/zpty) types a line and TAB; a compadd
# wrapper records every match offered.
ZSH_SETUP = """
PS1=''
fpath=({comp} $fpath)
autoload -U compinit && compinit -u -D
compadd() {{
  if (( ! ${{@[(I)-[OAD]*]}} )); then
    local -a found
    builtin compadd -O found "$@"
    (( $#found )) && print -rl -- $found >> {out}
  fi
  builtin compadd "$@"
}}
print ready > {out}.ready
"""
ZSH_DRIVER = """
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source $1"
for i in {1..200}; do [[ -e $2.ready ]] && break; sleep 0.05; done
zpty -w -n z "$3"$'\\t'
for i in {1..200}; do [[ -s $2 ]] && break; sleep 0.05; done
sleep 0.3
zpty -d z
"""


def _zsh_complete(line: str, tmp: Path) -> list[str]:
    import shutil
    import subprocess

    if shutil.which("zsh") is None:
        import pytest

        pytest.skip("zsh is not installed here (Debian: apt install zsh)")
    comp = tmp / "completions"
    comp.mkdir(exist_ok=True)
    shutil.copy(DOCS / "_websocat", comp / "_websocat")
    out = tmp / "matches"
    out.unlink(missing_ok=True)
    (tmp / f"{out.name}.ready").unlink(missing_ok=True)
    setup = tmp / "setup.zsh"
    setup.write_text(ZSH_SETUP.format(comp=comp, out=out))
    subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER, "zsh", str(setup), str(out), line], timeout=60, check=True)
    return sorted(set(out.read_text().split())) if out.exists() else []


def test_zsh_completes_options_and_prefixes_after_overlays(tmp_path: Path) -> None:
    assert _zsh_complete("websocat --exit-on-h", tmp_path) == ["--exit-on-hangup"]
    after_lines = _zsh_complete("websocat lines:tc", tmp_path)
    assert "tcp-listen:" in after_lines and "tcp:" in after_lines
    assert all(match.startswith("tc") for match in after_lines)  # completed after the overlay typed
    assert _zsh_complete("websocat ws-l:127.0.0.1:1 mirr", tmp_path) == ["mirror:"]
    assert _zsh_complete("websocat -b chunks:ws-ll-c:std", tmp_path) == ["stdio:"]
