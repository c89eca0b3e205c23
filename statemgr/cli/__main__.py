"""``python -m statemgr.cli``: the same as the ``statemgr`` command."""

import sys

from statemgr.cli import main

if __name__ == "__main__":
    sys.exit(main())
