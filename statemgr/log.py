"""The library's logger: loguru's, disabled for statemgr until an application enables it.

Library modules log through ``from statemgr.log import logger``. loguru is imported only by
the modules that change state, so reading commands (status, list) do not pay for it.
"""

from __future__ import annotations

from loguru import logger

logger.disable("statemgr")

__all__ = ["logger"]
