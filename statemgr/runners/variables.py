"""What a step sees: the placeholders' values and its environment variables.

``variables`` maps each placeholder's name (``build_dir``, ``var.KEY``, ``outputs.KEY``) to
its value. Argv elements, ``cwd`` and ``env`` values get the values as text; a shell string
gets references to the ``STATEMGR_*`` twin of each placeholder (see
``statemgr.model.placeholders``), and every twin is in the step's environment, so a value
is never run as shell code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from statemgr.layout import Layout
from statemgr.model import Environment
from statemgr.model.placeholders import Placeholder, Template

if TYPE_CHECKING:
    from statemgr.runners.base import StepContext


def step_variables(
    environment: Environment,
    layout: Layout,
    variables: Mapping[str, str] | None = None,
    outputs: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The placeholders' values for ``environment`` in the workspace ``layout`` (absolute
    paths), with a command's ``variables`` (--var) as ``var.KEY`` and ``outputs`` as
    ``outputs.KEY``.

    The ssh_* values are empty when the environment has no SSH credentials (the config
    loader refuses ssh placeholders in that case).
    """
    ssh = environment.ssh
    values = {
        "name": str(environment.name),
        "workdir": str(layout.root),
        "build_dir": str(layout.root / environment.build_dir),
        "data_dir": str(layout.root / environment.data_dir),
        "ssh_username": ssh.username if ssh else "",
        "ssh_private_key": ssh.private_key if ssh else "",
        "ssh_public_key": ssh.public_key if ssh else "",
        "ssh_port": str(ssh.port) if ssh else "",
    }
    values.update({f"var.{key}": value for key, value in (variables or {}).items()})
    values.update({f"outputs.{key}": value for key, value in (outputs or {}).items()})
    return values


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with every placeholder replaced by its value as text (``{{`` gives ``{``).

    A placeholder with no value in ``variables`` raises ``KeyError`` naming it.
    """
    return Template.parse(text).render(variables)


def shell_script(text: str) -> str:
    """A ``sh -c`` string with each placeholder turned into a reference to its variable."""
    return Template.parse(text).render_shell()


def missing_placeholders(texts: list[str], variables: Mapping[str, str]) -> list[str]:
    """The placeholders of ``texts`` (as written, ``{var.X}``) that have no value."""
    missing: list[str] = []
    for text in texts:
        for placeholder in Template.parse(text).placeholders:
            if placeholder.name not in variables and placeholder.text not in missing:
                missing.append(placeholder.text)
    return missing


def variable_names(variables: Mapping[str, str]) -> dict[str, str]:
    """Each placeholder value under the name of its ``STATEMGR_*`` twin."""
    return {Placeholder.named(name).variable: value for name, value in variables.items()}


def step_environment(context: StepContext) -> dict[str, str]:
    """os.environ, then the step's ``env`` (placeholders replaced), then the STATEMGR_* ones
    (``STATEMGR_OUTPUT_KEY`` for each output, and ``STATEMGR_OUTPUT``, the step's file)."""
    environment = dict(os.environ)
    for key, value in context.step.env.items():
        environment[key] = substitute(value, context.variables)
    environment.update(variable_names(context.variables))
    environment.update(
        STATEMGR_ENV=context.name,
        STATEMGR_PHASE=str(context.phase.value),
        STATEMGR_STEP=context.step.name,
        STATEMGR_BUILD_DIR=str(context.build_dir),
        STATEMGR_DATA_DIR=str(context.data_dir),
    )
    if context.output_file is not None:
        environment["STATEMGR_OUTPUT"] = str(context.output_file)
    return environment
