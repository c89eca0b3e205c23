"""``statemgr demo`` through the installed script: the whole lifecycle, nothing left running."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import STATEMGR, alive, clean_env, installed, kill_quietly, processes_mentioning

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


@pytest.fixture
def demo_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "demo-ws"
    yield folder
    for pid in processes_mentioning(str(folder)):  # whatever a failed test left running
        kill_quietly(pid)


def test_demo_runs_the_lifecycle_and_leaves_nothing_running(demo_dir: Path) -> None:
    result = installed("demo", "--dir", str(demo_dir), cwd=demo_dir.parent)
    assert result.code == 0, result
    assert "demo: Running (running)" in result.out
    assert "http://127.0.0.1:" in result.out
    for phase in ("provision", "configure", "release", "run", "destroy"):
        assert f"{phase} demo: done" in result.err
    assert "status demo" in result.out and "history demo" in result.out
    assert "logs/statemgr.log" in result.out
    assert processes_mentioning(str(demo_dir)) == []
    status = installed("--workdir", str(demo_dir), "status", "demo", "--json")
    assert status.json()["state"] == "destroyed"
    assert (demo_dir / "demo" / "demo.toml").is_file()
    assert (demo_dir / "logs" / "statemgr.log").is_file()

    again = installed("demo", "--dir", str(demo_dir), "--json")
    assert again.code == 0, again
    assert "earlier run is there: destroying and purging it" in again.err
    assert again.json()["state"] == "destroyed"
    history = installed("--workdir", str(demo_dir), "history", "demo", "--json").json()
    assert history[0]["event"] == "create" and len(history) == 9  # a fresh environment
    assert processes_mentioning(str(demo_dir)) == []


def test_demo_keep_leaves_the_app_running_until_destroy(demo_dir: Path) -> None:
    result = installed("demo", "--dir", str(demo_dir), "--keep")
    assert result.code == 0, result
    assert "destroy demo:" not in result.err
    instance = demo_dir / "build" / "demo" / "instance"
    pid = int((instance / "app.pid").read_text())
    port = int((instance / "app.port").read_text())
    try:
        assert alive(pid)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            assert json.loads(answer.read())["status"] == "ok"
        assert "--keep" in result.out and "destroy demo" in result.out
        destroyed = installed("--workdir", str(demo_dir), "destroy", "demo")
        assert destroyed.code == 0, destroyed
        assert not alive(pid)
    finally:
        kill_quietly(pid)


def test_a_failing_demo_exits_with_its_code_and_cleans_up(demo_dir: Path, tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    keygen = fake_bin / "ssh-keygen"
    keygen.write_text("#!/bin/sh\necho 'ssh-keygen: broken on purpose' >&2\nexit 9\n")
    keygen.chmod(0o755)
    env = clean_env(PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    result = installed("demo", "--dir", str(demo_dir), env=env)
    assert result.code == 1, result
    assert "provision failed at step 'make_ssh_key'" in result.err
    assert "destroying 'demo' so that nothing is left running" in result.err
    status = installed("--workdir", str(demo_dir), "status", "demo", "--json").json()
    assert status["state"] == "destroyed"
    assert not (demo_dir / "build" / "demo" / "instance").exists()
    assert processes_mentioning(str(demo_dir)) == []
