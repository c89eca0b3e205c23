"""A newcomer following the README's tour (the demo included) never meets a suggested
command that fails when pasted: every ``statemgr ...`` that statemgr prints along the way
is run, where the person is, on a copy of the folder as it was then, and none exits 2
(bad usage) or 5 (no such environment)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import (
    STATEMGR,
    Result,
    clean_env,
    installed,
    kill_quietly,
    processes_mentioning,
)
from .test_messages import paste, suggestions

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

README_WEB_TOML = Path(__file__).resolve().parents[2] / "docs" / "examples" / "web.toml"
WORKSPACE_CHANGING = (" destroy ", " purge ", " create ", " demo", " deploy ", " recover ")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "you"
    folder.mkdir()
    yield folder
    for pid in processes_mentioning(str(tmp_path)):  # a demo --keep tried on a copy
        kill_quietly(pid)


class Tour:
    """Runs the tour's commands; collects what they suggest, and tries each suggestion."""

    def __init__(self, home: Path, scratch: Path) -> None:
        self.home = home
        self.scratch = scratch
        self.tried: dict[str, int] = {}

    def run(self, *argv: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
        result = installed(*argv, cwd=cwd, env=env or clean_env(), timeout=120)
        if argv and argv[0] != "logs":  # a trace holds the steps' output, not suggestions
            for command in suggestions(result):
                self.try_out(command, cwd)
        return result

    def try_out(self, command: str, cwd: Path) -> None:
        """Paste ``command`` in ``cwd``; one that changes things, on a copy of the folder."""
        key = f"{cwd.relative_to(self.home)}: {command}"
        if key in self.tried:
            return
        where = cwd
        if any(word in f"{command} " for word in WORKSPACE_CHANGING):
            copy = self.scratch / str(len(self.tried))
            shutil.copytree(self.home, copy, symlinks=True)
            where = copy / cwd.relative_to(self.home)
        pasted = paste(command, where)
        self.tried[key] = pasted.code
        assert pasted.code not in (2, 5), (key, pasted)


def test_every_command_suggested_along_the_tour_works_when_pasted(
    home: Path, tmp_path: Path
) -> None:
    tour = Tour(home, tmp_path / "copies")
    assert tour.run("demo", cwd=home).code == 0
    folder = home / "tour"
    folder.mkdir()
    shutil.copy(README_WEB_TOML, folder / "web.toml")
    assert tour.run("validate", "web.toml", cwd=folder).code == 0
    assert tour.run("create", "web.toml", cwd=folder).code == 0
    assert tour.run("deploy", "web", cwd=folder).code == 1
    assert tour.run("status", "web", cwd=folder).code == 0
    assert tour.run("logs", "web", cwd=folder).code == 0
    assert tour.run("destroy", "web", cwd=folder).code == 0
    assert tour.run("purge", "web", cwd=folder).code == 0
    assert tour.run("create", "web.toml", cwd=folder).code == 0
    deployed = tour.run("deploy", "web", cwd=folder, env=clean_env(WEB_VERSION="1.0"))
    assert deployed.code == 0
    for argv in (["status", "web"], ["history", "web"], ["status", "web", "--json"]):
        assert tour.run(*argv, cwd=folder).code == 0
    # the same from the folder above, as someone who did not cd into it
    assert tour.run("--workdir", "tour", "status", "web", cwd=home).code == 0
    assert tour.run("--workdir", "tour", "destroy", "web", cwd=home).code == 0
    assert tour.run("--workdir", "tour", "status", "web", cwd=home).code == 0  # destroyed
    assert tour.run("--workdir", "tour", "list", cwd=home).code == 0
    assert tour.run("list", cwd=folder).code == 0
    assert tour.run("status", "nothere", cwd=folder).code == 5
    tried = sorted(tour.tried)
    assert len(tried) >= 15, tried
    for expected in (
        ".: statemgr --workdir statemgr-demo demo --keep",
        ".: statemgr --workdir statemgr-demo purge demo",
        ".: statemgr --workdir tour create tour/web.toml",
        "tour: statemgr release web",
        ".: statemgr --workdir tour purge web",
    ):
        assert expected in tried, tried
