"""The declared statecharts of statemgr. No I/O lives here.

``machines.names`` (state names, events, phases) is cheap to import; the statechart itself
(``machines.lifecycle``) pulls in python-statemachine and is imported only when needed.
"""

from machines.names import Event, Phase, StateName

__all__ = ["Event", "Phase", "StateName"]
