"""The environment name rule: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, 1 to 63 characters (contract)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemgr.errors import InvalidName, UsageError
from statemgr.model import EnvironmentName
from statemgr.model.names import check_name

# Written from the contract, independently of statemgr.model.names.
RULE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

BAD_NAMES = {
    "slash": ("web/prod", "path separator"),
    "backslash": ("web\\prod", "path separator"),
    "parent": ("..", "dot"),
    "dot": ("web.prod", "dot"),
    "upper": ("Staging", "upper-case"),
    "upper inside": ("stAging", "upper-case"),
    "leading digit": ("1web", "starts with a digit"),
    "double dash": ("web--prod", "double dash"),
    "64 chars": ("a" * 64, "64 characters"),
    "empty": ("", "empty"),
    "trailing dash": ("web-", "dash"),
    "leading dash": ("-web", "dash"),
    "space": ("web prod", "' '"),
    "underscore": ("web_prod", "'_'"),
    "unicode letter": ("wéb", "'é'"),
    "trailing newline": ("web\n", "'\\n'"),
    "nul": ("web\x00", "'\\x00'"),
}
GOOD_NAMES = ["a", "staging", "web-1", "a1-b2-c3", "x" * 63, "z" + "-9" * 31]


@pytest.mark.parametrize("kind", list(BAD_NAMES))
def test_a_bad_name_is_refused_with_the_rule(kind: str) -> None:
    """Tried: one bad name of each kind; the message names it, says why and gives the rule."""
    name, reason = BAD_NAMES[kind]
    with pytest.raises(InvalidName) as refused:
        EnvironmentName(name)
    message = str(refused.value)
    assert repr(name) in message
    assert reason in refused.value.reason
    assert InvalidName.RULE in message
    assert "1 to 63" in message and "^[a-z][a-z0-9]*(-[a-z0-9]+)*$" in message
    assert refused.value.exit_code == 2 and isinstance(refused.value, UsageError)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_a_good_name_passes_unchanged(name: str) -> None:
    """Tried: short, dashed, digit-bearing names and one of exactly 63 characters."""
    checked = check_name(name)
    assert checked == name and isinstance(checked, EnvironmentName)
    assert EnvironmentName(checked) is checked


def test_63_characters_pass_and_64_do_not() -> None:
    """Tried: the same pattern at 63 and at 64 characters."""
    assert len(EnvironmentName("a" + "-b" * 31)) == 63
    with pytest.raises(InvalidName, match="64 characters"):
        EnvironmentName("a" + "-b" * 31 + "c")


@pytest.mark.parametrize("value", [None, 7, b"web", ["web"]])
def test_a_non_string_is_refused(value: object) -> None:
    """Tried: None, an int, bytes and a list where a name goes."""
    with pytest.raises(InvalidName, match="expected a string"):
        EnvironmentName(value)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab9-_./A \n\té"), max_size=70) | st.text(max_size=8))
def test_a_name_is_accepted_exactly_when_the_rule_says_so(name: str) -> None:
    """Tried: random text, mostly from characters near the rule's edges."""
    should_pass = RULE.fullmatch(name) is not None and len(name) <= 63
    try:
        EnvironmentName(name)
    except InvalidName as refused:
        assert not should_pass, f"refused a good name {name!r}: {refused}"
        assert InvalidName.RULE in str(refused)
    else:
        assert should_pass, f"accepted a bad name {name!r}"


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\A[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8}){0,5}\Z"))
def test_every_name_of_the_rules_shape_passes(name: str) -> None:
    """Tried: names generated from the rule's own pattern."""
    assert EnvironmentName(name) == name
