"""What a step runner gets and returns. Runners never touch the store and never print."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import attrs

from machines.names import Phase
from statemgr.layout import Layout
from statemgr.model import Environment, ErrorKind, Step


@attrs.frozen
class StepContext:
    """Everything one step needs; also what a Python step (``call = "pkg.mod:fn"``) receives.

    Paths are absolute. ``variables`` holds the contract's placeholders ({name}, {workdir},
    {build_dir}, {data_dir}, {ssh_username}, {ssh_private_key}, {ssh_public_key},
    {ssh_port}) with their values for this environment, and ``var.KEY`` and
    ``outputs.KEY`` for the command's --var values and the environment's outputs.
    ``output_file``: the step's ``$STATEMGR_OUTPUT`` (a Python step may write to it too, or
    return a dict of strings).
    """

    environment: Environment
    phase: Phase
    step: Step
    workdir: Path
    build_dir: Path
    data_dir: Path
    trace_file: Path
    variables: dict[str, str]
    index: int = 1
    total: int = 1
    on_output: Callable[[str, str], None] | None = attrs.field(default=None, eq=False)
    """Called with ``(stream, line)`` for each line the step prints, as it comes."""
    output_file: Path | None = None

    @classmethod
    def create(
        cls,
        environment: Environment,
        layout: Layout,
        phase: Phase | str,
        step: Step,
        trace_file: Path,
        index: int = 1,
        total: int = 1,
    ) -> StepContext:
        """The context of ``step`` of ``phase`` for ``environment`` in the workspace ``layout``."""
        from statemgr.runners.variables import step_variables

        variables = step_variables(environment, layout)
        return cls(
            environment=environment,
            phase=Phase(phase),
            step=step,
            workdir=layout.root,
            build_dir=Path(variables["build_dir"]),
            data_dir=Path(variables["data_dir"]),
            trace_file=Path(trace_file),
            variables=variables,
            index=index,
            total=total,
        )

    @property
    def name(self) -> str:
        return str(self.environment.name)


@attrs.frozen
class StepResult:
    """How a step ended. ``error_kind`` is None exactly when the step succeeded."""

    step: str
    started_at: datetime
    finished_at: datetime
    error_kind: ErrorKind | None = None
    message: str = ""
    exit_code: int | None = None
    # What the step handed on (its $STATEMGR_OUTPUT, a Python step's dict); empty if it failed.
    outputs: dict[str, str] = attrs.field(factory=dict, hash=False)

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def duration(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()
