"""statemgr: the lifecycle of deployment environments as a declared, durable state machine.

The library is silent: it logs through loguru (see ``statemgr.log``), disabled until an
application enables it with ``logger.enable("statemgr")``, as the CLI does.
"""

__version__ = "0.1.0"
