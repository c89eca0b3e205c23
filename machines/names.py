"""The lifecycle's vocabulary: state names, events and phases. Plain enums, no machinery.

Kept apart from the statechart so that reading commands (status, list) can name states
without importing python-statemachine.
"""

from __future__ import annotations

from enum import StrEnum


class StateName(StrEnum):
    """The thirteen states of an environment."""

    created = "created"
    provisioning = "provisioning"
    provisioned = "provisioned"
    configuring = "configuring"
    configured = "configured"
    releasing = "releasing"
    released = "released"
    running = "running"
    provision_failed = "provision_failed"
    configure_failed = "configure_failed"
    release_failed = "release_failed"
    run_failed = "run_failed"
    destroyed = "destroyed"

    @property
    def display(self) -> str:
        """Title case with spaces: ``provision_failed`` -> ``Provision Failed``."""
        return self.value.replace("_", " ").title()

    @property
    def is_failed(self) -> bool:
        return self.value.endswith("_failed")

    @property
    def is_in_progress(self) -> bool:
        """The -ing states, in which a phase is under way."""
        return self in _IN_PROGRESS


_IN_PROGRESS = frozenset({StateName.provisioning, StateName.configuring, StateName.releasing})


class Event(StrEnum):
    """The twelve events of the lifecycle."""

    start_provisioning = "start_provisioning"
    provisioned = "provisioned"
    provision_failed = "provision_failed"
    start_configuring = "start_configuring"
    configured = "configured"
    configure_failed = "configure_failed"
    start_releasing = "start_releasing"
    released = "released"
    release_failed = "release_failed"
    start_running = "start_running"
    run_failed = "run_failed"
    destroy = "destroy"


class Phase(StrEnum):
    """The phases whose steps an environment config declares.

    ``check`` is not a phase of the lifecycle (no event starts it): its steps are the health
    checks of a running environment, run by ``check`` and after the run phase's steps; a
    failing one moves running to run_failed with failure phase ``check``.
    """

    provision = "provision"
    configure = "configure"
    release = "release"
    run = "run"
    destroy = "destroy"
    check = "check"
