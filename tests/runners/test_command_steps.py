"""Command steps with real processes: files, variables, failures, timeouts, process groups."""

from __future__ import annotations

import re
import shlex
import sys
import time
from pathlib import Path

import pytest

from statemgr.layout import Layout
from statemgr.model import Environment, ErrorKind, SshCredentials, Step
from statemgr.runners import run_step

from .conftest import MakeContext
from .helpers import alive, kill_group, read_pid

SSH = SshCredentials(
    private_key="/keys/id_ed25519", public_key="/keys/id_ed25519.pub", username="deploy", port=2222
)


def build_dir(layout: Layout) -> Path:
    return layout.build_dir("web")


# --- running, cwd, placeholders, variables ----------------------------------------------


def test_argv_step_writes_in_the_build_folder_which_is_created(
    make_context: MakeContext, layout: Layout
) -> None:
    assert not build_dir(layout).exists()
    result = run_step(make_context(Step(name="touch", run=("touch", "made-here"))))
    assert result.ok, result
    assert result.error_kind is None
    assert result.exit_code == 0
    assert (build_dir(layout) / "made-here").is_file()


def test_relative_cwd_is_under_the_build_folder_and_absolute_cwd_is_used_as_is(
    make_context: MakeContext, layout: Layout, tmp_path: Path
) -> None:
    relative = Step(name="rel", run=("touch", "f"), cwd="sub/{name}")
    absolute = Step(name="abs", run=("touch", "g"), cwd=str(tmp_path / "elsewhere"))
    assert run_step(make_context(relative)).ok
    assert run_step(make_context(absolute)).ok
    assert (build_dir(layout) / "sub" / "web" / "f").is_file()
    assert (tmp_path / "elsewhere" / "g").is_file()


def test_placeholders_and_statemgr_variables_reach_the_step(
    make_context: MakeContext, layout: Layout
) -> None:
    script = 'printf "%s\\n" "$@" > args.txt; env > env.txt'
    placeholders = ("{name}", "{workdir}", "{build_dir}", "{data_dir}", "{ssh_username}")
    more = ("{ssh_port}", "{ssh_private_key}", "{ssh_public_key}", "${HOME}", "{print $1}")
    step = Step(
        name="show",
        run=("sh", "-c", script, "sh", *placeholders, *more),
        env={"GREETING": "hello {name} on {ssh_port}", "LITERAL": "${HOME}"},
    )
    environment = Environment.new("web", ssh=SSH)
    assert run_step(make_context(step, environment=environment, phase="configure")).ok
    args = (build_dir(layout) / "args.txt").read_text().splitlines()
    root = str(layout.root)
    assert args == [
        "web",
        root,
        f"{root}/build/web",
        f"{root}/data/web",
        "deploy",
        "2222",
        "/keys/id_ed25519",
        "/keys/id_ed25519.pub",
        "${HOME}",
        "{print $1}",
    ]
    env = dict(
        line.split("=", 1) for line in (build_dir(layout) / "env.txt").read_text().splitlines()
    )
    assert env["STATEMGR_ENV"] == "web"
    assert env["STATEMGR_PHASE"] == "configure"
    assert env["STATEMGR_STEP"] == "show"
    assert env["STATEMGR_BUILD_DIR"] == f"{root}/build/web"
    assert env["STATEMGR_DATA_DIR"] == f"{root}/data/web"
    assert env["GREETING"] == "hello web on 2222"
    assert env["LITERAL"] == "${HOME}"
    assert "PATH" in env  # os.environ is passed on


def test_a_shell_string_runs_with_sh(make_context: MakeContext, layout: Layout) -> None:
    run = "echo \"{name} $STATEMGR_STEP\" > shell.txt; echo 'a b' | awk '{print $2}' >> shell.txt"
    result = run_step(make_context(Step(name="shelled", run=run)))
    assert result.ok, result
    assert (build_dir(layout) / "shell.txt").read_text() == "web shelled\nb\n"


# --- failures ------------------------------------------------------------------------


def test_non_zero_exit_is_command_failed_with_stderr_and_a_full_trace(
    make_context: MakeContext,
) -> None:
    run = ("sh", "-c", "echo out-line; echo 'disk is full' >&2; exit 3")
    context = make_context(Step(name="apply", run=run))
    result = run_step(context)
    assert result.error_kind is ErrorKind.command_failed
    assert result.exit_code == 3
    assert "disk is full" in result.message
    assert "out-line" not in result.message
    trace = context.trace_file.read_text()
    assert f"command: {shlex.join(run)}" in trace
    assert "step provision 1/1 'apply' started" in trace
    assert f"cwd: {context.build_dir}" in trace
    assert "\nout-line\n" in trace
    assert "--- stderr ---" in trace and "\ndisk is full\n" in trace
    assert re.search(r"'apply' ended: exit code 3 after \d+\.\d{3}s \(command_failed\)", trace)
    assert re.search(r"^\d{4}-\d\d-\d\dT[\d:.]+\+00:00 step provision", trace, re.MULTILINE)
    assert not list(context.trace_file.parent.glob("*.stderr")), "side file left behind"


def test_failure_message_is_the_last_lines_of_stderr_else_of_stdout(
    make_context: MakeContext,
) -> None:
    many = Step(name="many", run="for i in $(seq 1 50); do echo line $i >&2; done; exit 1")
    message = run_step(make_context(many)).message
    assert message.splitlines() == [f"line {i}" for i in range(41, 51)]
    long = Step(name="long", run=(sys.executable, "-c", "import sys; sys.exit('x' * 5000)"))
    assert len(run_step(make_context(long)).message) == 2000
    quiet = Step(name="quiet", run="echo only-on-stdout; exit 4")
    result = run_step(make_context(quiet))
    assert (result.message, result.exit_code) == ("only-on-stdout", 4)


def test_a_step_killed_by_a_signal_fails_with_128_plus_the_signal(
    make_context: MakeContext,
) -> None:
    result = run_step(make_context(Step(name="self_kill", run="kill -9 $$")))
    assert result.error_kind is ErrorKind.command_failed
    assert result.exit_code == 137
    assert "SIGKILL" in result.message


def test_a_missing_program_is_not_found(make_context: MakeContext, tmp_path: Path) -> None:
    argv = run_step(make_context(Step(name="argv", run=("no-such-program-xyz", "-v"))))
    assert argv.error_kind is ErrorKind.not_found
    assert "no-such-program-xyz" in argv.message
    shell = run_step(make_context(Step(name="shell", run="no-such-program-xyz -v")))
    assert shell.error_kind is ErrorKind.not_found
    assert shell.exit_code == 127
    assert "no-such-program-xyz" in shell.message
    not_executable = tmp_path / "plain-file"
    not_executable.write_text("#!/bin/sh\n")
    denied = run_step(make_context(Step(name="denied", run=(str(not_executable),))))
    assert denied.error_kind is ErrorKind.not_found
    assert "Permission denied" in denied.message


def test_an_argv_program_exiting_127_is_command_failed(make_context: MakeContext) -> None:
    result = run_step(make_context(Step(name="own127", run=("sh", "-c", "exit 127"))))
    assert result.error_kind is ErrorKind.command_failed


# --- timeouts and process groups -------------------------------------------------------


def test_timeout_kills_the_step_with_its_children(
    make_context: MakeContext, layout: Layout
) -> None:
    run = "echo $$ > leader.pid; sleep 30 & echo $! > child.pid; sleep 30"
    context = make_context(Step(name="slow", run=run, timeout=1))
    began = time.monotonic()
    result = run_step(context)
    elapsed = time.monotonic() - began
    assert result.error_kind is ErrorKind.timeout
    assert "timed out after 1s" in result.message
    assert 1 <= elapsed < 4
    leader = read_pid(build_dir(layout) / "leader.pid")
    child = read_pid(build_dir(layout) / "child.pid")
    assert not alive(leader)
    assert not alive(child)
    assert "(timeout)" in context.trace_file.read_text()


def test_timeout_sigkills_what_ignores_sigterm_after_the_grace_period(
    make_context: MakeContext, layout: Layout
) -> None:
    run = "trap '' TERM; sleep 30 & echo $! > child.pid; sleep 30"
    began = time.monotonic()
    result = run_step(make_context(Step(name="stubborn", run=run, timeout=1)))
    elapsed = time.monotonic() - began
    assert result.error_kind is ErrorKind.timeout
    assert 2.5 <= elapsed < 6  # 1 s timeout + 2 s grace
    assert not alive(read_pid(build_dir(layout) / "child.pid"))


def test_processes_left_in_the_group_are_stopped_after_a_successful_step(
    make_context: MakeContext, layout: Layout
) -> None:
    context = make_context(Step(name="leaves", run="sleep 30 & echo $! > child.pid"))
    result = run_step(context)
    assert result.ok
    assert not alive(read_pid(build_dir(layout) / "child.pid"))
    assert "left in its process group were stopped" in context.trace_file.read_text()


def test_a_daemon_that_leaves_the_group_keeps_running_and_does_not_hold_the_step(
    make_context: MakeContext, layout: Layout
) -> None:
    daemon = "import os, time; os.setsid(); open('ready', 'w').close(); time.sleep(30)"
    run = (
        f"{shlex.quote(sys.executable)} -c {shlex.quote(daemon)} & echo $! > daemon.pid; "
        "while [ ! -e ready ]; do sleep 0.02; done; echo daemon started"
    )
    context = make_context(Step(name="start_daemon", run=run))
    began = time.monotonic()
    result = run_step(context)
    pid = read_pid(build_dir(layout) / "daemon.pid")
    try:
        assert result.ok, result
        assert time.monotonic() - began < 5  # the daemon still holds stdout and stderr
        assert alive(pid)
        assert "daemon started" in context.trace_file.read_text()
    finally:
        kill_group(pid)


def test_a_working_folder_that_cannot_be_made_fails_the_step(
    make_context: MakeContext, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    context = make_context(Step(name="nowhere", run=("true",), cwd=str(blocker / "sub")))
    result = run_step(context)
    assert result.error_kind is ErrorKind.command_failed
    assert f"cannot create the working folder {blocker / 'sub'}" in result.message
    assert "cannot create the working folder" in context.trace_file.read_text()


def test_a_command_step_without_run_cannot_even_be_built() -> None:
    """Tried: run=() and neither run nor call; the model refuses both, so no runner sees one."""
    with pytest.raises(ValueError, match="run is empty"):
        Step(name="empty", run=())
    with pytest.raises(ValueError, match="exactly one of run or call"):
        Step(name="nothing")
