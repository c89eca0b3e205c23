"""Contexts for real steps in a workspace under tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from machines.names import Phase
from statemgr.layout import Layout
from statemgr.model import Environment, Step
from statemgr.runners import StepContext, Trace

MakeContext = Callable[..., StepContext]


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "work")


@pytest.fixture
def make_context(layout: Layout) -> MakeContext:
    """``make_context(step, environment=..., phase=...)``: one trace file shared by the test."""
    traces: dict[str, Trace] = {}

    def make(
        step: Step, environment: Environment | None = None, phase: str = "provision"
    ) -> StepContext:
        environment = environment or Environment.new("web")
        name = str(environment.name)
        if name not in traces:
            traces[name] = Trace.open(layout.traces_dir(name), "provision")
        return StepContext.create(environment, layout, Phase(phase), step, traces[name].path)

    return make
