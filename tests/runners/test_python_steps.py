"""Python steps: a function from the config's folder, called with the step context."""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from statemgr.errors import Interrupted
from statemgr.model import Environment, ErrorKind, Step
from statemgr.runners import StepContext, run_step

from .conftest import MakeContext

STEPS = """
import json
import sys

from helper_{tag} import GREETING

from statemgr.errors import Interrupted


def write(context):
    print(GREETING, context.name, context.phase.value)
    print("to stderr", file=sys.stderr)
    (context.build_dir / "written.json").write_text(json.dumps({{
        "step": context.step.name,
        "data_dir": str(context.data_dir),
        "ssh_username": context.variables["ssh_username"],
    }}))


def fail(context):
    print("about to fail")
    raise RuntimeError("boom in " + context.step.name)


def interrupt(context):
    raise KeyboardInterrupt


def stop(context):
    raise Interrupted("web", 15, "provision", context.step.name)


class Holder:
    @staticmethod
    def nested(context):
        print("nested ran")


NOT_A_FUNCTION = 42
"""


@pytest.fixture
def config_env(tmp_path: Path) -> tuple[Environment, str]:
    """An environment whose config folder holds a steps module (and a helper it imports)."""
    tag = uuid.uuid4().hex[:10]
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / f"steps_{tag}.py").write_text(textwrap.dedent(STEPS.format(tag=tag)))
    (folder / f"helper_{tag}.py").write_text('GREETING = "hello from"\n')
    return Environment.new("web", config_file=str(folder / "web.toml")), f"steps_{tag}"


def python_step(make_context: MakeContext, env: tuple[Environment, str], call: str) -> StepContext:
    environment, module = env
    return make_context(
        Step(name="py", call=call.replace("MODULE", module)), environment=environment
    )


def test_a_function_from_the_config_folder_runs_with_the_context(
    make_context: MakeContext, config_env: tuple[Environment, str]
) -> None:
    context = python_step(make_context, config_env, "MODULE:write")
    result = run_step(context)
    assert result.ok, result
    assert result.error_kind is None
    written = (context.build_dir / "written.json").read_text()
    assert '"step": "py"' in written
    assert f'"data_dir": "{context.data_dir}"' in written
    trace = context.trace_file.read_text()
    assert "hello from web provision" in trace
    assert "to stderr" in trace
    assert "(ok)" in trace
    assert str(Path(str(config_env[0].config_file)).parent) not in sys.path


def test_a_raising_function_fails_with_error_and_the_traceback_in_the_trace(
    make_context: MakeContext, config_env: tuple[Environment, str]
) -> None:
    context = python_step(make_context, config_env, "MODULE:fail")
    result = run_step(context)
    assert result.error_kind is ErrorKind.error
    assert result.message == "RuntimeError: boom in py"
    assert result.exit_code is None
    trace = context.trace_file.read_text()
    assert "about to fail" in trace
    assert "Traceback (most recent call last)" in trace
    assert 'raise RuntimeError("boom in " + context.step.name)' in trace


def test_a_dotted_attribute_path_is_followed(
    make_context: MakeContext, config_env: tuple[Environment, str]
) -> None:
    context = python_step(make_context, config_env, "MODULE:Holder.nested")
    assert run_step(context).ok
    assert "nested ran" in context.trace_file.read_text()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("no_colon_here", "expected 'package.module:function'"),
        ("MODULE:", "expected 'package.module:function'"),
        ("no_such_module_xyz:run", "cannot import module 'no_such_module_xyz'"),
        ("MODULE:missing", "has no 'missing'"),
        ("MODULE:NOT_A_FUNCTION", "'NOT_A_FUNCTION' is not callable"),
    ],
)
def test_a_bad_call_fails_with_a_clear_message(
    make_context: MakeContext, config_env: tuple[Environment, str], call: str, expected: str
) -> None:
    result = run_step(python_step(make_context, config_env, call))
    assert result.error_kind is ErrorKind.error
    assert expected in result.message


def test_a_module_that_fails_to_import_is_an_error_with_its_traceback(
    make_context: MakeContext, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    module = f"broken_{uuid.uuid4().hex[:10]}"
    (folder / f"{module}.py").write_text("raise ValueError('bad module')\n")
    environment = Environment.new("web", config_file=str(folder / "web.toml"))
    context = make_context(Step(name="py", call=f"{module}:run"), environment=environment)
    result = run_step(context)
    assert result.error_kind is ErrorKind.error
    assert "ValueError: bad module" in result.message
    assert "Traceback" in context.trace_file.read_text()


@pytest.mark.parametrize(
    ("function", "raised", "named"),
    [("interrupt", KeyboardInterrupt, "SIGINT"), ("stop", Interrupted, "SIGTERM")],
)
def test_an_interruption_inside_a_python_step_propagates(
    make_context: MakeContext,
    config_env: tuple[Environment, str],
    function: str,
    raised: type[BaseException],
    named: str,
) -> None:
    context = python_step(make_context, config_env, f"MODULE:{function}")
    with pytest.raises(raised):
        run_step(context)
    assert f"'py' interrupted by {named}" in context.trace_file.read_text()
