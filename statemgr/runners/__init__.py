"""Step runners: command steps and Python steps. They return results; they never touch the store."""

from statemgr.runners.base import StepContext, StepResult

__all__ = ["StepContext", "StepResult"]
