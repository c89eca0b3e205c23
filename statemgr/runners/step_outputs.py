"""A step's ``$STATEMGR_OUTPUT`` file: made empty before each attempt, read once it ends.

The file lives next to the command run's trace (``<trace name>.<phase>-<step>-<id>.output``,
mode 0600, created new: never an existing file) and is removed when the attempt ends. Its
lines are parsed as ``statemgr.model.outputs`` says; a Python step's returned dict is
added over them. Whatever is wrong with them (a malformed line, a value over 64 KiB, a
link or a FIFO where the file was) makes a step that succeeded fail with error kind
``error``; a step that failed keeps its own failure and hands nothing on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs

from statemgr.errors import UnsafePath
from statemgr.model import ErrorKind
from statemgr.model.outputs import MAX_TOTAL_BYTES, OutputProblem, checked_outputs, parse_outputs
from statemgr.runners.base import StepContext, StepResult
from statemgr.runners.trace import Trace
from statemgr.safe_paths import open_file, read_file

# A file may hold a little more than the outputs it sets (delimiters, empty lines).
_MAX_FILE_BYTES = 2 * MAX_TOTAL_BYTES


@contextmanager
def output_file(context: StepContext) -> Iterator[Path]:
    """A new, empty output file for one attempt of the context's step; removed after it."""
    trace = Path(context.trace_file)
    for _attempt in range(5):
        token = secrets.token_hex(3)
        name = f"{trace.stem}.{context.phase.value}-{context.step.name}-{token}.output"
        path = trace.with_name(name)
        try:
            os.close(open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, str(path)))
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(f"cannot create a new output file next to {trace}")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def with_outputs(context: StepContext, result: StepResult, returned: object = None) -> StepResult:
    """``result`` with the outputs the step handed on: its file's, then ``returned``'s.

    A failed step hands nothing on; a step whose outputs cannot be used fails. A Python
    step that returns something other than a mapping or None hands nothing on by it (as
    before outputs existed): the trace says so.
    """
    if not result.ok:
        return result
    if returned is not None and not isinstance(returned, Mapping):
        kind = type(returned).__name__
        Trace(context.trace_file).note(f"the function returned a {kind}, not a dict: no outputs")
        returned = None
    try:
        outputs = _read(context)
        if returned is not None:
            outputs.update(checked_outputs(returned))
    except OutputProblem as problem:
        message = f"bad outputs: {problem}"
        Trace(context.trace_file).note(f"step '{context.step.name}' failed: {message}")
        return attrs.evolve(result, error_kind=ErrorKind.error, message=message)
    if outputs:
        listed = ", ".join(sorted(outputs))
        Trace(context.trace_file).note(f"step '{context.step.name}' outputs: {listed}")
    return attrs.evolve(result, outputs=outputs)


def _read(context: StepContext) -> dict[str, str]:
    path = context.output_file
    if path is None:
        return {}
    shown = f"$STATEMGR_OUTPUT ({path.name})"
    try:
        data = read_file(path, shown, limit=_MAX_FILE_BYTES)
    except FileNotFoundError:
        return {}  # the step removed it: it hands nothing on
    except UnsafePath as unsafe:
        raise OutputProblem(unsafe.message) from None
    except OSError as error:
        raise OutputProblem(f"cannot read {shown}: {error.strerror or error}") from None
    return parse_outputs(data)
