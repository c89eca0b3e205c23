"""The phases of a config: ``[[PHASE.steps]]`` tables, their keys and placeholders."""

from __future__ import annotations

import math
import re
from typing import Any

from machines.names import Phase
from statemgr.config.problems import (
    Problems,
    as_table,
    expected,
    non_empty_string,
    shown,
    unknown_keys,
)
from statemgr.model import Phases, Step
from statemgr.model.environment import (
    DEFAULT_RETRY_DELAY,
    DEFAULT_STEP_TIMEOUT,
    MAX_RETRIES,
    STEP_NAME_PATTERN,
)
from statemgr.model.placeholders import BUILTIN_VARIABLES, KEY_RULE, Template

KNOWN_PLACEHOLDERS = tuple(BUILTIN_VARIABLES)
SSH_PLACEHOLDERS = frozenset(p for p in KNOWN_PLACEHOLDERS if p.startswith("ssh_"))
CALL_PATTERN = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$", re.ASCII)
ENV_VAR_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

PHASE_NAMES = tuple(phase.value for phase in Phase)
PHASE_KEYS = ("steps",)
STEP_KEYS = ("name", "run", "call", "cwd", "timeout", "env", "retries", "retry_delay")


def phases_of(document: dict[str, Any], ssh_declared: bool, problems: Problems) -> Phases:
    """The steps of every phase in ``document``; ``ssh_declared``: whether [ssh] is present."""
    steps: dict[str, tuple[Step, ...]] = {}
    for phase in PHASE_NAMES:
        if phase in document:
            steps[phase] = _phase_steps(phase, document[phase], ssh_declared, problems)
    return Phases(**steps)


def _phase_steps(
    phase: str, value: object, ssh_declared: bool, problems: Problems
) -> tuple[Step, ...]:
    if not isinstance(value, dict):
        problems.add(phase, expected(f"a table of [[{phase}.steps]]", value))
        return ()
    unknown_keys(value, PHASE_KEYS, phase, problems)
    entries = value.get("steps", [])
    if not isinstance(entries, list):
        problems.add(f"{phase}.steps", expected(f"an array of tables [[{phase}.steps]]", entries))
        return ()
    steps = [
        _step(entry, f"{phase}.steps[{index}]", ssh_declared, problems)
        for index, entry in enumerate(entries)
    ]
    _check_unique_names(phase, entries, problems)
    return tuple(step for step in steps if step is not None)


def _check_unique_names(phase: str, entries: list[Any], problems: Problems) -> None:
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        if name in first_index:
            problems.add(
                f"{phase}.steps[{index}].name",
                f"duplicate step name {shown(name)} (also {phase}.steps[{first_index[name]}]):"
                " step names are unique within a phase",
            )
        else:
            first_index[name] = index


def _step(entry: object, where: str, ssh_declared: bool, problems: Problems) -> Step | None:
    table = as_table(entry, where, problems)
    if table is None:
        return None
    before = len(problems.items)
    unknown_keys(table, STEP_KEYS, where, problems)
    name = _step_name(table, where, problems)
    run, call = _step_action(table, where, problems)
    cwd = _optional_string(table, "cwd", where, problems)
    timeout = _timeout(table, where, call is not None, problems)
    if call is not None:
        for key in ("cwd", "env"):
            if key in table:
                problems.add(
                    f"{where}.{key}",
                    f"'{key}' applies to command steps ('run') only: a Python step runs in "
                    "statemgr's own process (see the step context for its folders)",
                )
    env = _env(table, where, problems)
    retries, retry_delay = _retries(table, where, problems)
    _check_placeholders(_texts(where, run, cwd, env), ssh_declared, problems)
    if len(problems.items) > before or name is None:
        return None
    return Step(
        name=name,
        run=run,
        call=call,
        cwd=cwd,
        timeout=timeout,
        env=env,
        retries=retries,
        retry_delay=retry_delay,
    )


def _step_name(table: dict[str, Any], where: str, problems: Problems) -> str | None:
    if "name" not in table:
        problems.add(f"{where}.name", "missing: every step needs a name")
        return None
    value = table["name"]
    if isinstance(value, str) and STEP_NAME_PATTERN.fullmatch(value):
        return value
    rule = "a step name of lower-case letters, digits and '_', starting with a letter"
    problems.add(f"{where}.name", expected(f"{rule} (^[a-z][a-z0-9_]*$)", value))
    return None


def _step_action(
    table: dict[str, Any], where: str, problems: Problems
) -> tuple[tuple[str, ...] | str | None, str | None]:
    """``run`` (argv list, or a string for ``sh -c``) or ``call``: exactly one of them."""
    if ("run" in table) == ("call" in table):
        got = "both" if "run" in table else "neither"
        problems.add(where, f"expected exactly one of 'run' or 'call', got {got}")
    run: tuple[str, ...] | str | None = None
    call: str | None = None
    if "run" in table:
        run = _run(table["run"], f"{where}.run", problems)
    if "call" in table:
        value = table["call"]
        if isinstance(value, str) and CALL_PATTERN.fullmatch(value):
            call = value
        else:
            problems.add(f"{where}.call", expected('"package.module:function"', value))
    return run, call


def _run(value: object, where: str, problems: Problems) -> tuple[str, ...] | str | None:
    if isinstance(value, str) and value.strip():
        return value
    if not isinstance(value, list) or not value:
        wanted = "a non-empty array of strings (argv) or a non-empty string (run by sh -c)"
        problems.add(where, expected(wanted, value))
        return None
    not_strings = [(index, part) for index, part in enumerate(value) if not isinstance(part, str)]
    for index, part in not_strings:
        problems.add(f"{where}[{index}]", expected("a string", part))
    if not_strings:
        return None
    if not value[0].strip():
        problems.add(f"{where}[0]", expected("the program to run", value[0]))
        return None
    return tuple(value)


def _optional_string(table: dict[str, Any], key: str, where: str, problems: Problems) -> str | None:
    if key not in table:
        return None
    return non_empty_string(table[key], f"{where}.{key}", problems)


def _timeout(table: dict[str, Any], where: str, is_call: bool, problems: Problems) -> float:
    if "timeout" not in table:
        return DEFAULT_STEP_TIMEOUT
    value = table["timeout"]
    if is_call:
        problems.add(f"{where}.timeout", "a timeout applies to command steps ('run') only")
    elif _is_positive_number(value):
        return float(value)
    else:
        problems.add(f"{where}.timeout", expected("a positive number of seconds", value))
    return DEFAULT_STEP_TIMEOUT


def _retries(table: dict[str, Any], where: str, problems: Problems) -> tuple[int, float]:
    """``retries`` (an integer 0-100, default 0) and ``retry_delay`` (seconds >= 0, default 5)."""
    retries = table.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        problems.add(f"{where}.retries", expected(f"an integer from 0 to {MAX_RETRIES}", retries))
        retries = 0
    delay = table.get("retry_delay", DEFAULT_RETRY_DELAY)
    if _is_positive_number(delay) or (type(delay) in (int, float) and delay == 0):
        return retries, float(delay)
    problems.add(f"{where}.retry_delay", expected("0 or more seconds", delay))
    return retries, DEFAULT_RETRY_DELAY


def _is_positive_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


def _env(table: dict[str, Any], where: str, problems: Problems) -> dict[str, str]:
    if "env" not in table:
        return {}
    value = as_table(table["env"], f"{where}.env", problems)
    if value is None:
        return {}
    env: dict[str, str] = {}
    for key, text in value.items():
        if not ENV_VAR_PATTERN.fullmatch(key):
            problems.add(f"{where}.env.{key}", "expected a variable name ([A-Za-z_][A-Za-z0-9_]*)")
        elif not isinstance(text, str):
            problems.add(f"{where}.env.{key}", expected("a string (quote it)", text))
        else:
            env[key] = text
    return env


# --- placeholders ------------------------------------------------------------------------


def _texts(
    where: str, run: tuple[str, ...] | str | None, cwd: str | None, env: dict[str, str]
) -> list[tuple[str, str]]:
    """(key path, text) of every string in which placeholders are expanded."""
    texts: list[tuple[str, str]] = []
    if isinstance(run, str):
        texts.append((f"{where}.run", run))
    elif run is not None:
        texts.extend((f"{where}.run[{index}]", part) for index, part in enumerate(run))
    if cwd is not None:
        texts.append((f"{where}.cwd", cwd))
    texts.extend((f"{where}.env.{key}", value) for key, value in env.items())
    return texts


def _check_placeholders(
    texts: list[tuple[str, str]], ssh_declared: bool, problems: Problems
) -> None:
    known = " ".join("{" + name + "}" for name in KNOWN_PLACEHOLDERS)
    for where, text in texts:
        for placeholder in Template.parse(text).placeholders:
            if not placeholder.known:
                scoped = f"{{var.KEY}} {{outputs.KEY}} (KEY: {KEY_RULE})"
                problems.add(
                    where,
                    f"unknown placeholder {placeholder.text} (known: {known} {scoped}; "
                    "write {{ and }} for a literal brace)",
                )
            elif not placeholder.scope and placeholder.key in SSH_PLACEHOLDERS and not ssh_declared:
                problems.add(where, f"placeholder {placeholder.text} needs an [ssh] section")
