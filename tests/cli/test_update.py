"""``statemgr update CONFIG`` and the drift warning, through the installed ``statemgr``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import STATEMGR, installed, ok_step, write_config

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


def _config(workdir: Path, text: str) -> Path:
    return write_config(
        workdir,
        "web",
        provision=[{"name": "make", "run": ["sh", "-c", f"echo {text} > made.txt"]}],
        destroy=[ok_step("tear")],
    )


def test_a_changed_config_is_warned_about_then_adopted_by_update(workdir: Path) -> None:
    _config(workdir, "first")
    assert installed("create", "web.toml", cwd=workdir).code == 0
    quiet = installed("status", "web", "--json", cwd=workdir)
    state_before = quiet.json()["state"]
    _config(workdir, "second")
    provisioned = installed("provision", "web", "-q", cwd=workdir)
    assert provisioned.code == 0
    assert "warning: web.toml has changed since it was read" in provisioned.err  # even with -q
    assert "'statemgr update web.toml'" in provisioned.err
    assert (workdir / "build" / "web" / "made.txt").read_text() == "first\n"  # the old steps
    updated = installed("update", "web.toml", cwd=workdir)
    assert updated.code == 0, updated
    assert "updated environment 'web' from web.toml" in updated.out
    status = installed("status", "web", "--json", cwd=workdir).json()
    assert status["state"] == "provisioned" != state_before
    assert "update" in status["allowed_commands"]
    history = json.loads(installed("history", "web", "--json", cwd=workdir).out)
    assert (history[-1]["event"], history[-1]["from"], history[-1]["to"]) == (
        "update",
        "provisioned",
        "provisioned",
    )
    # "since" is when it became provisioned (the last transition), not the update
    assert history[-2]["to"] == "provisioned" and history[-1]["at"] > history[-2]["at"]
    assert status["since"] == history[-2]["at"]
    again = installed("destroy", "web", cwd=workdir)
    assert again.code == 0 and "has changed" not in again.err  # adopted: no warning
    state = json.loads((workdir / "data" / "web" / "state.json").read_text())
    assert state["schema_version"] == 6 and len(state["environment"]["config_hash"]) == 64


def test_update_takes_the_new_steps_and_is_refused_where_it_must_be(workdir: Path) -> None:
    _config(workdir, "first")
    assert installed("create", "web.toml", "-q", cwd=workdir).code == 0
    _config(workdir, "second")
    assert installed("update", "web.toml", cwd=workdir).code == 0
    assert installed("provision", "web", "-q", cwd=workdir).code == 0
    assert (workdir / "build" / "web" / "made.txt").read_text() == "second\n"
    (workdir / "bad.toml").write_text('[environment]\nname = "web"\n[[run.steps]]\nname = "x"\n')
    invalid = installed("update", "bad.toml", cwd=workdir)
    assert invalid.code == 2  # validated first: nothing changes
    other = write_config(workdir, "ghost", provision=[ok_step("one")])
    assert installed("update", other.name, cwd=workdir).code == 5
    assert installed("destroy", "web", "-q", cwd=workdir).code == 0
    destroyed = installed("update", "web.toml", cwd=workdir)
    assert destroyed.code == 3 and "'update' is not allowed in state 'destroyed'" in destroyed.err
