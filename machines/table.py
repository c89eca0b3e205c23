"""The transition table derived from the statechart: {state: {event: target}}."""

from __future__ import annotations

from functools import cache

from machines.names import Event, StateName


@cache
def transition_table() -> dict[StateName, dict[Event, StateName]]:
    from machines.lifecycle import DeploymentLifecycle

    table: dict[StateName, dict[Event, StateName]] = {name: {} for name in StateName}
    for state in DeploymentLifecycle.states:
        source = StateName(state.id)
        for transition in state.transitions:
            for event in transition.events:
                table[source][Event(str(event))] = StateName(transition.target.id)
    return table


def allowed_events(state: StateName) -> tuple[Event, ...]:
    """The events allowed in ``state``, in declaration order."""
    return tuple(transition_table()[state])


def target_of(state: StateName, event: Event) -> StateName | None:
    return transition_table()[state].get(event)
