"""The lifecycle statechart as a diagram: Mermaid or DOT text, or an SVG/PNG image.

The text is built here from the statechart's transition table (``machines.table``; a
test keeps it equal to what ``DeploymentLifecycle`` declares), not by python-statemachine's
own renderers: theirs label states
in sentence case ("Provision failed") where the contract says title case, their DOT
output needs ``pydot``, and a library upgrade could change their text, while the
committed docs diagram is compared with ``render("mermaid")`` byte for byte. States come
in ``StateName`` order and each state's transitions in declaration order, so the text is
deterministic. Edges are labelled with the event names, as ``history`` shows them.

``svg`` and ``png`` run Graphviz's ``dot`` program on the DOT text.
"""

from __future__ import annotations

import shutil
import subprocess

from machines.names import StateName
from statemgr.errors import InternalError, UsageError

__all__ = ["FORMATS", "GRAPHVIZ_MISSING", "IMAGE_FORMATS", "TEXT_FORMATS", "render"]

TEXT_FORMATS = ("mermaid", "dot")
IMAGE_FORMATS = ("svg", "png")
FORMATS = TEXT_FORMATS + IMAGE_FORMATS
GRAPHVIZ_MISSING = (
    "the 'dot' program of Graphviz is needed for svg/png: install the graphviz package "
    "(apt-get install graphviz), or use --format mermaid or dot, which need no program"
)
DOT_TIMEOUT_SECONDS = 60

_ACTIVE_FILL = "#40E0D0"
_ACTIVE_STROKE = "#333333"
_INDENT = "    "


def render(fmt: str, highlight: StateName | None = None) -> str | bytes:
    """The statechart in ``fmt``: ``mermaid`` or ``dot`` text (str), ``svg`` or ``png`` (bytes).

    ``highlight`` marks one state, such as an environment's current state. Raises
    ``UsageError`` for an unknown format or state, or when ``dot`` is missing for an image.
    """
    marked = _state(highlight)
    if fmt == "mermaid":
        return mermaid(marked)
    if fmt == "dot":
        return dot(marked)
    if fmt in IMAGE_FORMATS:
        return _run_graphviz(dot(marked), fmt)
    raise UsageError(f"unknown diagram format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _state(highlight: StateName | str | None) -> StateName | None:
    if highlight is None:
        return None
    try:
        return StateName(highlight)
    except ValueError:
        known = ", ".join(StateName)
        raise UsageError(f"unknown state {highlight!r} to highlight (known: {known})") from None


def _edges() -> list[tuple[StateName, str, StateName]]:
    """(source, event, target) of every transition, in a stable order."""
    from machines.table import transition_table

    table = transition_table()
    return [
        (source, event.value, target)
        for source in StateName
        for event, target in table[source].items()
    ]


def mermaid(highlight: StateName | None = None) -> str:
    """A Mermaid ``stateDiagram-v2`` of the lifecycle."""
    lines = ["stateDiagram-v2", f"{_INDENT}direction LR"]
    lines += [f'{_INDENT}state "{state.display}" as {state.value}' for state in StateName]
    lines.append(f"{_INDENT}[*] --> {StateName.created.value}")
    lines += [f"{_INDENT}{s.value} --> {t.value} : {event}" for s, event, t in _edges()]
    lines.append(f"{_INDENT}{StateName.destroyed.value} --> [*]")
    if highlight is not None:
        lines.append(f"{_INDENT}classDef active fill:{_ACTIVE_FILL},stroke:{_ACTIVE_STROKE}")
        lines.append(f"{_INDENT}class {highlight.value} active")
    return "\n".join(lines) + "\n"


def dot(highlight: StateName | None = None) -> str:
    """A Graphviz DOT digraph of the lifecycle."""
    lines = [
        "digraph DeploymentLifecycle {",
        f"{_INDENT}rankdir=LR;",
        f'{_INDENT}node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
        f'{_INDENT}edge [fontname="Helvetica", fontsize=9];',
        f'{_INDENT}start [shape=point, width=0.15, label=""];',
    ]
    lines += [f"{_INDENT}{state.value} [{_dot_node(state, highlight)}];" for state in StateName]
    lines.append(f"{_INDENT}start -> {StateName.created.value};")
    lines += [f'{_INDENT}{s.value} -> {t.value} [label="{event}"];' for s, event, t in _edges()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(state: StateName, highlight: StateName | None) -> str:
    attributes = [f'label="{state.display}"']
    if state is StateName.destroyed:
        attributes.append("peripheries=2")
    if state is highlight:
        attributes += ['style="rounded,filled"', f'fillcolor="{_ACTIVE_FILL}"', "penwidth=2"]
    return ", ".join(attributes)


def _run_graphviz(source: str, fmt: str) -> bytes:
    program = shutil.which("dot")
    if program is None:
        raise UsageError(GRAPHVIZ_MISSING)
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=source.encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError(GRAPHVIZ_MISSING) from None
    except (OSError, subprocess.TimeoutExpired) as failed:
        raise InternalError(
            f"Graphviz 'dot -T{fmt}' could not render the diagram: {failed}"
        ) from failed
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip() or "no message"
        raise InternalError(
            f"Graphviz 'dot -T{fmt}' failed with exit code {done.returncode}: {said}"
        )
    return done.stdout
