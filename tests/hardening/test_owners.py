"""Another user cannot make root run their steps (issue 12, item 2): a data/ or data/NAME
owned by someone else, or writable by group or others, is refused by every
state-changing command, with the chown/chmod that fixes it. As root and as nobody."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .support import (
    NOBODY,
    STATEMGR,
    as_user,
    installed,
    main_as,
    no_traceback,
    ok_step,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

STATE_CHANGING = [
    ["provision", "web"],
    ["configure", "web"],
    ["deploy", "web"],
    ["destroy", "web"],
    ["recover", "web"],
    ["purge", "--force", "web"],
]


def _crafted_state(shared_root: Path, marker: Path) -> Path:
    """A valid state.json for 'web' whose destroy step writes ``marker``, made by nobody
    with statemgr itself (in a child that dropped to nobody) in nobody's own workspace."""
    theirs = shared_root / "theirs"
    theirs.mkdir()
    shutil.chown(theirs, NOBODY)
    config = write_config(
        theirs, "web", destroy=[{"name": "pwn", "run": f"id > {marker}"}], provision=[ok_step("p")]
    )
    shutil.chown(config, NOBODY)
    result = main_as(NOBODY, ["create", str(config)], theirs)
    assert result.code == 0, result
    return theirs / "data" / "web" / "state.json"


def _root_workspace(shared_root: Path) -> Path:
    workdir = shared_root / "ws"
    workdir.mkdir()
    (workdir / "data").mkdir(mode=0o700)
    return workdir


def test_item2_a_folder_planted_in_a_world_writable_data_is_refused(shared_root: Path) -> None:
    """Item 2: data/ at 0777; nobody makes data/web and moves a crafted state.json into it
    (destroy step ``id > pwned``). Every state-changing command of root refuses (exit 7,
    the fix named) and nothing of theirs runs; status still reads it."""
    marker = shared_root / "pwned"
    crafted = _crafted_state(shared_root, marker)
    workdir = _root_workspace(shared_root)
    os.chmod(workdir / "data", 0o777)
    as_user(NOBODY, "mkdir", "-m", "700", str(workdir / "data" / "web"))
    as_user(NOBODY, "cp", str(crafted), str(workdir / "data" / "web" / "state.json"))
    for argv in STATE_CHANGING:
        result = installed(*argv, cwd=workdir)
        assert result.code == 7, (argv, result)
        assert "refusing to use data/" in result.err and no_traceback(result.err)
        assert "chmod 700" in result.err or "chown" in result.err
    assert not marker.exists()
    os.chmod(workdir / "data", 0o700)  # fix data/: now data/web is the problem
    result = installed("destroy", "web", cwd=workdir)
    assert result.code == 7 and "data/web/" in result.err, result
    assert "owned by nobody" in result.err and "chown -R root" in result.err
    assert not marker.exists()
    status = installed("--json", "status", "web", cwd=workdir)  # reading runs nothing
    assert status.code == 0 and status.json()["state"] == "created"


def test_item2_a_group_writable_environment_folder_is_refused(shared_root: Path) -> None:
    """Item 2: data/web at 0770 (root's, but its group may write): refused, chmod named."""
    workdir = _root_workspace(shared_root)
    config = write_config(shared_root, "web", provision=[ok_step("p")])
    assert installed("create", str(config), cwd=workdir).code == 0
    os.chmod(workdir / "data" / "web", 0o770)
    result = installed("provision", "web", cwd=workdir)
    assert result.code == 7 and "writable by its group" in result.err, result
    assert f"chmod 700 {workdir}/data/web" in result.err
    os.chmod(workdir / "data" / "web", 0o700)
    assert installed("provision", "web", cwd=workdir).code == 0


def test_item2_the_owner_of_a_workspace_is_not_refused(shared_root: Path) -> None:
    """Item 2, the other side: nobody's own workspace works for nobody, and root is refused
    there (as git refuses a repository owned by someone else)."""
    theirs = shared_root / "theirs"
    theirs.mkdir()
    shutil.chown(theirs, NOBODY)
    config = write_config(theirs, "web", provision=[ok_step("p")])
    shutil.chown(config, NOBODY)
    assert main_as(NOBODY, ["create", str(config)], theirs).code == 0
    assert main_as(NOBODY, ["provision", "web"], theirs).code == 0
    result = installed("destroy", "web", cwd=theirs)
    assert result.code == 7 and "owned by nobody" in result.err, result
    assert main_as(NOBODY, ["destroy", "web"], theirs).code == 0
