"""What a step sees: the contract's placeholders and its environment variables.

Placeholders ({name}, {workdir}, {build_dir}, {data_dir}, {ssh_username},
{ssh_private_key}, {ssh_public_key}, {ssh_port}) are replaced as plain text, without
quoting: a shell string that may see spaces in a path quotes it itself ("{build_dir}").
Only those exact tokens are replaced; any other brace (``${HOME}``, awk's ``{print $1}``)
is left as it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from statemgr.layout import Layout
from statemgr.model import Environment
from statemgr.model.environment import PLACEHOLDER_PATTERN

if TYPE_CHECKING:
    from statemgr.runners.base import StepContext


def step_variables(environment: Environment, layout: Layout) -> dict[str, str]:
    """The placeholders' values for ``environment`` in the workspace ``layout`` (absolute paths).

    The ssh_* values are empty when the environment has no SSH credentials (the config
    loader refuses ssh placeholders in that case).
    """
    ssh = environment.ssh
    return {
        "name": str(environment.name),
        "workdir": str(layout.root),
        "build_dir": str(layout.root / environment.build_dir),
        "data_dir": str(layout.root / environment.data_dir),
        "ssh_username": ssh.username if ssh else "",
        "ssh_private_key": ssh.private_key if ssh else "",
        "ssh_public_key": ssh.public_key if ssh else "",
        "ssh_port": str(ssh.port) if ssh else "",
    }


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with every ``{key}`` of ``variables`` replaced by its value; nothing else."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return variables[key] if key in variables else match.group(0)

    return PLACEHOLDER_PATTERN.sub(replace, text)


def step_environment(context: StepContext) -> dict[str, str]:
    """os.environ, then the step's ``env`` (placeholders replaced), then the STATEMGR_* ones."""
    environment = dict(os.environ)
    for key, value in context.step.env.items():
        environment[key] = substitute(value, context.variables)
    environment.update(
        STATEMGR_ENV=context.name,
        STATEMGR_PHASE=str(context.phase.value),
        STATEMGR_STEP=context.step.name,
        STATEMGR_BUILD_DIR=str(context.build_dir),
        STATEMGR_DATA_DIR=str(context.data_dir),
    )
    return environment
