"""Fuzzing (issue 12): config files and argument vectors give nothing but the contract's
exit codes, and never a traceback on stderr without -v.

Most examples run ``main(argv)`` in this process (fast, so hypothesis can try many);
a smaller set runs the installed ``statemgr`` in a subprocess, start-up included.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statemgr.cli import main

from .support import CONTRACT_EXIT_CODES, STATEMGR, installed, no_traceback, write_config

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- config files ---------------------------------------------------------------------------

KEYS = st.sampled_from(
    ["environment", "name", "ssh", "username", "private_key", "public_key", "port",
     "provision", "configure", "release", "run", "destroy", "check", "steps", "cwd",
     "timeout", "env", "call", "retries", "retry_delay", "x", "\u00e9", ""]
)  # fmt: skip
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(
    ["web", "{name}", "{build_dir}", "{nope}", "{var.X}", "$(id)", "a\x00b", "../..", "/", ""]
)
SCALARS = TEXT | st.integers() | st.floats(allow_nan=True) | st.booleans()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
STEP = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "Bad-Name", ""]) | TEXT},
    optional={
        "run": st.lists(TEXT, max_size=3) | TEXT,
        "call": TEXT,
        "cwd": TEXT,
        "timeout": SCALARS,
        "env": st.dictionaries(TEXT, TEXT, max_size=2),
        "retries": SCALARS,
        "x": VALUES,
    },
)


def _toml(document: dict[str, object]) -> str:
    import json

    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, float) and math.isnan(item):
            return "nan"
        if isinstance(item, float) and item in (float("inf"), float("-inf")):
            return "inf" if item > 0 else "-inf"
        if isinstance(item, int | float):
            return repr(item)
        if isinstance(item, str):
            return json.dumps(item)
        if isinstance(item, list):
            return "[" + ", ".join(value(x) for x in item) + "]"
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(v)}" for k, v in item.items()) + " }"
        raise TypeError(item)

    return "\n".join(f"{json.dumps(key)} = {value(item)}" for key, item in document.items())


CONFIGS = st.one_of(
    st.builds(
        lambda name, steps, extra: (
            _toml({"environment": {"name": name}, **extra})
            + "".join("\n[[provision.steps]]\n" + _toml(step) for step in steps)
        ),
        st.sampled_from(["web", "Web", "", "a" * 70]) | TEXT,
        st.lists(STEP, max_size=3),
        st.dictionaries(KEYS, VALUES, max_size=3),
    ),
    st.binary(max_size=200).map(lambda data: data.decode("latin-1")),
    TEXT,
)


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="statemgr-fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def _check(code: int, err: str, argv: list[str]) -> None:
    assert code in CONTRACT_EXIT_CODES, (argv, code, err)
    if not {"-v", "--verbose"} & set(argv):
        assert no_traceback(err), (argv, err)


@FUZZ
@given(text=CONFIGS)
def test_fuzzed_configs_give_only_contract_exit_codes(text: str) -> None:
    with _scratch() as folder:
        config = folder / "env.toml"
        config.write_text(text, encoding="utf-8", errors="surrogatepass")
        for argv in (["validate", str(config)], ["create", str(config)]):
            code, _, err = _run(argv, folder)
            _check(code, err, argv)


# --- argument vectors -------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["create", "validate", "provision", "configure", "release", "run", "deploy", "redeploy",
     "check", "destroy", "status", "list", "history", "recover", "purge", "diagram", "output",
     "logs", "update", "--json", "-v", "-q", "-y", "--yes", "--force", "--resume", "--list",
     "--lock-timeout", "-1", "0", "1e309", "nan", "--var", "A=1", "=", "--run", "--format",
     "mermaid", "svg", "--env", "web", "gone", "Web", "web/../x", "--workdir", "-", "--",
     "--store", "file", "postgresql://nowhere.invalid/x", "web.toml", "--help-me", "x" * 300,
     "\u00e9", "--version"]
)  # fmt: skip
COMMAND_WORDS = st.sampled_from(
    ["create", "validate", "provision", "configure", "release", "run", "deploy", "redeploy",
     "check", "destroy", "status", "list", "history", "recover", "purge", "diagram",
     "output", "logs", "update"]
)  # fmt: skip
GLOBAL = st.lists(
    st.sampled_from(
        [["--json"], ["-v"], ["-q"], ["--lock-timeout", "0"], ["--lock-timeout", "0.5"],
         ["--store", "file"]]
    ),
    max_size=2,
).map(lambda groups: [word for group in groups for word in group])  # fmt: skip
ODD = st.sampled_from(
    [[]] * 12 + [["--force"], ["--resume"], ["--list"], ["--lock-timeout", "-1"],
     ["--lock-timeout", "nan"], ["--var", "A=1"], ["--var", "=x"], ["--format", "dot"],
     ["--env", "web"], ["--store", "nope://x"], ["--run", "x.log"]]
)  # fmt: skip
GOOD_NAMES = st.sampled_from(["web"] * 6 + ["gone", "Web", "-web", "a" * 64, "web.toml"])
NAMES = st.one_of(GOOD_NAMES, GOOD_NAMES, GOOD_NAMES, TEXT)
STRUCTURED = st.builds(
    lambda before, command, name, after: [*before, command, name, *after],
    GLOBAL, COMMAND_WORDS, NAMES, ODD,
)  # fmt: skip
ARGV = STRUCTURED.map(lambda argv: [w for w in argv if "\x00" not in w]) | st.lists(
    WORDS | TEXT.filter(lambda text: "\x00" not in text), max_size=6
)


@pytest.fixture(scope="module")
def fuzz_workspace() -> Iterator[Path]:
    """A workspace with 'web' created (its steps do nothing) and a config beside it."""
    with _scratch() as folder:
        phases = {
            phase: [{"name": "s", "run": ["true"]}]
            for phase in ("provision", "configure", "release", "run", "destroy")
        }
        config = write_config(folder, "web", **phases)
        assert _run(["create", str(config)], folder)[0] == 0
        yield folder


def _safe(argv: list[str]) -> list[str]:
    """Keep the fuzzed command in its workspace: --workdir and -o name places inside it."""
    kept = []
    for word in argv:
        if word in ("demo", "-o", "--output", "--dir"):
            continue
        kept.append(word)
    if "--workdir" in kept:
        kept[kept.index("--workdir")] = "--lock-timeout"
    return kept


@FUZZ
@given(argv=ARGV)
def test_fuzzed_argument_vectors_give_only_contract_exit_codes(
    fuzz_workspace: Path, argv: list[str]
) -> None:
    argv = _safe(argv)
    code, _, err = _run(argv, fuzz_workspace)
    _check(code, err, argv)


@pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv=ARGV)
def test_fuzzed_argument_vectors_through_the_installed_statemgr(
    fuzz_workspace: Path, argv: list[str]
) -> None:
    argv = _safe(argv)
    result = installed(*argv, cwd=fuzz_workspace, timeout=60)
    _check(result.code, result.err, argv)
