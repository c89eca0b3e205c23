"""``statemgr store copy --from STORE --to STORE [NAME...]``: move environments between
stores (see ``statemgr.service.copy``)."""

from __future__ import annotations

import argparse

from statemgr.cli.console import Console
from statemgr.layout import Layout
from statemgr.model import Snapshot
from statemgr.store.select import check_spec, open_store, shown_spec


def store_command(arguments: argparse.Namespace, console: Console) -> int:
    from statemgr.service.copy import copy_environments

    source_spec, target_spec = check_spec(arguments.source), check_spec(arguments.target)
    layout = Layout(console.options.workdir)
    source = open_store(source_spec, layout)
    target = open_store(target_spec, layout)
    into = shown_spec(target_spec)

    def copied(snapshot: Snapshot, transitions: int, traces: int) -> None:
        console.info(
            f"copied environment '{snapshot.name}' (revision {snapshot.revision}, "
            f"{transitions} transitions, {traces} traces) to {into}"
        )

    done = copy_environments(
        source,
        target,
        arguments.names,
        lock_timeout=console.options.lock_timeout,
        copied=copied,
    )
    names = [snapshot.name for snapshot in done]
    if console.json_mode:
        console.json({"from": shown_spec(source_spec), "to": into, "copied": names})
    elif not names:
        console.out(f"nothing to copy: {shown_spec(source_spec)} has no environments")
    else:
        console.out(f"copied {len(names)} environment(s) to {into}: {', '.join(names)}")
    return 0
