"""Phases that run real command steps, end to end through the statechart and the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from machines.names import StateName
from statemgr.errors import CommandNotAllowed, EnvironmentExists, StepFailed
from statemgr.service.workspace import Workspace

from .conftest import ConfigWriter, RecordingObserver

FULL = """
[[provision.steps]]
name = "make_vm"
run = ["sh", "-c", "echo vm-of-$STATEMGR_ENV > vm.txt"]

[[provision.steps]]
name = "keys"
run = "mkdir -p keys && echo key > keys/id"

[[configure.steps]]
name = "write_config"
run = ["sh", "-c", "echo port=8080 > '{build_dir}/app.conf'"]

[[release.steps]]
name = "install_app"
run = ["sh", "-c", "cp app.conf release.conf && echo $STATEMGR_PHASE > phase.txt"]
cwd = "."

[[run.steps]]
name = "start"
run = ["sh", "-c", "echo started > started.txt"]

[[destroy.steps]]
name = "teardown"
run = ["sh", "-c", "rm -f vm.txt started.txt && echo gone > destroyed.txt"]
"""


def test_full_lifecycle_with_real_steps_records_every_transition(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    config = write_config("web", FULL)
    created = workspace.create(config)
    assert created.revision == 1 and created.state.name is StateName.created
    build = workspace.layout.build_dir("web")

    for command in ("provision", "configure", "release", "run"):
        snapshot = getattr(workspace, command)("web")
        assert snapshot.operation is None
    assert snapshot.state.name is StateName.running
    assert (build / "vm.txt").read_text() == "vm-of-web\n"
    assert (build / "keys" / "id").exists()
    assert (build / "release.conf").read_text() == "port=8080\n"
    assert (build / "phase.txt").read_text() == "release\n"

    final = workspace.destroy("web")
    assert final.state.name is StateName.destroyed
    assert (build / "destroyed.txt").exists() and not (build / "vm.txt").exists()

    path = [(t.from_state, t.to, t.event) for t in workspace.history("web")]
    assert path == [
        (None, StateName.created, "create"),
        (StateName.created, StateName.provisioning, "start_provisioning"),
        (StateName.provisioning, StateName.provisioned, "provisioned"),
        (StateName.provisioned, StateName.configuring, "start_configuring"),
        (StateName.configuring, StateName.configured, "configured"),
        (StateName.configured, StateName.releasing, "start_releasing"),
        (StateName.releasing, StateName.released, "released"),
        (StateName.released, StateName.running, "start_running"),
        (StateName.running, StateName.destroyed, "destroy"),
    ]
    commands = [t.command for t in workspace.history("web")]
    assert commands[1:3] == ["provision", "provision"] and commands[-1] == "destroy"
    # On disk too: a line a transition in history.jsonl, and every save bumped the revision
    # (steps save their progress too: more revisions than transitions).
    history = workspace.layout.history_file("web").read_text().splitlines()
    lines = [json.loads(line) for line in history]
    assert [line["event"] for line in lines] == [event for _, _, event in path]
    assert [line["revision"] for line in lines] == sorted({line["revision"] for line in lines})
    document = json.loads(workspace.layout.state_file("web").read_text())
    assert document["latest"] == lines[-1] and document["latest"]["to"] == "destroyed"
    assert document["revision"] == final.revision == lines[-1]["revision"] > len(lines)


def test_deploy_runs_the_remaining_phases_in_one_command(
    workspace: Workspace, write_config: ConfigWriter, observer: RecordingObserver
) -> None:
    workspace.create(write_config("web", FULL))
    workspace.provision("web")
    snapshot = workspace.deploy("web")
    assert snapshot.state.name is StateName.running
    deploy_lines = [t.event for t in workspace.history("web") if t.command == "deploy"]
    assert deploy_lines == [
        "start_configuring",
        "configured",
        "start_releasing",
        "released",
        "start_running",
    ]
    started = [e[1] for e in observer.events if e[0] == "phase_started"]
    assert started == ["provision", "configure", "release", "run"]
    # Deploying a running environment does nothing and says so.
    again = workspace.deploy("web")
    assert again.revision == snapshot.revision
    assert observer.events[-1] == ("note", "environment 'web' is already running")


def test_observer_sees_each_step_start_and_finish_in_order(
    workspace: Workspace, write_config: ConfigWriter, observer: RecordingObserver
) -> None:
    workspace.create(write_config("web", FULL))
    workspace.provision("web")
    assert observer.events == [
        ("phase_started", "provision", ("make_vm", "keys")),
        ("step_started", "provision", "make_vm", 1, 2),
        ("step_finished", "provision", "make_vm", True),
        ("step_started", "provision", "keys", 2, 2),
        ("step_finished", "provision", "keys", True),
        ("phase_finished", "provision", "provisioned", True),
    ]


FAILING = """
[[configure.steps]]
name = "ok_first"
run = ["sh", "-c", "echo first > first.txt"]

[[configure.steps]]
name = "broken"
run = ["sh", "-c", "echo some output; echo 'cannot reach host 10.0.0.1' >&2; exit 3"]

[[configure.steps]]
name = "never"
run = ["sh", "-c", "echo should-not-run > never.txt"]
"""


def test_a_failing_step_records_the_failure_and_stops_the_phase(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    workspace.create(write_config("web", FAILING))
    workspace.provision("web")
    with pytest.raises(StepFailed) as raised:
        workspace.configure("web")
    assert raised.value.exit_code == 1 and raised.value.step == "broken"

    snapshot = workspace.load("web")
    assert snapshot.state.name is StateName.configure_failed
    failure = snapshot.state.failure
    assert failure is not None
    assert (failure.phase.value, failure.failed_step) == ("configure", "broken")
    assert (failure.error_kind.value, failure.exit_code) == ("command_failed", 3)
    assert "cannot reach host 10.0.0.1" in failure.message
    assert snapshot.operation is None
    assert snapshot.details == "Configuring failed at step: broken"
    build = workspace.layout.build_dir("web")
    assert (build / "first.txt").exists() and not (build / "never.txt").exists()

    assert failure.trace_file is not None and failure.trace_file.startswith("data/web/traces/")
    trace = (workspace.layout.root / failure.trace_file).read_text()
    assert "some output" in trace and "cannot reach host 10.0.0.1" in trace
    assert "exit" in trace and "3" in trace

    last = snapshot.latest
    assert (last.event, last.failed_step) == ("configure_failed", "broken")
    assert workspace.history("web")[-1] == last
    # The phase may be retried (it fails the same way again); release is refused.
    assert snapshot.allowed_commands() == ("configure", "deploy", "update", "destroy")
    assert failure.completed_steps == ("ok_first",)
    with pytest.raises(StepFailed):
        workspace.configure("web")
    with pytest.raises(CommandNotAllowed) as refused:
        workspace.release("web")
    assert refused.value.exit_code == 3 and "configure_failed" in str(refused.value)


def test_deploy_stops_at_the_first_failure(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    workspace.create(write_config("web", FULL.replace("cp app.conf", "cp missing.conf")))
    with pytest.raises(StepFailed):
        workspace.deploy("web")
    snapshot = workspace.load("web")
    assert snapshot.state.name is StateName.release_failed
    assert not (workspace.layout.build_dir("web") / "started.txt").exists()


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('run = ["sh", "-c", "sleep 30 & sleep 30"]\ntimeout = 1', "timeout"),
        ('run = ["no-such-program-statemgr", "x"]', "not_found"),
        ('run = "no-such-program-statemgr x"', "not_found"),
    ],
    ids=["timeout", "missing-argv", "missing-shell"],
)
def test_step_error_kinds(
    workspace: Workspace, write_config: ConfigWriter, body: str, kind: str
) -> None:
    workspace.create(write_config("web", f'[[provision.steps]]\nname = "s"\n{body}\n'))
    with pytest.raises(StepFailed):
        workspace.provision("web")
    failure = workspace.load("web").state.failure
    assert failure is not None and failure.error_kind.value == kind


def test_a_raising_python_step_is_recorded_as_error(
    workspace: Workspace, write_config: ConfigWriter, tmp_path: Path
) -> None:
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "configs" / "mysteps.py").write_text(
        "def boom(context):\n    raise RuntimeError(f'no capacity for {context.name}')\n"
    )
    workspace.create(
        write_config("web", '[[provision.steps]]\nname = "py"\ncall = "mysteps:boom"\n')
    )
    with pytest.raises(StepFailed):
        workspace.provision("web")
    failure = workspace.load("web").state.failure
    assert failure is not None and failure.error_kind.value == "error"
    assert "no capacity for web" in failure.message


def test_destroy_failure_keeps_the_state_and_is_recorded(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    body = FULL.replace("rm -f vm.txt", "exit 9; rm -f vm.txt")
    workspace.create(write_config("web", body))
    workspace.provision("web")
    with pytest.raises(StepFailed):
        workspace.destroy("web")
    snapshot = workspace.load("web")
    assert snapshot.state.name is StateName.provisioned
    assert snapshot.destroy_failure is not None
    assert snapshot.failure is snapshot.destroy_failure
    assert snapshot.destroy_failure.exit_code == 9
    last = snapshot.latest
    assert workspace.history("web")[-1] == last
    assert (last.event, last.from_state, last.to, last.failed_step) == (
        "destroy_failed",
        StateName.provisioned,
        StateName.provisioned,
        "teardown",
    )


def test_destroy_of_a_destroyed_environment_does_nothing(
    workspace: Workspace, write_config: ConfigWriter, observer: RecordingObserver
) -> None:
    workspace.create(write_config("web", ""))
    first = workspace.destroy("web")
    again = workspace.destroy("web")
    assert again.revision == first.revision
    assert observer.events[-1] == ("note", "environment 'web' is already destroyed")


def test_create_refuses_an_existing_name_and_purge_needs_destroyed(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    config = write_config("web", FULL)
    workspace.create(config)
    before = workspace.layout.state_file("web").read_bytes()
    with pytest.raises(EnvironmentExists) as exists:
        workspace.create(config)
    assert exists.value.exit_code == 3 and "purge" in (exists.value.hint or "")
    assert workspace.layout.state_file("web").read_bytes() == before

    with pytest.raises(CommandNotAllowed):
        workspace.purge("web")
    assert workspace.layout.state_file("web").read_bytes() == before
    workspace.destroy("web")
    workspace.purge("web")
    assert not workspace.layout.data_dir("web").exists()
    assert not workspace.layout.build_dir("web").exists()
    workspace.create(config)  # the name is free again


def test_purge_force_removes_any_state(workspace: Workspace, write_config: ConfigWriter) -> None:
    workspace.create(write_config("web", FULL))
    workspace.provision("web")
    workspace.purge("web", force=True)
    assert not workspace.layout.data_dir("web").exists()
