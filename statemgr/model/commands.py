"""What a state-changing command does to an environment in its current state: one place.

``plan(command, snapshot, resume)`` returns the phases the command runs, in order, or
raises ``CommandNotAllowed`` (exit 3) saying why. The workspace runs plans;
``allowed_commands`` lists the commands whose plan is not refused; ``--resume`` is valid
only where a plan starts by retrying a failed phase (or destroying again after a failed
destroy); the ``--var`` pre-flight checks the steps of the plan. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from machines.names import Phase, StateName
from machines.table import allowed_events
from statemgr.errors import CommandNotAllowed
from statemgr.hints import suggest
from statemgr.model.behaviour import PHASE_START_EVENTS

if TYPE_CHECKING:  # ``status`` lists the allowed commands without importing attrs
    from statemgr.model.environment import Environment, Step
    from statemgr.model.snapshot import Snapshot

# The state-changing commands, in the order allowed_commands lists them.
COMMANDS = (
    "provision",
    "configure",
    "release",
    "run",
    "deploy",
    "redeploy",
    "check",
    "update",
    "destroy",
    "recover",
    "purge",
)
# The phase commands and the phase each runs.
PHASE_COMMANDS: dict[str, Phase] = {
    "provision": Phase.provision,
    "configure": Phase.configure,
    "release": Phase.release,
    "run": Phase.run,
}
# The phases up to running, in order: deploy runs the rest of them.
DEPLOY_PHASES = (Phase.provision, Phase.configure, Phase.release, Phase.run)
# Where deploy starts, from each state it may start in (a failed state retries its phase).
DEPLOY_START: dict[StateName, Phase] = {
    StateName.created: Phase.provision,
    StateName.provision_failed: Phase.provision,
    StateName.provisioned: Phase.configure,
    StateName.configure_failed: Phase.configure,
    StateName.configured: Phase.release,
    StateName.release_failed: Phase.release,
    StateName.released: Phase.run,
    StateName.run_failed: Phase.run,
}
# The failed state of each phase: a command that starts its phase there is a retry.
FAILED_STATES: dict[Phase, StateName] = {
    Phase.provision: StateName.provision_failed,
    Phase.configure: StateName.configure_failed,
    Phase.release: StateName.release_failed,
    Phase.run: StateName.run_failed,
}
REDEPLOY_FROM = frozenset(
    {StateName.released, StateName.running, StateName.release_failed, StateName.run_failed}
)
# Commands that are allowed on an interrupted environment (an operation in flight).
WHILE_INTERRUPTED = frozenset({"destroy", "recover"})


class Plan(NamedTuple):
    """What a command will do: ``phases`` in order, nothing when ``phases`` is empty.

    The phase ``run`` is followed by ``check``: the health checks run after its steps.
    ``retry``: the first phase runs again from its failed state (or destroy after a failed
    destroy). ``skip``: the steps that ``--resume`` skips (the failure's ``completed_steps``)
    in ``resumed``, the phase that failed (the first, or check after run: then the run
    steps are skipped too). ``note``: said when there is nothing to do (exit 0).
    """

    command: str
    phases: tuple[Phase, ...] = ()
    retry: bool = False
    skip: tuple[str, ...] = ()
    note: str | None = None
    resumed: Phase | None = None

    def skipped(self, phase: Phase) -> tuple[str, ...]:
        """The steps of ``phase`` this plan skips by name (only a resumed phase has any)."""
        return self.skip if phase is self.resumed else ()

    def skips_whole(self, phase: Phase) -> bool:
        """Whether ``--resume`` skips every step of ``phase`` (it comes before the failed one)."""
        if self.resumed is None or phase not in self.phases:
            return False
        return self.phases.index(phase) < self.phases.index(self.resumed)

    def steps(self, environment: Environment) -> list[tuple[Phase, Step]]:
        """The steps this plan will run, in order (those ``--resume`` skips left out)."""
        return [
            (phase, step)
            for phase in self.phases
            if not self.skips_whole(phase)
            for step in environment.phases.steps(phase)
            if step.name not in self.skipped(phase)
        ]

    def missing_variables(self, environment: Environment, given: Iterable[str]) -> list[str]:
        """A line for each ``{var.KEY}`` that a step of the plan names and ``given`` lacks."""
        from statemgr.model.placeholders import placeholders_of  # not needed by ``status``

        known = set(given)
        missing = []
        for phase, step in self.steps(environment):
            for placeholder in placeholders_of(step.texts):
                if placeholder.scope == "var" and placeholder.key not in known:
                    missing.append(
                        f"{placeholder.text} (step '{step.name}' of {phase.value}): "
                        f"add --var {placeholder.key}=VALUE"
                    )
        return list(dict.fromkeys(missing))


class _Refused(Exception):
    def __init__(self, command: str, why: str | None = None) -> None:
        super().__init__(command)
        self.command = command
        self.why = why


def plan(command: str, snapshot: Snapshot, *, resume: bool = False) -> Plan:
    """What ``command`` does to ``snapshot``; ``CommandNotAllowed`` when it is refused."""
    try:
        return _plan(command, snapshot, resume)
    except _Refused as refused:
        name = snapshot.name
        hint = f"run '{suggest(f'status {name}')}' for what to do next"
        raise CommandNotAllowed(
            name,
            refused.command,
            snapshot.state.name.value,
            allowed_commands(snapshot),
            hint=f"{refused.why}; {hint}" if refused.why else hint,
        ) from None


def _plan(command: str, snapshot: Snapshot, resume: bool) -> Plan:
    state = snapshot.state.name
    if snapshot.operation is not None and command not in WHILE_INTERRUPTED:
        raise _refused(snapshot, command, "a command was interrupted; recover it first")
    if command in PHASE_COMMANDS:
        found = _phase_plan(command, PHASE_COMMANDS[command], snapshot)
    elif command == "deploy":
        found = _deploy_plan(snapshot)
    elif command == "redeploy":
        if state not in REDEPLOY_FROM:
            raise _refused(snapshot, command)
        retry = state is StateName.release_failed
        found = Plan(command, (Phase.release, Phase.run, Phase.check), retry=retry)
    elif command == "destroy":
        found = _destroy_plan(snapshot)
    else:
        found = _other_plan(command, snapshot)
    return _resumed(found, snapshot) if resume else found


def allowed_commands(snapshot: Snapshot) -> tuple[str, ...]:
    """The state-changing commands that would do something now (no live lock assumed)."""
    allowed = []
    for command in COMMANDS:
        try:
            found = _plan(command, snapshot, resume=False)
        except _Refused:
            continue
        if found.note is None:
            allowed.append(command)
    return tuple(allowed)


def _phase_plan(command: str, phase: Phase, snapshot: Snapshot) -> Plan:
    state = snapshot.state.name
    if PHASE_START_EVENTS[phase] not in allowed_events(state):
        raise _refused(snapshot, command)
    return Plan(command, _with_checks((phase,)), retry=state is FAILED_STATES[phase])


def _deploy_plan(snapshot: Snapshot) -> Plan:
    state = snapshot.state.name
    if state is StateName.running:
        return Plan("deploy", note=f"environment '{snapshot.name}' is already running")
    if state not in DEPLOY_START:
        raise _refused(snapshot, "deploy")
    start = DEPLOY_PHASES.index(DEPLOY_START[state])
    return Plan("deploy", _with_checks(DEPLOY_PHASES[start:]), retry=state.is_failed)


def _with_checks(phases: tuple[Phase, ...]) -> tuple[Phase, ...]:
    """``phases``, with the checks after the run phase."""
    return (*phases, Phase.check) if phases[-1:] == (Phase.run,) else phases


def _destroy_plan(snapshot: Snapshot) -> Plan:
    if snapshot.state.name is StateName.destroyed:
        return Plan("destroy", note=f"environment '{snapshot.name}' is already destroyed")
    return Plan("destroy", (Phase.destroy,), retry=snapshot.destroy_failure is not None)


def _other_plan(command: str, snapshot: Snapshot) -> Plan:
    state = snapshot.state.name
    if command == "recover":
        if snapshot.operation is None and not state.is_in_progress:
            raise _refused(snapshot, command, "nothing was interrupted")
    elif command == "purge":
        if state is not StateName.destroyed:
            raise _refused(snapshot, command, "destroy it first, or use --force")
    elif command == "update":
        if state is StateName.destroyed:
            raise _refused(snapshot, command, "a destroyed environment is created again")
        if state.is_in_progress:
            raise _refused(snapshot, command, "a command was interrupted; recover it first")
    elif command == "check":
        if state is not StateName.running:
            raise _refused(snapshot, command, "checks watch a running environment")
        return Plan(command, (Phase.check,))
    else:
        raise ValueError(f"not a state-changing command: {command!r}")
    return Plan(command)


def _resumed(found: Plan, snapshot: Snapshot) -> Plan:
    """``found`` starting at the failed step: only where it starts with a retry."""
    destroying = found.phases[:1] == (Phase.destroy,)
    failure = snapshot.destroy_failure if destroying else snapshot.state.failure
    if not found.retry or failure is None:
        where = found.phases[0].value if found.phases else found.command
        why = (
            f"--resume starts a failed phase again at the step that failed, and "
            f"'{found.command}' in state '{snapshot.state.name.value}' does not retry "
            f"a failed {where}"
        )
        raise _refused(snapshot, f"{found.command} --resume", why)
    failed = failure.phase if failure.phase in found.phases else found.phases[0]
    return found._replace(skip=failure.completed_steps, resumed=failed)


def _refused(snapshot: Snapshot, command: str, why: str | None = None) -> _Refused:
    return _Refused(command, why)
