"""After issue 12 no prefix and no option of the manual answers "not implemented yet":
each prefix of the table and each option of the list goes through the planner."""

from __future__ import annotations

import pytest

from websocat.planner.model import NotImplementedYet, SpecError
from websocat.planner.options import OPTIONS, OptionError, OptionSpec
from websocat.planner.parse import parse_stack
from websocat.planner.pipeline import plan
from websocat.planner.specs import PREFIXES
from websocat.planner.specs.unimplemented import TABLE

# A value each option's type accepts, for options that take one.
SAMPLE = {"int": "1", "float": "1", "bool": "true", "str": "x", "path": "x", "bytes": "x", "ip": "127.0.0.1"}
# Options that end the process before planning (help, version), choose a printout, or run a file.
NOT_PLANNED = {"--help", "--version", "--scenario", "--accept-from-fd", "--compose"}


def test_the_table_of_kinds_to_come_is_empty() -> None:
    assert TABLE == ()
    assert [cls.__name__ for cls in set(PREFIXES.values()) if not cls.implemented] == []


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_every_prefix_is_implemented(prefix: str) -> None:
    values = ("mirror:",) if PREFIXES[prefix].is_overlay else ("", "x", "127.0.0.1:1", "1")
    for value in values:
        try:
            parse_stack(prefix + value if prefix != "-" else prefix)
        except NotImplementedYet as exc:
            pytest.fail(f"{prefix}: {exc}")
        except SpecError:
            continue  # a value this prefix does not take: try the next
        return
    pytest.fail(f"{prefix}: no sample value parsed")


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.long not in NOT_PLANNED], ids=lambda o: o.long)
def test_every_option_is_implemented(option: OptionSpec) -> None:
    words = [option.long]
    if option.takes_value:
        words.append(SAMPLE.get(str(option.type), "1"))
    try:
        plan([*words, "literal:a", "-"])
    except NotImplementedYet as exc:
        pytest.fail(f"{option.long}: {exc}")
    except (SpecError, OptionError):
        pass  # a sample value it refuses, or a combination it does not fit: not "not implemented"
