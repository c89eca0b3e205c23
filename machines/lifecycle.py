"""The deployment lifecycle, declared once as a python-statemachine statechart.

Pure declaration: states, events, transitions. Effects (saving snapshots, running steps)
are attached from outside as listeners; see ``statemgr.service``.
"""

from __future__ import annotations

from typing import Any

from statemachine import StateChart
from statemachine.exceptions import TransitionNotAllowed as _LibraryNotAllowed
from statemachine.states import States

from machines.names import Event, StateName
from statemgr.errors import TransitionNotAllowed


class DeploymentLifecycle(StateChart):  # type: ignore[type-arg]
    """created -> provisioning -> provisioned -> configuring -> configured -> releasing ->
    released -> running; each -ing state (and running) may fail; a failed phase may be
    retried; released, running and run_failed may be released again; anything but
    destroyed may be destroyed."""

    # An event that is not allowed must be refused, not silently ignored, and an exception
    # in a hook must reach the caller rather than become an internal event.
    allow_event_without_transition = False
    catch_errors_as_events = False

    # Declared as a collection: several states share their name with an event.
    s = States.from_enum(
        StateName,
        initial=StateName.created,
        final=StateName.destroyed,
        use_enum_instance=False,
    )

    # A failed phase is retried on its own start event; a release may start again from
    # released, running or run_failed (a new version, or a fixed or previous one).
    start_provisioning = s.created.to(s.provisioning) | s.provision_failed.to(s.provisioning)
    provisioned = s.provisioning.to(s.provisioned)
    provision_failed = s.provisioning.to(s.provision_failed)

    start_configuring = s.provisioned.to(s.configuring) | s.configure_failed.to(s.configuring)
    configured = s.configuring.to(s.configured)
    configure_failed = s.configuring.to(s.configure_failed)

    start_releasing = (
        s.configured.to(s.releasing)
        | s.release_failed.to(s.releasing)
        | s.released.to(s.releasing)
        | s.running.to(s.releasing)
        | s.run_failed.to(s.releasing)
    )
    released = s.releasing.to(s.released)
    release_failed = s.releasing.to(s.release_failed)

    start_running = s.released.to(s.running) | s.run_failed.to(s.running)
    run_failed = s.running.to(s.run_failed)

    # Every state is declared above (the collection), so any() covers all but the final one.
    destroy = s.destroyed.from_.any()


def build(state: StateName | str = StateName.created, **kwargs: Any) -> DeploymentLifecycle:
    """A lifecycle machine restored to ``state`` (no enter hooks run)."""
    value = StateName(state).value

    class _Holder:
        pass

    holder = _Holder()
    holder.state = value  # type: ignore[attr-defined]
    return DeploymentLifecycle(model=holder, state_field="state", **kwargs)


def current_state(machine: DeploymentLifecycle) -> StateName:
    """The one active state of a lifecycle machine."""
    (value,) = machine.configuration_values
    return StateName(value)


def fire(machine: DeploymentLifecycle, event: Event | str, **arguments: Any) -> StateName:
    """Send ``event`` and return the state the machine ends in.

    An event the lifecycle does not allow now raises statemgr's ``TransitionNotAllowed``
    naming the event, the current state and the events allowed; the state is unchanged.
    Keyword ``arguments`` reach the hooks by parameter name.
    """
    name = event.value if isinstance(event, Event) else str(event)
    try:
        machine.send(name, **arguments)
    except _LibraryNotAllowed as refused:
        from machines.table import allowed_events

        state = current_state(machine)
        raise TransitionNotAllowed(
            str(refused.event), state.value, [e.value for e in allowed_events(state)]
        ) from None
    return current_state(machine)
