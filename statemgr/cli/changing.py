"""The commands that change state: create, the phases, deploy, destroy, recover, purge
(and validate, which only reads a config). Imported only when one of them runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from machines.names import Phase
from statemgr.cli.console import Console, shown
from statemgr.cli.progress import Progress
from statemgr.cli.reading import show_status, store
from statemgr.model import Snapshot
from statemgr.service.workspace import Workspace


@contextmanager
def workspace(console: Console, workdir: Path | None = None) -> Iterator[Workspace]:
    """A workspace whose progress goes to the console; the live timer stops at the end."""
    progress = Progress(console)
    workdir = workdir or console.options.workdir
    try:
        yield Workspace(
            workdir,
            store=store(console, workdir),
            lock_timeout=console.options.lock_timeout,
            observer=progress,
        )
    finally:
        progress.close()


def suggest(console: Console, command: str) -> str:
    """``statemgr COMMAND``, with --workdir when the workspace is not the current folder."""
    workdir = console.options.workdir
    here = Path.cwd().absolute()
    from_env = os.environ.get("STATEMGR_WORKDIR")
    if workdir == here or (from_env and Path(from_env).absolute() == workdir):
        return f"statemgr {command}"
    return f"statemgr --workdir {shlex.quote(shown(workdir))} {command}"


def finished(console: Console, name: str, *lines: str) -> int:
    """After a successful change: the status JSON with --json, else ``lines`` for a person."""
    if console.json_mode:
        show_status(console, name)
    else:
        for line in lines:
            console.out(line)
    return 0


def now_in(console: Console, name: str) -> str:
    from statemgr.service.status import ReadOnlyWorkspace

    report = ReadOnlyWorkspace(console.options.workdir, store=store(console)).status(name)
    state = console.paint(report.snapshot.display_name, "bold")
    following = report.next_steps[0] if report.next_steps else None
    return f"{name}: {state}" + (f"; next: {following}" if following else "")


# --- commands -------------------------------------------------------------------------


def validate(arguments: argparse.Namespace, console: Console) -> int:
    from statemgr.config import load_config

    environment = load_config(arguments.config)
    counts = {phase.value: len(environment.phases.steps(phase)) for phase in Phase}
    if console.json_mode:
        console.json(
            {
                "valid": True,
                "config": arguments.config,
                "name": str(environment.name),
                "steps": counts,
            }
        )
        return 0
    listed = ", ".join(
        f"{phase} {count}" for phase, count in counts.items() if count or phase != "check"
    )
    console.out(f"{arguments.config}: valid; environment '{environment.name}' (steps: {listed})")
    return 0


def create(arguments: argparse.Namespace, console: Console) -> int:
    with workspace(console) as ws:
        snapshot = ws.create(arguments.config)
    name = snapshot.name
    return finished(
        console,
        name,
        f"created environment '{name}' ({snapshot.display_name}) from {arguments.config}",
        "next:",
        f"  {suggest(console, f'deploy {name}')}      # every phase up to running",
        f"  {suggest(console, f'provision {name}')}   # or one phase at a time",
        f"  {suggest(console, f'status {name}')}      # where it stands",
    )


def planned(arguments: argparse.Namespace, console: Console) -> int:
    """A phase command, deploy, redeploy or destroy (with --resume and --var)."""
    return _then_status(
        console,
        arguments.name,
        lambda ws: ws.execute(
            arguments.name,
            arguments.command,
            resume=arguments.resume,
            variables=dict(arguments.variables),
        ),
    )


def check(arguments: argparse.Namespace, console: Console) -> int:
    """The health checks of a running environment (--var); a healthy one writes nothing."""
    return _then_status(
        console,
        arguments.name,
        lambda ws: ws.check(arguments.name, variables=dict(arguments.variables)),
    )


def recover(arguments: argparse.Namespace, console: Console) -> int:
    return _then_status(console, arguments.name, lambda ws: ws.recover(arguments.name))


def _then_status(console: Console, name: str, command: Callable[[Workspace], Snapshot]) -> int:
    """Run ``command`` on the workspace, then say where ``name`` stands now."""
    with workspace(console) as ws:
        command(ws)
    return finished(console, name, now_in(console, name))


def purge(arguments: argparse.Namespace, console: Console) -> int:
    name = arguments.name
    with workspace(console) as ws:
        ws.purge(name, force=arguments.force)
    if console.json_mode:
        console.json({"name": name, "purged": True})
    else:
        console.out(f"purged environment '{name}': removed data/{name} and build/{name}")
    return 0
