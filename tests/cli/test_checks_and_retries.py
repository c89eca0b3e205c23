"""Health checks and retries through the installed ``statemgr``: ``check`` writes nothing
while healthy, a failing check moves running to run_failed (failure phase check), run and
deploy run the checks; a step tried again until it succeeds, a timeout as a failed
attempt, a pause between attempts that SIGTERM cuts short."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .support import (
    STATEMGR,
    Result,
    children_of,
    installed,
    start_installed,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


def sm(workdir: Path, *argv: str) -> Result:
    return installed("--workdir", str(workdir), *argv)


def status(workdir: Path, name: str = "web") -> dict[str, object]:
    result = sm(workdir, "status", name, "--json")
    assert result.code == 0, result
    document: dict[str, object] = result.json()
    return document


def healthy_file() -> dict[str, object]:
    """A check that passes while build/web/healthy exists."""
    return {"name": "healthy_file", "run": ["test", "-f", "healthy"]}


def the_environment(workdir: Path) -> dict[str, bytes]:
    """Every file under data/web (state, history, traces): what a check must not change."""
    folder = workdir / "data" / "web"
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "state.lock"
    }


def test_a_healthy_check_writes_nothing_and_a_failing_one_records_run_failed(
    workdir: Path,
) -> None:
    config = write_config(
        workdir,
        "web",
        run=[{"name": "start", "run": ["touch", "healthy"]}],
        check=[
            {"name": "port_open", "run": ["true"]},
            healthy_file(),
        ],
    )
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "deploy", "web").code == 0
    before = the_environment(workdir)
    revision = status(workdir)["revision"]
    for _minute in range(3):  # cron, every minute
        healthy = sm(workdir, "check", "web")
        assert healthy.code == 0, healthy
        assert "[2/2] check: healthy_file ok" in healthy.err
        assert healthy.out.startswith("web: Running")
    assert the_environment(workdir) == before
    assert status(workdir)["revision"] == revision
    assert "check its health: statemgr check web" in status(workdir)["next_steps"]  # type: ignore[operator]

    (workdir / "build" / "web" / "healthy").unlink()
    unhealthy = sm(workdir, "check", "web")
    assert unhealthy.code == 1, unhealthy
    assert "check failed at step 'healthy_file' (command_failed)" in unhealthy.err
    after = status(workdir)
    assert after["state"] == "run_failed" and after["revision"] == revision + 1  # type: ignore[operator]
    assert after["details"] == "Checking failed at step: healthy_file"
    failure = after["failure"]
    assert isinstance(failure, dict)
    assert failure["phase"] == "check" and failure["completed_steps"] == ["port_open"]
    logs = sm(workdir, "logs", "web", "--run", str(failure["trace_file"]))
    assert logs.code == 0 and "step check 2/2 'healthy_file' started" in logs.out
    history = sm(workdir, "history", "web", "--json").json()
    assert history[-1]["from"] == "running" and history[-1]["to"] == "run_failed"
    assert history[-1]["command"] == "check"

    not_running = sm(workdir, "check", "web")
    assert not_running.code == 3 and "checks watch a running environment" in not_running.err
    rerun = sm(workdir, "run", "web")  # the run phase runs its steps, then the checks
    assert rerun.code == 0, rerun
    assert "check web: done" in rerun.err
    assert status(workdir)["state"] == "running"


def test_run_and_deploy_run_the_checks_and_resume_at_a_failed_check(workdir: Path) -> None:
    config = write_config(
        workdir,
        "web",
        run=[{"name": "start", "run": ["sh", "-c", "echo started >> starts.txt"]}],
        check=[{"name": "first", "run": ["true"]}, healthy_file()],
    )
    assert sm(workdir, "create", str(config)).code == 0
    deployed = sm(workdir, "deploy", "web")
    assert deployed.code == 1
    assert "check web: failed, now Run Failed" in deployed.err
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict)
    assert failure["phase"] == "check" and failure["failed_step"] == "healthy_file"
    assert "statemgr run web --resume" in "\n".join(status(workdir)["next_steps"])  # type: ignore[arg-type]
    (workdir / "build" / "web" / "healthy").touch()
    resumed = sm(workdir, "run", "web", "--resume")
    assert resumed.code == 0, resumed
    assert "run: start skipped" in resumed.err and "check: first skipped" in resumed.err
    assert "check: healthy_file ok" in resumed.err
    starts = (workdir / "build" / "web" / "starts.txt").read_text()
    assert starts == "started\n"  # the run step was not run again


def test_check_with_no_check_steps_and_with_vars(workdir: Path) -> None:
    config = write_config(workdir, "web", run=[{"name": "start", "run": ["true"]}])
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "check", "web").code == 3  # created, not running
    assert sm(workdir, "deploy", "web").code == 0
    nothing = sm(workdir, "check", "web")
    assert nothing.code == 0 and "has no check steps" in nothing.err

    config = write_config(
        workdir,
        "api",
        check=[{"name": "version", "run": ["sh", "-c", 'test "$0" = 1.2', "{var.version}"]}],
    )
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "deploy", "api", "--var", "version=1.2").code == 0
    missing = sm(workdir, "check", "api")
    assert missing.code == 2 and "{var.version}" in missing.err
    assert sm(workdir, "check", "api", "--var", "version=1.2").code == 0
    assert sm(workdir, "check", "api", "--var", "version=1.3").code == 1
    assert status(workdir, "api")["state"] == "run_failed"


FLAKY = (
    "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; "
    'echo "attempt=$n" >> "$STATEMGR_OUTPUT"; echo "try $n" >&2; [ "$n" -ge 3 ]'
)


def test_a_step_that_fails_twice_then_succeeds(workdir: Path) -> None:
    config = write_config(
        workdir, "web", provision=[{"name": "flaky", "run": FLAKY, "retries": 3, "retry_delay": 0}]
    )
    assert sm(workdir, "create", str(config)).code == 0
    done = sm(workdir, "provision", "web", "--json")
    assert done.code == 0, done
    assert done.json()["state"] == "provisioned"
    assert done.json()["outputs"] == {"attempt": "3"}  # a fresh output file per attempt
    assert "flaky: attempt 1 of 4 failed; trying again in 0s" in done.err
    assert "flaky: attempt 2 of 4 failed; trying again in 0s" in done.err
    assert "[1/1] provision: flaky (attempt 3/4) ok" in done.err
    trace = sm(workdir, "logs", "web").out
    assert trace.count("step provision 1/1 'flaky' started") == 3
    assert "attempt 2 of 4 failed (command_failed); attempt 3 in 0s" in trace
    assert "try 1" in trace and "try 3" in trace


def test_a_step_out_of_attempts_fails_with_its_last_result(workdir: Path) -> None:
    config = write_config(
        workdir,
        "web",
        provision=[
            {"name": "slow", "run": ["sleep", "30"], "timeout": 0.2, "retries": 1,
             "retry_delay": 0},
        ],
    )  # fmt: skip
    assert sm(workdir, "create", str(config)).code == 0
    failed = sm(workdir, "provision", "web")
    assert failed.code == 1
    assert "slow: attempt 1 of 2 failed" in failed.err
    assert "[1/1] provision: slow (attempt 2/2) FAILED (timeout)" in failed.err
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict) and failure["error_kind"] == "timeout"
    assert sm(workdir, "logs", "web").out.count("timed out after 0.2s") == 2


def test_sigterm_cuts_the_pause_between_attempts_short(workdir: Path) -> None:
    config = write_config(
        workdir,
        "web",
        provision=[{"name": "down", "run": ["false"], "retries": 5, "retry_delay": 3600}],
    )
    assert sm(workdir, "create", str(config)).code == 0
    process = start_installed("--workdir", str(workdir), "provision", "web")

    def pausing() -> bool:
        traces = list((workdir / "data" / "web" / "traces").glob("*.log"))
        return bool(traces) and "attempt 2 in 3600s" in traces[0].read_text()

    wait_for(pausing, what="the pause after the first attempt")
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 143, err
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict)
    assert failure["error_kind"] == "interrupted" and failure["failed_step"] == "down"


def test_retries_are_checked_by_validate(workdir: Path) -> None:
    config = write_config(
        workdir, "web", provision=[{"name": "x", "run": ["true"], "retries": 101,
                                    "retry_delay": -1}],
    )  # fmt: skip
    refused = sm(workdir, "validate", str(config))
    assert refused.code == 2
    assert "provision.steps[0].retries: expected an integer from 0 to 100, got 101" in refused.err
    assert "provision.steps[0].retry_delay: expected 0 or more seconds, got -1" in refused.err


def test_sigterm_during_a_check(workdir: Path) -> None:
    """``check`` stopped by SIGTERM records nothing; redeploy stopped in its checks records an
    interrupted check."""
    slow_when_asked = "if [ -f slow ]; then sleep 30; fi"
    config = write_config(
        workdir,
        "web",
        run=[{"name": "start", "run": ["true"]}],
        check=[{"name": "slow", "run": slow_when_asked}],
    )
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "deploy", "web").code == 0
    (workdir / "build" / "web" / "slow").touch()
    before = the_environment(workdir)
    process = start_installed("--workdir", str(workdir), "check", "web")
    wait_for(lambda: bool(children_of(process.pid)), what="the check step to start")
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 143, err
    assert "stopped by SIGTERM before it changed anything" in err
    assert the_environment(workdir) == before and status(workdir)["state"] == "running"

    process = start_installed("--workdir", str(workdir), "redeploy", "web")
    wait_for(lambda: status(workdir)["details"] == "Checking in progress at step: slow")
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 143, err
    after = status(workdir)
    failure = after["failure"]
    assert after["state"] == "run_failed" and isinstance(failure, dict)
    assert failure["phase"] == "check" and failure["error_kind"] == "interrupted"
    assert failure["failed_step"] == "slow"
