"""Golden files: golden/<case>.py holds the expected --dump-spec output; line 1 is the command.

Regenerate every case (then review `git diff golden/` like code):

    python tests/golden.py --update

A new case is a new file holding only its command line, e.g. `# websocat -s 1234`.
golden/phases/<case>.txt likewise hold a phase dump (--dump-spec-phase0/1/2 in the
command), such as those of --compose command lines.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def cases() -> list[Path]:
    return sorted(GOLDEN.glob("*.py"))


def phase_cases() -> list[Path]:
    return sorted((GOLDEN / "phases").glob("*.txt"))


def command_of(path: Path) -> list[str]:
    """argv (without 'websocat') from a golden file's first line."""
    first = path.read_text().split("\n", 1)[0]
    words = shlex.split(first.removeprefix("#"))
    assert words and words[0] == "websocat", f"{path}: line 1 must be '# websocat ARGS'"
    return words[1:]


def expected(path: Path) -> str:
    from websocat.planner.pipeline import dump_spec

    return dump_spec(command_of(path))


def expected_phase(path: Path) -> str:
    """The command line, then what the phase dump it asks for prints."""
    from websocat.planner import pipeline

    argv = command_of(path)
    dumps = {f"--dump-spec-phase{n}": getattr(pipeline, f"dump_phase{n}") for n in (0, 1, 2)}
    (flag,) = [word for word in argv if word in dumps]
    return path.read_text().split("\n", 1)[0] + "\n" + dumps[flag](argv)


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(__doc__)
        return 2
    changed = 0
    for path, text_of in [*((p, expected) for p in cases()), *((p, expected_phase) for p in phase_cases())]:
        text = text_of(path)
        if path.read_text() != text:
            path.write_text(text)
            changed += 1
            print(f"updated {path.name}")
    print(f"{len(cases())} cases and {len(phase_cases())} phase dumps, {changed} updated")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main(sys.argv[1:]))
