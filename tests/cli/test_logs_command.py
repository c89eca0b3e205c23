"""``statemgr logs``: the traces of command runs, through the installed ``statemgr``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support import (
    STATEMGR,
    clean_env,
    failing_step,
    installed,
    ok_step,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


def _failed_then_destroyed(workdir: Path) -> str:
    config = write_config(
        workdir,
        "web",
        provision=[{"name": "say", "run": ["sh", "-c", "echo said-on-stdout; echo said >&2"]}],
        configure=[failing_step("boom")],
        destroy=[ok_step("tear")],
    )
    assert installed("create", str(config), cwd=workdir).code == 0
    deployed = installed("deploy", "web", "--json", cwd=workdir)
    assert deployed.code == 1
    trace_file: str = installed("status", "web", "--json", cwd=workdir).json()["failure"][
        "trace_file"
    ]
    assert installed("destroy", "web", cwd=workdir).code == 0
    return trace_file


def test_list_latest_and_a_named_run(workdir: Path) -> None:
    trace_file = _failed_then_destroyed(workdir)
    listed = installed("logs", "web", "--list", cwd=workdir)
    assert listed.code == 0, listed
    lines = listed.out.splitlines()
    assert lines[0].split() == ["STARTED", "COMMAND", "RESULT", "RUN"]
    assert "deploy" in lines[1] and "failed" in lines[1] and trace_file in lines[1]
    assert "destroy" in lines[2] and "done" in lines[2]
    as_json = installed("logs", "web", "--list", "--json", cwd=workdir).json()
    assert [(run["command"], run["result"]) for run in as_json] == [
        ("deploy", "failed"),
        ("destroy", "done"),
    ]
    assert as_json[0]["run"] == trace_file
    latest = installed("logs", "web", cwd=workdir)
    assert latest.code == 0 and "statemgr trace of 'destroy'" in latest.out
    assert latest.out.rstrip().endswith("statemgr trace end: done")
    named = installed("logs", "web", "--run", trace_file, cwd=workdir)
    assert named.code == 0
    assert "said-on-stdout" in named.out and "broken-boom" in named.out
    assert named.out == (workdir / trace_file).read_text()
    by_name = installed("logs", "web", "--run", Path(trace_file).name, cwd=workdir)
    assert by_name.out == named.out
    document = installed("logs", "web", "--run", trace_file, "--json", cwd=workdir).json()
    assert document["command"] == "deploy" and document["result"] == "failed"
    assert document["trace"] == named.out


def test_from_another_folder_and_errors(workdir: Path, tmp_path: Path) -> None:
    trace_file = _failed_then_destroyed(workdir)
    elsewhere = installed("--workdir", str(workdir), "logs", "web", "--run", trace_file)
    assert elsewhere.code == 0 and "broken-boom" in elsewhere.out
    unknown = installed("logs", "web", "--run", "nope", cwd=workdir)
    assert unknown.code == 2 and "no traced run 'nope'" in unknown.err
    missing = installed("logs", "ghost", cwd=workdir)
    assert missing.code == 5
    assert installed("logs", "web", "--follow", "--json", cwd=workdir).code == 2


def test_no_runs_yet(workdir: Path) -> None:
    config = write_config(workdir, "web", provision=[ok_step("one")])
    assert installed("create", str(config), cwd=workdir).code == 0
    result = installed("logs", "web", cwd=workdir)
    assert result.code == 0 and result.out == ""
    assert "no traced runs yet" in result.err
    assert installed("logs", "web", "--list", "--json", cwd=workdir).json() == []


def test_follow_a_run_in_progress_to_its_end(workdir: Path) -> None:
    flag = workdir / "go"
    script = f"echo first-line; while [ ! -e {flag} ]; do sleep 0.05; done; echo last-line"
    config = write_config(workdir, "web", provision=[{"name": "slow", "run": script}])
    assert installed("create", str(config), cwd=workdir).code == 0
    env = clean_env()
    provision = subprocess.Popen(
        [str(STATEMGR), "provision", "web", "-q"], cwd=workdir, env=env, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: bool(list((workdir / "data/web/traces").glob("*.log"))), what="trace")
        follower = subprocess.Popen(
            [str(STATEMGR), "logs", "web", "--follow"],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert follower.stdout is not None
        seen = ""
        while "first-line" not in seen:
            seen += follower.stdout.readline()
        assert follower.poll() is None  # still following: the run has not ended
        flag.touch()
        rest, _ = follower.communicate(timeout=30)
        seen += rest
        assert follower.returncode == 0
        assert "last-line" in seen and seen.rstrip().endswith("statemgr trace end: done")
    finally:
        provision.wait(timeout=30)
    assert provision.returncode == 0
