"""``python -m bench``: every benchmark, the summary table, docs/performance.md."""

import sys

from bench.run_all import main

sys.exit(main())
