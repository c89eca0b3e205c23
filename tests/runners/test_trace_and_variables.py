"""Trace files (names, modes, appends) and the placeholders and variables a step sees."""

from __future__ import annotations

import getpass
import os
import re
import stat
from pathlib import Path

import pytest

from statemgr.layout import Layout
from statemgr.model import Environment, SshCredentials, Step
from statemgr.runners import StepContext, Trace, step_variables, substitute
from statemgr.runners.variables import step_environment

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00"


def test_a_trace_is_created_private_with_a_sortable_name_and_a_header(tmp_path: Path) -> None:
    traces = tmp_path / "data" / "web" / "traces"
    first = Trace.open(traces, "provision")
    second = Trace.open(traces, "deploy")
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-provision-[0-9a-f]{6}\.log", first.path.name)
    assert first.path.parent == traces
    assert first.path != second.path
    assert stat.S_IMODE(traces.stat().st_mode) == 0o700
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    header = first.path.read_text()
    assert re.fullmatch(
        rf"{TIMESTAMP} statemgr trace of 'provision': pid {os.getpid()} .*\n", header
    )


def test_notes_are_timestamped_lines_that_start_on_a_fresh_line(tmp_path: Path) -> None:
    trace = Trace.open(tmp_path / "traces", "run")
    trace.write(b"partial output without newline")
    trace.note("phase run: started")
    trace.note("two\nlines")
    lines = trace.path.read_text().splitlines()
    assert lines[1] == "partial output without newline"
    assert re.fullmatch(rf"{TIMESTAMP} phase run: started", lines[2])
    assert re.fullmatch(rf"{TIMESTAMP} two", lines[3])
    assert lines[4] == "lines"


def test_an_odd_command_name_is_made_safe_for_a_file_name(tmp_path: Path) -> None:
    trace = Trace.open(tmp_path, "a b/../c")
    assert trace.path.parent == tmp_path
    assert "-a_b_.._c-" in trace.path.name


def test_step_variables_are_absolute_and_empty_for_ssh_without_credentials(
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path)
    assert step_variables(Environment.new("web"), layout) == {
        "name": "web",
        "workdir": str(tmp_path),
        "build_dir": str(tmp_path / "build" / "web"),
        "data_dir": str(tmp_path / "data" / "web"),
        "ssh_username": "",
        "ssh_private_key": "",
        "ssh_public_key": "",
        "ssh_port": "",
    }
    ssh = SshCredentials(private_key="/k/id", public_key="/k/id.pub")
    variables = step_variables(Environment.new("web", ssh=ssh), layout)
    assert (variables["ssh_username"], variables["ssh_port"]) == (getpass.getuser(), "22")
    assert (variables["ssh_private_key"], variables["ssh_public_key"]) == ("/k/id", "/k/id.pub")


def test_substitute_replaces_placeholders_and_leaves_other_braces() -> None:
    variables = {"name": "web", "build_dir": "/w/build/web", "var.v": "1.2", "outputs.ip": "ip"}
    text = "{name}:{build_dir}/{name} ${HOME} {HOME} {print $1} {{name}} { {var.v}{outputs.ip}"
    assert substitute(text, variables) == (
        "web:/w/build/web/web ${HOME} {HOME} {print $1} {name} { 1.2ip"
    )


def test_substitute_refuses_a_placeholder_without_a_value() -> None:
    with pytest.raises(KeyError, match=r"var\.missing"):
        substitute("deploy {var.missing}", {"name": "web"})


def test_step_environment_layers_os_environ_step_env_and_statemgr_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEMGR_TEST_INHERITED", "yes")
    step = Step(name="s", run="true", env={"TARGET": "{name}-{data_dir}", "STATEMGR_ENV": "x"})
    context = StepContext.create(
        Environment.new("web"), Layout(tmp_path), "release", step, tmp_path / "t.log"
    )
    environment = step_environment(context)
    assert environment["STATEMGR_TEST_INHERITED"] == "yes"
    assert environment["TARGET"] == f"web-{tmp_path}/data/web"
    assert environment["STATEMGR_ENV"] == "web"  # the contract's variables win
    assert environment["STATEMGR_PHASE"] == "release"
    assert environment["STATEMGR_STEP"] == "s"
