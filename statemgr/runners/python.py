"""Python steps: ``call = "package.module:function"``, called with the step's context.

The folder of the environment's config file is put first on ``sys.path`` while the
module is imported and the function runs. A module stays in ``sys.modules`` once
imported, so two config folders should not both define a module of the same name for
one process. The function fails by raising: the step fails with error kind ``error``,
message ``"ExceptionType: message"``, and the traceback goes to the trace file, as does
whatever the function prints (stdout and stderr are redirected to the trace while it
runs). A ``call`` that names no importable function fails the same way, with a message
saying what is missing. The function may return a dict of strings: its outputs, handed on
to later steps (with what it wrote to ``context.output_file``, which the dict overrides).

A Python step runs in statemgr's own process: no timeout applies, the process's cwd and
environment stay as they are (``statemgr.runners.step_environment(context)`` gives what a
command step would get), and the build folder is created before the call.
KeyboardInterrupt, SystemExit and ``statemgr.errors.Interrupted`` are not step failures:
they are noted in the trace and propagate.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO, cast

from machines.names import Phase
from statemgr.errors import Interrupted
from statemgr.model import Environment, ErrorKind, utc_now
from statemgr.runners.base import StepContext, StepResult
from statemgr.runners.output import Tee
from statemgr.runners.process import interruption_name
from statemgr.runners.step_outputs import with_outputs
from statemgr.runners.trace import Trace
from statemgr.safe_paths import make_workspace_folder

StepFunction = Callable[[StepContext], object]


class BadCall(Exception):
    """A ``call`` that does not lead to a function; the message says why."""


def run_python_step(context: StepContext) -> StepResult:
    """Call the step's function; an exception it raises makes the step fail with ``error``."""
    step = context.step
    trace = Trace(context.trace_file)
    started = utc_now()
    trace.note(f"step {context.phase.value} {context.index}/{context.total} '{step.name}' started")
    trace.note(f"call: {step.call}")
    try:
        message, returned = _call(context, trace)
    except BaseException as error:
        elapsed = (utc_now() - started).total_seconds()
        trace.note(
            f"step '{step.name}' interrupted by {interruption_name(error)} after {elapsed:.1f}s"
        )
        raise
    return with_outputs(context, _finish(context, trace, started, message), returned)


def resolve(call: str) -> StepFunction:
    """The function named by ``call`` ("package.module:function"); ``BadCall`` if there is none."""
    module_name, _, attribute_path = call.partition(":")
    if not module_name or not attribute_path or ":" in attribute_path:
        raise BadCall(f"bad call {call!r}: expected 'package.module:function'")
    importlib.invalidate_caches()
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise BadCall(f"cannot import module {module_name!r} of call {call!r}: {error}") from error
    for attribute in attribute_path.split("."):
        try:
            target = getattr(target, attribute)
        except AttributeError as error:
            raise BadCall(f"call {call!r}: {module_name!r} has no {attribute_path!r}") from error
    if not callable(target):
        raise BadCall(f"call {call!r}: {attribute_path!r} is not callable")
    return target


def call_problems(environment: Environment, workdir: Path) -> list[str]:
    """Every ``call`` that names no importable function, as ``PHASE.steps[N].call: why``.

    The modules are imported (as a run would, with the config's folder importable); no
    function is called.
    """
    problems = []
    folder = _config_folder_of(environment, workdir)
    with _importable(folder):
        for phase in Phase:
            for index, step in enumerate(environment.phases.steps(phase)):
                if step.call is None:
                    continue
                try:
                    resolve(step.call)
                except BadCall as error:
                    problems.append(f"{phase.value}.steps[{index}].call: {error}")
                except Exception as error:
                    problems.append(
                        f"{phase.value}.steps[{index}].call: importing it failed: "
                        f"{type(error).__name__}: {error}"
                    )
    return problems


def _call(context: StepContext, trace: Trace) -> tuple[str | None, object]:
    """Run the step's function: (None, what it returned), or (the failure message, None)."""
    call = context.step.call
    if not call:
        raise ValueError(f"step '{context.step.name}' is not a Python step (no 'call')")
    make_workspace_folder(context.build_dir)  # 0700 whatever the umask
    with _importable(_config_folder(context)):
        try:
            function = resolve(call)
        except BadCall as error:
            return str(error), None
        except Exception as error:
            trace.write(traceback.format_exc(), fresh_line=True)
            why = f"{type(error).__name__}: {error}"
            return f"cannot import the module of call {call!r}: {why}", None
        trace.note("--- output ---")
        descriptor = trace.descriptor(os.O_WRONLY | os.O_APPEND)
        with open(descriptor, "a", encoding="utf-8", errors="replace", buffering=1) as output:
            out, err = _streams(context, output)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    returned = function(context)
            except Interrupted:
                raise
            except Exception as error:
                output.flush()
                trace.write(traceback.format_exc(), fresh_line=True)
                return f"{type(error).__name__}: {error}", None
            finally:
                for stream in {out, err}:
                    if stream is not output:
                        stream.close()  # its last line without a newline goes on too
    return None, returned


def _streams(context: StepContext, output: TextIO) -> tuple[TextIO, TextIO]:
    """What the step's stdout and stderr write to: the trace, teed when lines are wanted."""
    if context.on_output is None:
        return output, output
    out = Tee(output, "stdout", context.on_output)
    err = Tee(output, "stderr", context.on_output)
    return cast(TextIO, out), cast(TextIO, err)


def _config_folder(context: StepContext) -> Path | None:
    return _config_folder_of(context.environment, context.workdir)


def _config_folder_of(environment: Environment, workdir: Path) -> Path | None:
    config_file = environment.config_file
    if not config_file:
        return None
    return (workdir / config_file).parent


@contextlib.contextmanager
def _importable(folder: Path | None) -> Iterator[None]:
    """``folder`` first on sys.path for the duration of the block (if it was not already)."""
    entry = str(folder) if folder is not None else None
    added = entry is not None and entry not in sys.path
    if added:
        sys.path.insert(0, str(entry))
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(str(entry))


def _finish(
    context: StepContext, trace: Trace, started: datetime, message: str | None
) -> StepResult:
    finished = utc_now()
    name = context.step.name
    duration = (finished - started).total_seconds()
    if message is None:
        trace.note(f"step '{name}' ended after {duration:.3f}s (ok)")
        return StepResult(step=name, started_at=started, finished_at=finished)
    trace.note(f"step '{name}' ended after {duration:.3f}s (error): {message}")
    return StepResult(
        step=name,
        started_at=started,
        finished_at=finished,
        error_kind=ErrorKind.error,
        message=message,
    )
