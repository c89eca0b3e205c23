"""The statechart diagram: Mermaid and DOT text, SVG/PNG through Graphviz."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_lifecycle import ALLOWED, DISPLAY, EVENTS, STATES

from machines.names import StateName
from statemgr.diagram import render
from statemgr.errors import InternalError, UsageError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def text(fmt: str, highlight: StateName | None = None) -> str:
    rendered = render(fmt, highlight)
    assert isinstance(rendered, str)
    return rendered


def test_mermaid_has_every_state_and_exactly_the_contracts_transitions() -> None:
    """Tried: render("mermaid") with no highlight."""
    diagram = text("mermaid")
    assert diagram.startswith("stateDiagram-v2\n")
    for state in STATES:
        assert f'state "{DISPLAY[state]}" as {state}\n' in diagram
    edges = set(re.findall(r"^ +(\w+) --> (\w+) : (\w+)$", diagram, re.MULTILINE))
    assert edges == {(source, target, event) for (source, event), target in ALLOWED.items()}
    assert {event for _, _, event in edges} == set(EVENTS)
    assert "[*] --> created\n" in diagram and "destroyed --> [*]\n" in diagram
    assert "active" not in diagram


def test_dot_has_every_state_and_exactly_the_contracts_transitions() -> None:
    """Tried: render("dot") with no highlight."""
    diagram = text("dot")
    assert diagram.startswith("digraph DeploymentLifecycle {\n") and diagram.endswith("}\n")
    for state in STATES:
        assert re.search(rf'^ +{state} \[label="{DISPLAY[state]}"', diagram, re.MULTILINE)
    edges = set(re.findall(r'^ +(\w+) -> (\w+) \[label="(\w+)"\];$', diagram, re.MULTILINE))
    assert edges == {(source, target, event) for (source, event), target in ALLOWED.items()}
    assert "fillcolor" not in diagram


@pytest.mark.parametrize("state", list(StateName))
def test_highlight_marks_that_state_only(state: StateName) -> None:
    """Tried: each state highlighted, in mermaid and in dot."""
    mermaid = text("mermaid", state)
    assert re.findall(r"^ +class (\w+) active$", mermaid, re.MULTILINE) == [state.value]
    assert "classDef active" in mermaid
    dot = text("dot", state)
    filled = re.findall(r"^ +(\w+) \[[^\]]*fillcolor", dot, re.MULTILINE)
    assert filled == [state.value]


def test_the_text_is_the_same_in_every_process() -> None:
    """Tried: mermaid and dot rendered in two fresh interpreters with different hash seeds."""
    code = "from statemgr.diagram import render; print(render('mermaid') + render('dot'), end='')"
    outputs = []
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=environment
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == text("mermaid") + text("dot")


@needs_dot
def test_svg_renders_with_dot() -> None:
    """Tried: render("svg", running) with Graphviz installed."""
    svg = render("svg", StateName.running)
    assert isinstance(svg, bytes)
    assert b"<svg" in svg and svg.rstrip().endswith(b"</svg>")
    for state in STATES:
        assert DISPLAY[state].encode() in svg
    assert b"#40e0d0" in svg.lower()


@needs_dot
def test_png_renders_with_dot() -> None:
    """Tried: render("png") with Graphviz installed."""
    png = render("png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_missing_dot_says_which_package_to_install(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: svg and png with PATH set to an empty folder."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as refused:
        render(fmt)
    message = str(refused.value)
    assert "'dot' program of Graphviz" in message
    assert "apt-get install graphviz" in message
    assert refused.value.exit_code == 2


def test_text_formats_need_no_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: mermaid and dot with PATH set to an empty folder."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "stateDiagram-v2" in text("mermaid")
    assert "digraph" in text("dot")


def test_a_failing_dot_is_an_internal_error_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: a fake 'dot' on PATH that prints to stderr and exits 3."""
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: renderer for svg is unavailable' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InternalError, match="exit code 3: Error: renderer for svg is unavailable"):
        render("svg")


@pytest.mark.parametrize("fmt", ["pdf", "MERMAID", "", "md"])
def test_an_unknown_format_is_a_usage_error(fmt: str) -> None:
    """Tried: formats the contract does not offer."""
    with pytest.raises(UsageError, match="expected one of mermaid, dot, svg, png"):
        render(fmt)


def test_an_unknown_state_to_highlight_is_a_usage_error() -> None:
    """Tried: highlighting a state name that does not exist."""
    with pytest.raises(UsageError, match="unknown state 'halfway'"):
        render("mermaid", "halfway")  # type: ignore[arg-type]
