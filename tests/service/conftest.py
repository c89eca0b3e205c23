"""Workspaces with real configs, real command steps and real files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from statemgr.service.observer import Observer
from statemgr.service.workspace import Workspace

ConfigWriter = Callable[..., Path]


class RecordingObserver(Observer):
    """Keeps every progress event, in order, as plain tuples."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def phase_started(self, env, phase, steps):  # type: ignore[no-untyped-def]
        self.events.append(("phase_started", phase.value, tuple(s.name for s in steps)))

    def step_started(self, env, phase, step, index, total):  # type: ignore[no-untyped-def]
        self.events.append(("step_started", phase.value, step.name, index, total))

    def step_finished(self, env, phase, step, index, total, result):  # type: ignore[no-untyped-def]
        self.events.append(("step_finished", phase.value, step.name, result.ok))

    def phase_finished(self, env, phase, snapshot, ok):  # type: ignore[no-untyped-def]
        self.events.append(("phase_finished", phase.value, snapshot.state.name.value, ok))

    def note(self, env, message):  # type: ignore[no-untyped-def]
        self.events.append(("note", message))


@pytest.fixture
def write_config(tmp_path: Path) -> ConfigWriter:
    """Write a config named NAME with the given phase bodies (TOML text) and return its path."""

    def write(name: str = "web", body: str = "") -> Path:
        path = tmp_path / "configs" / f"{name}.toml"
        path.parent.mkdir(exist_ok=True)
        text = f'[environment]\nname = "{name}"\n\n' + textwrap.dedent(body)
        path.write_text(text)
        return path

    return write


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
def workspace(tmp_path: Path, observer: RecordingObserver) -> Workspace:
    return Workspace(tmp_path / "ws", observer=observer)
