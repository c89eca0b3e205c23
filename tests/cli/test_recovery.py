"""Recovery without rebuilding, through the installed ``statemgr``: retry of a failed phase,
``--resume`` at the failed step, deploy from a failed state, redeploy, and ``--var``.

Every phase of the config below has three steps: ``P_a`` and ``P_c`` append a line to a
marker file each time they run, and ``P_gate`` fails (exit 4) until the file ``fix-P``
exists in the build folder. So the marker files count how often each step ran: the proof
of what a retry re-ran and what a resume skipped is on disk, not in the output.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from .support import STATEMGR, Result, installed, write_config

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

PHASES = ("provision", "configure", "release", "run")
FAILED = {phase: f"{phase}_failed" for phase in PHASES}
REACHED = {
    "provision": "provisioned",
    "configure": "configured",
    "release": "released",
    "run": "running",
}
GOLDEN = Path(__file__).parents[1] / "golden"


def gated_phase(phase: str, kill: bool = False) -> list[dict[str, object]]:
    """``P_a``, ``P_gate`` (fails, or SIGKILLs statemgr with ``kill``, until fix-P), ``P_c``."""
    broken = (
        "kill -KILL $PPID; sleep 5; exit 9" if kill else f"echo '{phase} not fixed' >&2; exit 4"
    )
    return [
        {"name": f"{phase}_a", "run": f"echo x >> {phase}_a.count"},
        {
            "name": f"{phase}_gate",
            "run": f"test -e fix-{phase} || {{ {broken}; }}; echo x >> {phase}_gate.count",
        },
        {"name": f"{phase}_c", "run": f"echo x >> {phase}_c.count"},
    ]


def gated_config(folder: Path, name: str = "web", kill: bool = False) -> Path:
    phases = {phase: gated_phase(phase, kill) for phase in (*PHASES, "destroy")}
    return write_config(folder, name, **phases)


def build(workdir: Path, name: str = "web") -> Path:
    return workdir / "build" / name


def fix(workdir: Path, *phases: str) -> None:
    for phase in phases:
        (build(workdir) / f"fix-{phase}").touch()


def runs(workdir: Path, step: str) -> int:
    """How often ``step`` ran (lines in its marker file)."""
    marker = build(workdir) / f"{step}.count"
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def status(workdir: Path, name: str = "web") -> dict[str, object]:
    result = installed("status", name, "--json", cwd=workdir)
    assert result.code == 0, result
    report: dict[str, object] = result.json()
    return report


def failing_at(workdir: Path, phase: str, kill: bool = False) -> Result:
    """A 'web' environment whose deploy failed (or was killed) at ``phase``'s gate."""
    assert installed("create", str(gated_config(workdir, kill=kill)), cwd=workdir).code == 0
    fix(workdir, *(other for other in PHASES if other != phase), "destroy")
    return installed("deploy", "web", cwd=workdir)


@pytest.mark.parametrize("phase", PHASES)
def test_the_phase_command_retries_its_failed_state_from_the_first_step(
    workdir: Path, phase: str
) -> None:
    failed = failing_at(workdir, phase)
    assert failed.code == 1, failed
    report = status(workdir)
    assert report["state"] == FAILED[phase]
    assert phase in report["allowed_commands"] and "deploy" in report["allowed_commands"]
    failure = report["failure"]
    assert isinstance(failure, dict) and failure["completed_steps"] == [f"{phase}_a"]
    assert any(f"statemgr {phase} web --resume" in line for line in report["next_steps"])

    again = installed(phase, "web", cwd=workdir)  # not fixed yet: fails the same way
    assert again.code == 1 and status(workdir)["state"] == FAILED[phase]
    fix(workdir, phase)
    retried = installed(phase, "web", cwd=workdir)
    assert retried.code == 0, retried
    assert status(workdir)["state"] == REACHED[phase]
    # The retries ran the phase from its first step each time.
    assert (runs(workdir, f"{phase}_a"), runs(workdir, f"{phase}_gate")) == (3, 1)
    assert runs(workdir, f"{phase}_c") == 1
    history = installed("history", "web", "--json", cwd=workdir).json()
    retry = [e for e in history if e["from"] == FAILED[phase] and e["to"] != "destroyed"]
    assert len(retry) == 2 and {e["command"] for e in retry} == {phase}


@pytest.mark.parametrize("phase", PHASES)
def test_resume_skips_the_steps_that_completed(workdir: Path, phase: str) -> None:
    assert failing_at(workdir, phase).code == 1
    fix(workdir, phase)
    resumed = installed(phase, "web", "--resume", cwd=workdir)
    assert resumed.code == 0, resumed
    assert f"{phase}: {phase}_a skipped" in resumed.err
    assert status(workdir)["state"] == REACHED[phase]
    assert runs(workdir, f"{phase}_a") == 1  # only in the failed attempt
    assert (runs(workdir, f"{phase}_gate"), runs(workdir, f"{phase}_c")) == (1, 1)


@pytest.mark.parametrize("resume", [False, True], ids=["retry", "resume"])
@pytest.mark.parametrize("phase", PHASES)
def test_deploy_from_each_failed_state_retries_then_goes_on(
    workdir: Path, phase: str, resume: bool
) -> None:
    assert failing_at(workdir, phase).code == 1
    fix(workdir, phase)
    deployed = installed("deploy", "web", *(["--resume"] if resume else []), cwd=workdir)
    assert deployed.code == 0, deployed
    assert status(workdir)["state"] == "running"
    assert runs(workdir, f"{phase}_a") == (1 if resume else 2)
    later = PHASES[PHASES.index(phase) + 1 :]
    assert all(runs(workdir, f"{other}_c") == 1 for other in (phase, *later))


def test_resume_after_a_recovered_sigkill_starts_at_the_interrupted_step(workdir: Path) -> None:
    killed = failing_at(workdir, "configure", kill=True)
    assert killed.code == -signal.SIGKILL, killed
    assert status(workdir)["interrupted"] is True
    refused = installed("configure", "web", "--resume", cwd=workdir)
    assert refused.code == 3 and "recover" in refused.err  # interrupted: recover first
    assert installed("recover", "web", cwd=workdir).code == 0
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict)
    assert (failure["error_kind"], failure["failed_step"]) == ("interrupted", "configure_gate")
    assert failure["completed_steps"] == ["configure_a"]
    fix(workdir, "configure")
    resumed = installed("configure", "web", "--resume", cwd=workdir)
    assert resumed.code == 0, resumed
    assert runs(workdir, "configure_a") == 1 and runs(workdir, "configure_c") == 1


@pytest.mark.parametrize(
    ("command", "state"),
    [
        ("provision", "created"),
        ("deploy", "created"),
        ("release", "running"),
        ("redeploy", "running"),
        ("redeploy", "run_failed"),  # a release again there, not a retry
        ("release", "run_failed"),
        ("destroy", "running"),  # no failed destroy to resume
    ],
)
def test_resume_is_refused_where_it_does_not_apply(workdir: Path, command: str, state: str) -> None:
    if state == "created":
        assert installed("create", str(gated_config(workdir)), cwd=workdir).code == 0
    else:
        failing_at(workdir, "run")
        if state == "running":
            fix(workdir, "run")
            assert installed("run", "web", cwd=workdir).code == 0
    before = status(workdir)
    assert before["state"] == state
    refused = installed(command, "web", "--resume", cwd=workdir)
    assert refused.code == 3, refused
    assert f"'{command} --resume' is not allowed in state '{state}'" in refused.err
    assert "--resume starts a failed phase again at the step that failed" in refused.err
    assert status(workdir)["revision"] == before["revision"]


def test_destroy_resume_after_a_failed_destroy_skips_what_was_torn_down(workdir: Path) -> None:
    failing_at(workdir, "run")
    (build(workdir) / "fix-destroy").unlink()
    assert installed("destroy", "web", cwd=workdir).code == 1
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict) and failure["phase"] == "destroy"
    assert failure["completed_steps"] == ["destroy_a"]
    fix(workdir, "destroy")
    assert installed("destroy", "web", "--resume", cwd=workdir).code == 0
    assert status(workdir)["state"] == "destroyed"
    assert runs(workdir, "destroy_a") == 1 and runs(workdir, "destroy_c") == 1


REDEPLOY_FROM = ("running", "released", "release_failed", "run_failed")


@pytest.mark.parametrize("state", REDEPLOY_FROM)
def test_redeploy_releases_again_and_runs_from_each_allowed_state(
    workdir: Path, state: str
) -> None:
    phase = {"release_failed": "release", "run_failed": "run"}.get(state, "run")
    failing_at(workdir, phase)
    if state in ("running", "released"):
        fix(workdir, "run")
        command = "run" if state == "running" else None
        if command:
            assert installed(command, "web", cwd=workdir).code == 0
    if state == "released":
        assert installed("redeploy", "web", cwd=workdir).code == 0  # run_failed -> running
        assert installed("release", "web", cwd=workdir).code == 0  # running -> released
    before = runs(workdir, "release_c")
    assert status(workdir)["state"] == state
    fix(workdir, "release", "run")
    done = installed("redeploy", "web", cwd=workdir)
    assert done.code == 0, done
    assert status(workdir)["state"] == "running"
    assert runs(workdir, "release_c") == before + 1
    history = installed("history", "web", "--json", cwd=workdir).json()
    assert [e["event"] for e in history if e["command"] == "redeploy"][-3:] == [
        "start_releasing",
        "released",
        "start_running",
    ]


@pytest.mark.parametrize(
    "state", ["created", "provisioned", "configured", "provision_failed", "configure_failed"]
)
def test_redeploy_is_refused_elsewhere_and_writes_nothing(workdir: Path, state: str) -> None:
    assert installed("create", str(gated_config(workdir)), cwd=workdir).code == 0
    steps = {
        "provisioned": ["provision"],
        "configured": ["provision", "configure"],
        "configure_failed": ["provision"],
    }
    fix(workdir, *steps.get(state, []))
    for phase in PHASES:
        if status(workdir)["state"] == state:
            break
        installed(phase, "web", cwd=workdir)
    before = status(workdir)
    assert before["state"] == state
    refused = installed("redeploy", "web", cwd=workdir)
    assert refused.code == 3, refused
    assert "'redeploy' is not allowed" in refused.err
    assert status(workdir)["revision"] == before["revision"]


def test_release_on_a_running_environment_stops_at_released(workdir: Path) -> None:
    failing_at(workdir, "run")
    fix(workdir, "run")
    assert installed("run", "web", cwd=workdir).code == 0
    released = installed("release", "web", cwd=workdir)
    assert released.code == 0, released
    assert status(workdir)["state"] == "released"
    assert runs(workdir, "run_c") == 1  # the run phase did not run again


# --- --var ---------------------------------------------------------------------------------

HOSTILE = "1.0; touch INJECTED $(touch INJECTED2) `touch INJECTED3` 'q' \"dq\""


def vars_config(workdir: Path) -> Path:
    (workdir / "varsteps.py").write_text(
        "from pathlib import Path\n\n"
        "def record(context):\n"
        "    Path(context.build_dir, 'python.txt').write_text(context.variables['var.version'])\n"
    )
    return write_config(
        workdir,
        "web",
        release=[
            {
                "name": "argv",
                "run": ["sh", "-c", 'printf %s "$1" > argv.txt', "-", "{var.version}"],
            },
            {"name": "shell", "run": 'printf %s "{var.version}" > shell.txt'},
            {"name": "unquoted", "run": "printf %s {var.version} > unquoted.txt"},
            {"name": "single", "run": "printf %s '[{var.version}]' > single.txt"},
            {"name": "env", "run": 'printf %s "$STATEMGR_VAR_version" > env.txt'},
            {"name": "python", "call": "varsteps:record"},
        ],
        run=[{"name": "start", "run": "printf %s '{var.region}' > region.txt"}],
    )


def test_vars_reach_argv_shell_and_python_steps_and_are_never_run(workdir: Path) -> None:
    assert installed("create", str(vars_config(workdir)), cwd=workdir).code == 0
    for phase in ("provision", "configure"):
        assert installed(phase, "web", cwd=workdir).code == 0
    done = installed("release", "web", "--var", f"version={HOSTILE}", cwd=workdir)
    assert done.code == 0, done
    folder = build(workdir)
    for written in ("argv", "shell", "env", "python"):
        assert (folder / f"{written}.txt").read_text() == HOSTILE, written
    assert (folder / "single.txt").read_text() == f"[{HOSTILE}]"
    # Unquoted, the shell splits the value into words; it never runs any of it.
    assert (folder / "unquoted.txt").read_text() == HOSTILE.replace(" ", "")
    assert not list(folder.glob("INJECTED*")) and not list(workdir.glob("INJECTED*"))
    history = installed("history", "web", "--json", cwd=workdir).json()
    released = [e for e in history if e["command"] == "release"]
    assert [e["vars"] for e in released] == [{"version": HOSTILE}] * 2
    assert all("vars" not in e for e in history if e["command"] != "release")


def test_a_missing_var_is_refused_before_anything_runs(workdir: Path) -> None:
    assert installed("create", str(vars_config(workdir)), cwd=workdir).code == 0
    for phase in ("provision", "configure"):
        assert installed(phase, "web", cwd=workdir).code == 0
    before = status(workdir)
    refused = installed("deploy", "web", "--var", "version=2", cwd=workdir)
    assert refused.code == 2, refused
    assert "{var.region} (step 'start' of run): add --var region=VALUE" in refused.err
    assert "{var.version}" not in refused.err  # given
    after = status(workdir)
    assert (after["revision"], after["state"]) == (before["revision"], "configured")
    assert not list(build(workdir).glob("*.txt"))  # no step ran
    # Only the steps the command runs are checked: release needs no region.
    assert installed("release", "web", "--var", "version=2", cwd=workdir).code == 0


@pytest.mark.parametrize("bad", ["version", "1x=2", "=2", "a-b=1"])
def test_a_malformed_var_is_usage(workdir: Path, bad: str) -> None:
    assert installed("create", str(vars_config(workdir)), cwd=workdir).code == 0
    refused = installed("provision", "web", "--var", bad, cwd=workdir)
    assert refused.code == 2 and "KEY=VALUE" in refused.err


def test_a_workdir_name_is_never_run_as_shell_code(tmp_path: Path) -> None:
    """Hardening item 5: a workdir named w$(id>INJECTED.txt) and a quoted placeholder."""
    workdir = tmp_path / "w$(id>INJECTED.txt)`id>INJECTED2.txt`"
    workdir.mkdir()
    config = write_config(
        workdir,
        "web",
        provision=[
            {"name": "list", "run": 'ls -d "{build_dir}" > listed.txt'},
            {"name": "plain", "run": "echo {workdir} > plain.txt"},
        ],
    )
    assert installed("create", str(config), cwd=workdir).code == 0
    done = installed("provision", "web", cwd=workdir)
    assert done.code == 0, done
    assert (build(workdir) / "listed.txt").read_text().strip() == str(build(workdir))
    assert (build(workdir) / "plain.txt").read_text().strip() == str(workdir)
    assert not list(tmp_path.rglob("INJECTED*"))


# --- a state file of schema version 1 ------------------------------------------------------


def test_a_version_1_state_file_loads_and_its_failed_phase_is_retried(workdir: Path) -> None:
    folder = workdir / "data" / "staging"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(workdir / "data", 0o700)
    shutil.copy(GOLDEN / "v1" / "provision_failed.json", folder / "state.json")
    os.chmod(folder / "state.json", 0o600)
    report = status(workdir, "staging")
    assert report["state"] == "provision_failed"
    assert report["failure"]["completed_steps"] == []  # type: ignore[index]
    assert "provision" in report["allowed_commands"]
    # The retry runs the recorded step (tofu is not installed here: it fails again, as
    # not_found); the file is then written in the current schema.
    again = installed("provision", "staging", cwd=workdir)
    assert again.code == 1, again
    retried = status(workdir, "staging")
    assert retried["failure"]["error_kind"] == "not_found"  # type: ignore[index]
    # start_provisioning, the step about to run, provision_failed: three writes.
    assert retried["revision"] == report["revision"] + 3  # type: ignore[operator]
    written = json.loads((folder / "state.json").read_text())
    assert written["schema_version"] > 1
