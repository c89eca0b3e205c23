"""SIGINT and SIGTERM during a state-changing command.

While a command runs, both signals raise ``Signalled`` in the main thread, so that the step
runner stops the step's process group and the service records the phase as interrupted.
While that record is written, further signals are remembered instead of raised.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
LOST_LOCK_SIGNAL = signal.SIGUSR1
"""Sent by this process to its own main thread when the store says the lock was lost."""


class Signalled(BaseException):
    """Raised by the handler; a BaseException so that ``except Exception`` does not eat it."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


class LockLostSignal(BaseException):
    """Raised in the main thread when the held lock was lost; carries the error to report.

    A BaseException, like ``Signalled``: the runners stop the step's process group on it,
    and nothing records it (the lock's session is gone, so is the right to write)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class SignalGuard:
    """Turns SIGINT/SIGTERM into ``Signalled`` while armed; remembers them while deferred.

    ``lock_lost`` (called by the store's watchdog thread) makes the main thread raise
    ``LockLostSignal`` at once, even inside a step or a deferred block.
    """

    def __init__(self) -> None:
        self.deferring = False
        self.pending: int | None = None
        self.lost: Exception | None = None
        self._main = threading.main_thread().ident

    def _handle(self, signal_number: int, _frame: FrameType | None) -> None:
        if signal_number == LOST_LOCK_SIGNAL:
            if self.lost is not None:
                raise LockLostSignal(self.lost)
            return  # someone else's SIGUSR1: ignored while a command runs
        if self.deferring:
            self.pending = self.pending or signal_number
            return
        raise Signalled(signal_number)

    def lock_lost(self, error: Exception) -> None:
        """The held lock is gone: stop whatever the main thread does (from any thread)."""
        if self.lost is not None or self._main is None:
            return
        self.lost = error
        signal.pthread_kill(self._main, LOST_LOCK_SIGNAL)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Signals arriving inside this block are remembered, not raised."""
        before = self.deferring
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = before

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """The block runs whole (a save, say); a signal that came meanwhile is raised after it.

        Inside a ``deferred`` block this is that block's business: nothing is raised.
        """
        if self.deferring:
            yield
            return
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.pending is not None:
            number, self.pending = self.pending, None
            raise Signalled(number)


@contextmanager
def guarded() -> Iterator[SignalGuard]:
    """Install the handlers for the block (main thread only); restore the old ones after."""
    guard = SignalGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous = {number: signal.getsignal(number) for number in (*HANDLED, LOST_LOCK_SIGNAL)}
    for number in previous:
        signal.signal(number, guard._handle)
    try:
        yield guard
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
