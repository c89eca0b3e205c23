"""The ``statemgr`` command (and ``python -m statemgr``).

The garbage collector is off while the interpreter starts up and imports: start-up makes
many objects and no cyclic garbage, and a collection in the middle of it only costs time.
``statemgr.cli.main`` turns it back on for every command but the quick reading ones
(``statemgr.cli.quick``). When those are done, their output is flushed and the process
ends at once: they opened nothing else and registered nothing to run at exit, and taking
the interpreter apart object by object would cost more than the command itself. Any other
command exits the usual way, with the objects left frozen so that the interpreter's last
collection has nothing to walk.

Signals. The first thing this module does is take SIGINT and SIGTERM: until a command
installs its own handlers (a state-changing command does, before it takes its lock, see
``statemgr.service.signals``), either signal ends the process at once with 130 or 143 and
one line on stderr, never a traceback: nothing was changed yet, so nothing needs to be
recorded, and a KeyboardInterrupt raised in the middle of an import or a finalizer could
print a traceback or be swallowed. The command's handlers put these back when it ends.
Only the moments before Python runs this module (the interpreter's own start-up) are
beyond it.
"""

import os
import signal


def _stopped(signal_number: int, _frame: object) -> None:
    """SIGINT/SIGTERM outside a command's own handlers: say so and exit 128 + N at once."""
    name = "SIGINT" if signal_number == signal.SIGINT else "SIGTERM"
    message = f"statemgr: error: stopped by {name} before it changed anything\n"
    try:
        os.write(2, message.encode())
    finally:
        os._exit(128 + signal_number)


for _number in (signal.SIGINT, signal.SIGTERM):
    signal.signal(_number, _stopped)

import gc  # noqa: E402  (after the handlers: a signal while importing is handled too)
import sys  # noqa: E402


def run() -> int:
    """Run the command line in ``sys.argv``; return its exit code."""
    gc.disable()
    try:
        from statemgr.cli import main, quick

        code = main()
        if quick.parse(sys.argv[1:]) is not None:
            _exit_now(code)
        return code
    finally:
        gc.freeze()


def _exit_now(code: int) -> None:
    """Flush stdout and stderr and end the process with ``code`` (if they flush)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # let the interpreter's own exit deal with it
    os._exit(code)


if __name__ == "__main__":
    sys.exit(run())
