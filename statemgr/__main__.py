"""The ``statemgr`` command (and ``python -m statemgr``).

The garbage collector is off while the interpreter starts up and imports: start-up makes
many objects and no cyclic garbage, and a collection in the middle of it only costs time.
``statemgr.cli.main`` turns it back on for every command but the quick reading ones
(``statemgr.cli.quick``). When those are done, their output is flushed and the process
ends at once: they opened nothing else and registered nothing to run at exit, and taking
the interpreter apart object by object would cost more than the command itself. Any other
command exits the usual way, with the objects left frozen so that the interpreter's last
collection has nothing to walk.
"""

import gc
import os
import sys


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
