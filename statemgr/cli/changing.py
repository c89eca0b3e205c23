"""The commands that change state: create, the phases, deploy, destroy, recover, purge
(and validate, which only reads a config). Imported only when one of them runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from machines.names import Phase
from statemgr.cli.console import Console
from statemgr.cli.progress import Progress
from statemgr.cli.reading import show_status, store
from statemgr.hints import suggest
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


def home_of(console: Console) -> str:
    """Where environments live for this command: the workspace, or the store's URL."""
    store = console.options.store
    if store == "file":
        return f"the workspace {console.options.workdir}"
    from statemgr.store.select import _redacted

    return f"the store {_redacted(store)}"


def commands_with_comments(pairs: list[tuple[str, str]]) -> list[str]:
    """``  statemgr ...   # what it does`` lines, the comments aligned."""
    commands = [suggest(arguments) for arguments, _ in pairs]
    width = max(len(command) for command in commands)
    return [
        f"  {command.ljust(width)}   # {comment}"
        for command, (_, comment) in zip(commands, pairs, strict=True)
    ]


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
    from statemgr.service.checks import checked_config, config_warnings

    environment = checked_config(arguments.config)
    for warning in config_warnings(environment):
        console.err(f"{arguments.config}: warning: {warning}")
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
        f"created environment '{name}' ({snapshot.display_name}) from {arguments.config}, "
        f"in {home_of(console)}",
        "next:",
        *commands_with_comments(
            [
                (f"deploy {name}", "every phase up to running"),
                (f"provision {name}", "or one phase at a time"),
                (f"status {name}", "where it stands"),
            ]
        ),
    )


def update(arguments: argparse.Namespace, console: Console) -> int:
    with workspace(console) as ws:
        snapshot = ws.update(arguments.config)
    name = snapshot.name
    return finished(
        console,
        name,
        f"updated environment '{name}' from {arguments.config}: its steps and ssh settings "
        f"are the config's now; still {snapshot.display_name}",
        now_in(console, name),
    )


def planned(arguments: argparse.Namespace, console: Console) -> int:
    """A phase command, deploy, redeploy or destroy (with --resume and --var)."""
    if arguments.command == "destroy":
        from statemgr.cli.confirm import confirm_destroy

        confirm_destroy(console, arguments.name, arguments.yes)
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
    if arguments.force:
        from statemgr.cli.confirm import confirm_purge

        confirm_purge(console, name, arguments.yes)
    with workspace(console) as ws:
        ws.purge(name, force=arguments.force)
    if console.json_mode:
        console.json({"name": name, "purged": True})
    else:
        console.out(f"purged environment '{name}': removed data/{name} and build/{name}")
    return 0
