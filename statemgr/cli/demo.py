"""``statemgr demo [--dir DIR] [--keep]``: the whole lifecycle of the built-in environment.

It installs the demo's files (a real config, ``DIR/demo/demo.toml``, that users can copy),
clears the demo environment of an earlier run, creates and deploys it with progress, shows
its status (with the outputs its steps handed on, the application's address among them),
runs its health check, and destroys it again unless ``--keep``.
The exit code is that of the first command that fails; when deploy fails, the demo still
destroys what it started (unless ``--keep``), so that no process is left behind.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from statemgr.cli.changing import workspace
from statemgr.cli.console import Console, shown
from statemgr.cli.reading import show_status
from statemgr.errors import StateFileUnreadable, StatemgrError
from statemgr.hints import suggest
from statemgr.service.workspace import Workspace

APP_PID_FILE = Path("instance") / "app.pid"


def demo(arguments: argparse.Namespace, console: Console) -> int:
    from statemgr.demo import DEMO_ENVIRONMENT, install_demo

    name = DEMO_ENVIRONMENT
    workdir = console.options.workdir
    config = install_demo(workdir)
    _say(console, f"the demo's workspace: {shown(workdir)}; its config: {shown(config)}")
    with workspace(console) as ws:
        _clear_earlier_run(ws, console, name)
        _announce(console, f"create {shlex.quote(shown(config))}")
        ws.create(config)
        _announce(console, f"deploy {name}")
        _deploy(ws, console, name, keep=arguments.keep)
        _announce(console, f"status {name}")
        _show_running(ws, console, name, keep=arguments.keep)
        _announce(console, f"check {name}")
        ws.check(name)
        _say(console, f"{name}: healthy: its check passed, and nothing was written")
        url = app_url(ws, name)
        if not arguments.keep:
            _announce(console, f"destroy {name}")
            ws.destroy(name)
    if console.json_mode:
        show_status(console, name)
    _look_around(console, name, config, url, kept=arguments.keep)
    return 0


def _say(console: Console, text: str = "") -> None:
    console.out(text)


def _announce(console: Console, command: str) -> None:
    """The command the demo runs next, as the user would type it."""
    _say(console)
    _say(console, console.paint(f"$ {suggest(command)}", "cyan+bold"))


def _clear_earlier_run(ws: Workspace, console: Console, name: str) -> None:
    if not ws.store.exists(name):
        return
    console.info(f"the '{name}' environment of an earlier run is there: destroying and purging it")
    try:
        ws.destroy(name)
    except StateFileUnreadable as error:
        console.info(f"its state cannot be read ({error.message}); purging it anyway")
    ws.purge(name, force=True)


def _deploy(ws: Workspace, console: Console, name: str, *, keep: bool) -> None:
    """Deploy; if it fails, destroy what it started (unless --keep) and raise its error."""
    try:
        ws.deploy(name)
    except BaseException as error:
        if keep or not isinstance(error, StatemgrError | KeyboardInterrupt):
            raise
        console.info(f"deploy failed; destroying '{name}' so that nothing is left running")
        try:
            ws.destroy(name)
        except StatemgrError as cleanup:
            console.err(f"statemgr: destroying after the failure failed too: {cleanup.message}")
        raise


def app_url(ws: Workspace, name: str) -> str | None:
    """The demo application's address: the output ``app_url`` its run step handed on."""
    return ws.outputs(name).get("app_url")


def _show_running(ws: Workspace, console: Console, name: str, *, keep: bool) -> None:
    if console.json_mode:
        return
    show_status(console, name)
    url = app_url(ws, name)
    if url and keep:
        _say(console, f"the demo application answers at {url} (health: {url}health)")
    elif url:
        _say(console, f"the demo application answers at {url} until the demo destroys it")


def _look_around(console: Console, name: str, config: Path, url: str | None, *, kept: bool) -> None:
    workdir = console.options.workdir
    _say(console)
    if kept:
        _say(console, f"the demo environment '{name}' is still running (--keep):")
        if url:
            _say(console, f"  see it:        curl {url}   (or open {url} in a browser)")
        _say(console, f"  tear it down:  {suggest(f'destroy {name}')}")
    else:
        _say(console, "to keep the application running and look at it, run the demo with --keep:")
        _say(console, f"  {suggest('demo --keep')}")
    _say(console, "look around:")
    for line in (
        f"  {suggest(f'status {name}')}",
        f"  {suggest(f'history {name}')}",
        f"  {suggest(f'logs {name} --list')}   # the trace of every command",
        f"  the tool's log: {shown(workdir / 'logs' / 'statemgr.log')}",
        f"  the config to copy for your own environment: {shown(config)}",
    ):
        _say(console, line)
    if kept:
        _say(console, f"once torn down, remove it all: {suggest(f'purge {name}')}")
    else:
        _say(console, f"remove it all: {suggest(f'purge {name}')}")
