"""The transition table {state: {event: target}} of the statechart.

``derive_table()`` reads it off ``DeploymentLifecycle`` (the one declaration). Reading
commands must not pay ~50 ms to import python-statemachine just to list the allowed
events, so the table is also kept, generated, in ``machines/transitions_generated.py``;
``tests/test_lifecycle_table.py`` fails when that copy differs from the chart. Regenerate
with ``python -m machines.table``.
"""

from __future__ import annotations

from pathlib import Path

from machines.names import Event, StateName
from machines.transitions_generated import TRANSITIONS

GENERATED = Path(__file__).with_name("transitions_generated.py")


def derive_table() -> dict[str, dict[str, str]]:
    """The table as the statechart declares it (imports python-statemachine)."""
    from machines.lifecycle import DeploymentLifecycle

    table: dict[str, dict[str, str]] = {name.value: {} for name in StateName}
    for state in DeploymentLifecycle.states:
        for transition in state.transitions:
            for event in transition.events:
                table[state.id][str(event)] = transition.target.id
    return table


def render_generated(table: dict[str, dict[str, str]]) -> str:
    """The source of ``transitions_generated.py`` for ``table``."""
    lines = [
        '"""Generated from machines.lifecycle by `python -m machines.table`. Do not edit."""',
        "",
        "TRANSITIONS: dict[str, dict[str, str]] = {",
    ]
    for state, events in table.items():
        if not events:
            lines.append(f'    "{state}": {{}},')
            continue
        lines.append(f'    "{state}": {{')
        lines.extend(f'        "{event}": "{target}",' for event, target in events.items())
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def transition_table() -> dict[StateName, dict[Event, StateName]]:
    """The table with enum keys and values."""
    return {
        StateName(state): {Event(event): StateName(target) for event, target in events.items()}
        for state, events in TRANSITIONS.items()
    }


def allowed_events(state: StateName) -> tuple[Event, ...]:
    """The events allowed in ``state``, in declaration order."""
    return tuple(Event(event) for event in TRANSITIONS[StateName(state).value])


if __name__ == "__main__":
    GENERATED.write_text(render_generated(derive_table()))
    print(f"wrote {GENERATED}")
