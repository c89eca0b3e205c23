"""Confirmations on a terminal: ``destroy`` and ``purge --force`` ask to type the
environment's name; a wrong answer changes nothing; --yes, --json and no terminal ask
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import STATEMGR, full_config, installed
from .terminal import Terminal

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

QUESTION = "type the environment's name (web) to go on, anything else to stop: "


@pytest.fixture
def running(workdir: Path) -> Path:
    full_config(workdir)
    assert installed("create", "web.toml", "-q", cwd=workdir).code == 0
    assert installed("deploy", "web", "-q", cwd=workdir).code == 0
    return workdir


def _state(workdir: Path) -> str:
    state: str = installed("status", "web", "--json", cwd=workdir).json()["state"]
    return state


def test_destroy_goes_on_when_the_name_is_typed(running: Path) -> None:
    terminal = Terminal(["destroy", "web"], running)
    terminal.read_until(QUESTION)
    assert "destroy web: it is Running; its 1 destroy step will run" in terminal.screen
    assert _state(running) == "running"  # nothing happens before the answer
    terminal.type("web\n")
    assert terminal.finish() == 0
    assert "now Destroyed" in terminal.screen
    assert _state(running) == "destroyed"


@pytest.mark.parametrize("answer", ["wbe\n", "\n", "\x04"], ids=["typo", "empty", "eof"])
def test_destroy_stops_at_a_wrong_answer_with_nothing_changed(running: Path, answer: str) -> None:
    before = (running / "data" / "web" / "state.json").read_bytes()
    terminal = Terminal(["destroy", "web"], running)
    terminal.read_until(QUESTION)
    terminal.type(answer)
    assert terminal.finish() == 2
    assert "'destroy' not confirmed" in terminal.screen
    assert "nothing was changed" in terminal.screen
    assert (running / "data" / "web" / "state.json").read_bytes() == before
    assert not list((running / "data" / "web" / "traces").glob("*destroy*"))


@pytest.mark.parametrize("flag", ["--yes", "-y", "--json"])
def test_yes_and_json_ask_nothing(running: Path, flag: str) -> None:
    terminal = Terminal(["destroy", "web", flag], running)
    assert terminal.finish() == 0
    assert "type the environment's name" not in terminal.screen
    assert _state(running) == "destroyed"
    if flag == "--json":
        assert "destroyed" in terminal.screen


def test_no_terminal_no_question(running: Path) -> None:
    result = installed("destroy", "web", cwd=running)  # stdin is not a terminal
    assert result.code == 0 and "type the environment's name" not in result.err
    assert _state(running) == "destroyed"


def test_a_destroyed_environment_is_not_asked_about(running: Path) -> None:
    assert installed("destroy", "web", cwd=running).code == 0
    terminal = Terminal(["destroy", "web"], running)
    assert terminal.finish() == 0
    assert "already destroyed" in terminal.screen and "type the" not in terminal.screen


def test_purge_force_asks_too(running: Path) -> None:
    terminal = Terminal(["purge", "web", "--force"], running)
    terminal.read_until(QUESTION)
    terminal.type("no\n")
    assert terminal.finish() == 2
    assert (running / "data" / "web" / "state.json").is_file()
    terminal = Terminal(["purge", "web", "--force"], running)
    terminal.read_until(QUESTION)
    terminal.type("web\n")
    assert terminal.finish() == 0
    assert not (running / "data" / "web").exists()


def test_purge_of_a_destroyed_environment_without_force_asks_nothing(running: Path) -> None:
    assert installed("destroy", "web", cwd=running).code == 0
    terminal = Terminal(["purge", "web"], running)
    assert terminal.finish() == 0
    assert "type the" not in terminal.screen
    assert json.loads(installed("list", "--json", cwd=running).out) == []
