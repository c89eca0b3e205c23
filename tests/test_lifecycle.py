"""The lifecycle statechart against the contract: all 13 states x 12 events.

The expected table below is copied from contract.md ("The lifecycle"), with plain strings,
not derived from machines/: a change to the chart that the contract does not make fails here.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import T0, snapshot_in

from machines.lifecycle import DeploymentLifecycle, build, current_state, fire
from machines.names import Event, Phase, StateName
from machines.table import derive_table, transition_table
from statemgr.errors import NotAllowed, TransitionNotAllowed
from statemgr.model import Operation

STATES = [
    "created",
    "provisioning",
    "provisioned",
    "configuring",
    "configured",
    "releasing",
    "released",
    "running",
    "provision_failed",
    "configure_failed",
    "release_failed",
    "run_failed",
    "destroyed",
]
EVENTS = [
    "start_provisioning",
    "provisioned",
    "provision_failed",
    "start_configuring",
    "configured",
    "configure_failed",
    "start_releasing",
    "released",
    "release_failed",
    "start_running",
    "run_failed",
    "destroy",
]
# (state, event) -> target, from the contract's diagram; nothing else is allowed.
ALLOWED = {
    ("created", "start_provisioning"): "provisioning",
    ("provisioning", "provisioned"): "provisioned",
    ("provisioning", "provision_failed"): "provision_failed",
    ("provisioned", "start_configuring"): "configuring",
    ("configuring", "configured"): "configured",
    ("configuring", "configure_failed"): "configure_failed",
    ("configured", "start_releasing"): "releasing",
    ("releasing", "released"): "released",
    ("releasing", "release_failed"): "release_failed",
    ("released", "start_running"): "running",
    ("running", "run_failed"): "run_failed",
    # (r2) retry: each failed state, on its phase's start event
    ("provision_failed", "start_provisioning"): "provisioning",
    ("configure_failed", "start_configuring"): "configuring",
    ("release_failed", "start_releasing"): "releasing",
    ("run_failed", "start_running"): "running",
    # (r2) release again
    ("released", "start_releasing"): "releasing",
    ("running", "start_releasing"): "releasing",
    ("run_failed", "start_releasing"): "releasing",
    # any state but destroyed -> destroyed
    **{(state, "destroy"): "destroyed" for state in STATES if state != "destroyed"},
}
PAIRS = list(itertools.product(STATES, EVENTS))


def allowed_in(state: str) -> set[str]:
    return {event for (source, event) in ALLOWED if source == state}


def test_the_vocabulary_is_the_contracts() -> None:
    """Tried: the StateName and Event enums against the contract's lists."""
    assert [s.value for s in StateName] == STATES
    assert [e.value for e in Event] == EVENTS
    assert len(ALLOWED) == 11 + 4 + 3 + 12


@pytest.mark.parametrize(("state", "event"), [p for p in PAIRS if p in ALLOWED])
def test_an_allowed_event_lands_in_the_contracts_target(state: str, event: str) -> None:
    """Tried: every allowed (state, event) pair, sent to a machine restored to the state."""
    machine = build(state)
    assert fire(machine, event) == StateName(ALLOWED[state, event])
    assert current_state(machine) == StateName(ALLOWED[state, event])


@pytest.mark.parametrize(("state", "event"), [p for p in PAIRS if p not in ALLOWED])
def test_any_other_event_is_refused_and_leaves_the_state(state: str, event: str) -> None:
    """Tried: every (state, event) pair the contract does not allow."""
    machine = build(state)
    with pytest.raises(TransitionNotAllowed) as refused:
        fire(machine, Event(event))
    error = refused.value
    assert error.event == event
    assert error.state == state
    assert set(error.allowed) == allowed_in(state)
    assert f"'{event}'" in str(error) and f"'{state}'" in str(error)
    for allowed in error.allowed:
        assert allowed in str(error)
    assert error.exit_code == 3 and isinstance(error, NotAllowed)
    assert current_state(machine) == StateName(state)


@pytest.mark.parametrize("state", [s for s in STATES if s != "destroyed"])
def test_a_refused_machine_still_takes_an_allowed_event(state: str) -> None:
    """Tried: a refused event, then destroy, on the same machine (the refusal broke nothing)."""
    machine = build(state)
    refused_event = next(event for event in EVENTS if event not in allowed_in(state))
    with pytest.raises(TransitionNotAllowed):
        fire(machine, refused_event)
    assert fire(machine, Event.destroy) is StateName.destroyed


def test_destroyed_takes_no_event_at_all() -> None:
    """Tried: destroyed with every event; the message says none are allowed."""
    for event in EVENTS:
        with pytest.raises(TransitionNotAllowed, match=r"allowed now: none"):
            fire(build("destroyed"), event)


@pytest.mark.parametrize("event", ["explode", "", "DESTROY", "create"])
def test_an_unknown_event_name_is_refused_like_any_other(event: str) -> None:
    """Tried: event names that are not in the lifecycle at all, from created."""
    machine = build("created")
    with pytest.raises(TransitionNotAllowed) as refused:
        fire(machine, event)
    assert refused.value.event == event
    assert set(refused.value.allowed) == {"start_provisioning", "destroy"}
    assert current_state(machine) is StateName.created


def test_the_happy_path_walks_the_contracts_order() -> None:
    """Tried: one machine from created through running to destroyed."""
    machine = DeploymentLifecycle()
    walk = [
        ("start_provisioning", "provisioning"),
        ("provisioned", "provisioned"),
        ("start_configuring", "configuring"),
        ("configured", "configured"),
        ("start_releasing", "releasing"),
        ("released", "released"),
        ("start_running", "running"),
        ("destroy", "destroyed"),
    ]
    assert current_state(machine) is StateName.created
    for event, target in walk:
        assert fire(machine, event) == StateName(target)


def test_the_tables_match_the_contract() -> None:
    """Tried: machines.table (what status, errors and the diagram use) and the table read off
    the statechart class, against the contract's table."""
    kept = {
        (source.value, event.value): target.value
        for source, events in transition_table().items()
        for event, target in events.items()
    }
    declared = {
        (source, event): target
        for source, events in derive_table().items()
        for event, target in events.items()
    }
    assert kept == ALLOWED
    assert declared == ALLOWED


def test_build_refuses_an_unknown_state() -> None:
    """Tried: restoring a machine to a state name that does not exist."""
    with pytest.raises(ValueError):
        build("halfway")


# --- what the CLI asks of a state and a snapshot -------------------------------------------

DISPLAY = {
    "created": "Created",
    "provisioning": "Provisioning",
    "provisioned": "Provisioned",
    "configuring": "Configuring",
    "configured": "Configured",
    "releasing": "Releasing",
    "released": "Released",
    "running": "Running",
    "provision_failed": "Provision Failed",
    "configure_failed": "Configure Failed",
    "release_failed": "Release Failed",
    "run_failed": "Run Failed",
    "destroyed": "Destroyed",
}
FAILED = {"provision_failed", "configure_failed", "release_failed", "run_failed"}
IN_PROGRESS = {"provisioning", "configuring", "releasing"}
# The state-changing commands allowed when no command is in flight (contract r2: "in a
# failed state that phase's command and deploy (and release and redeploy in release_failed
# and run_failed); in released and running, release and redeploy; in running, check").
COMMANDS = {
    "created": ("provision", "deploy", "update", "destroy"),
    "provisioning": ("destroy", "recover"),
    "provisioned": ("configure", "deploy", "update", "destroy"),
    "configuring": ("destroy", "recover"),
    "configured": ("release", "deploy", "update", "destroy"),
    "releasing": ("destroy", "recover"),
    "released": ("release", "run", "deploy", "redeploy", "update", "destroy"),
    "running": ("release", "redeploy", "check", "update", "destroy"),
    "provision_failed": ("provision", "deploy", "update", "destroy"),
    "configure_failed": ("configure", "deploy", "update", "destroy"),
    "release_failed": ("release", "deploy", "redeploy", "update", "destroy"),
    "run_failed": ("release", "run", "deploy", "redeploy", "update", "destroy"),
    "destroyed": ("purge",),
}
FAILED_DETAILS = {
    "provision_failed": "Provisioning failed at step: tofu_apply",
    "configure_failed": "Configuring failed at step: tofu_apply",
    "release_failed": "Releasing failed at step: tofu_apply",
    "run_failed": "Running failed at step: tofu_apply",
}


@pytest.mark.parametrize("state", STATES)
def test_state_display_name_and_flags(state: str) -> None:
    """Tried: each state's display name, is_failed, is_in_progress (enum and snapshot)."""
    name = StateName(state)
    snapshot = snapshot_in(name)
    assert name.display == snapshot.display_name == DISPLAY[state]
    assert name.is_failed == snapshot.is_failed == (state in FAILED)
    assert name.is_in_progress == snapshot.is_in_progress == (state in IN_PROGRESS)
    assert snapshot.state_name is name


@pytest.mark.parametrize("state", STATES)
def test_allowed_commands_and_events_of_a_snapshot(state: str) -> None:
    """Tried: a snapshot in each state with no operation in flight."""
    snapshot = snapshot_in(StateName(state))
    assert snapshot.allowed_commands() == COMMANDS[state]
    assert {event.value for event in snapshot.allowed_events()} == allowed_in(state)


@pytest.mark.parametrize("state", ["created", "provisioning", "running", "run_failed"])
def test_an_operation_in_flight_allows_only_destroy_and_recover(state: str) -> None:
    """Tried: snapshots whose operation is still set (a live or a dead command)."""
    operation = Operation("provision", Phase.provision, 4242, "ops-1", T0)
    snapshot = snapshot_in(StateName(state), operation=operation)
    assert snapshot.allowed_commands() == ("destroy", "recover")
    assert snapshot.is_in_progress


@pytest.mark.parametrize("state", STATES)
def test_details_is_one_line_that_names_the_state(state: str) -> None:
    """Tried: the details line of a snapshot in each state (failed ones failed at tofu_apply)."""
    details = snapshot_in(StateName(state)).details
    assert details and "\n" not in details
    if state in FAILED:
        assert details == FAILED_DETAILS[state]
    elif state in IN_PROGRESS:
        assert details == f"{DISPLAY[state]} in progress"
    else:
        assert details.startswith(DISPLAY[state])


def test_details_names_the_step_of_an_operation_in_flight() -> None:
    """Tried: provisioning with an operation at step tofu_apply."""
    operation = Operation("provision", Phase.provision, 4242, "ops-1", T0, step="tofu_apply")
    snapshot = snapshot_in(StateName.provisioning, operation=operation)
    assert snapshot.details == "Provisioning in progress at step: tofu_apply"
