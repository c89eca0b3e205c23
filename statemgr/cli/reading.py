"""The reading commands: status, list, history, diagram. They take no lock and never wait.

Kept light: ``statemgr.service.status`` imports no statechart machinery, runners, loguru or
portalocker, and neither does this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statemgr.cli import render
from statemgr.cli.console import Console
from statemgr.errors import NoSuchOutput, StorageError, UsageError
from statemgr.layout import Layout
from statemgr.service.status import ReadOnlyWorkspace, transition_json
from statemgr.store.base import Store

if TYPE_CHECKING:  # the quick reading command lines never import argparse
    import argparse


def store(console: Console, workdir: Path | None = None, *, views: bool = False) -> Store:
    """The store ``--store`` / STATEMGR_STORE names, for the workspace (default --workdir);
    with ``views``, one that reads into read-only views (``statemgr.store.reader``)."""
    from statemgr.store.select import open_store

    layout = Layout(workdir or console.options.workdir)
    return open_store(console.options.store, layout, views=views)


def workspace(console: Console) -> ReadOnlyWorkspace:
    """The reading half of the workspace: it never imports attrs (nor makes a change)."""
    return ReadOnlyWorkspace(console.options.workdir, store=store(console, views=True))


def show_status(console: Console, name: str) -> None:
    """The environment's status: JSON with --json, else a few lines for a person."""
    document = workspace(console).status(name).to_json()
    if console.json_mode:
        console.json(document)
        return
    for line in render.status_lines(document, console.paint):
        console.out(line)


def status(arguments: argparse.Namespace, console: Console) -> int:
    show_status(console, arguments.name)
    return 0


def output(arguments: argparse.Namespace, console: Console) -> int:
    """The outputs as ``KEY=VALUE`` lines (a JSON object with --json); with KEY, its value."""
    outputs = workspace(console).load(arguments.name).outputs
    if arguments.key is not None:
        if arguments.key not in outputs:
            raise NoSuchOutput(arguments.name, arguments.key, sorted(outputs))
        value = outputs[arguments.key]
        if console.json_mode:
            console.json(value)
        else:
            console.stdout.write(value + "\n")
            console.stdout.flush()
        return 0
    if console.json_mode:
        console.json(dict(sorted(outputs.items())))
    elif not outputs:
        console.info(f"environment '{arguments.name}' has no outputs")
    else:
        console.stdout.write(render.outputs_text(outputs))
        console.stdout.flush()
    return 0


def list_environments(arguments: argparse.Namespace, console: Console) -> int:
    entries = [entry.to_json() for entry in workspace(console).list()]  # sorted by name
    return _show(console, entries, render.list_lines)


def history(arguments: argparse.Namespace, console: Console) -> int:
    entries = [transition_json(line) for line in workspace(console).history(arguments.name)]
    return _show(console, entries, render.history_lines)


def _show(
    console: Console,
    entries: list[dict[str, Any]],
    lines: Callable[[Sequence[dict[str, Any]]], list[str]],
) -> int:
    """``entries`` as JSON with --json, else as the lines a person reads."""
    if console.json_mode:
        console.json(entries)
    else:
        for line in lines(entries):
            console.out(line)
    return 0


def diagram(arguments: argparse.Namespace, console: Console) -> int:
    from statemgr.diagram import IMAGE_FORMATS
    from statemgr.diagram import render as render_diagram

    to_screen = console.json_mode or console.stdout.isatty()
    if arguments.format in IMAGE_FORMATS and not arguments.output and to_screen:
        raise UsageError(f"--format {arguments.format} here needs -o FILE")
    highlight = None
    if arguments.env:
        highlight = workspace(console).load(arguments.env).state.name
    drawing = render_diagram(arguments.format, highlight)
    if arguments.output:
        _write(Path(arguments.output), drawing)
        console.info(f"wrote the {arguments.format} diagram to {arguments.output}")
        if console.json_mode:
            console.json({"format": arguments.format, "output": arguments.output})
        return 0
    if console.json_mode and isinstance(drawing, str):
        console.json({"format": arguments.format, "diagram": drawing})
        return 0
    if isinstance(drawing, bytes):
        console.stdout.flush()
        console.stdout.buffer.write(drawing)
        console.stdout.buffer.flush()
    else:
        console.stdout.write(drawing if drawing.endswith("\n") else drawing + "\n")
        console.stdout.flush()
    return 0


def _write(path: Path, drawing: str | bytes) -> None:
    data = drawing.encode() if isinstance(drawing, str) else drawing
    try:
        path.write_bytes(data)
    except OSError as error:
        raise StorageError(str(path), "write the diagram to", error) from None
