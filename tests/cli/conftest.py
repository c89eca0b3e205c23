"""Fixtures of the CLI tests: a workspace of its own for every test (``support.workdir``)."""

from .support import workdir  # noqa: F401  (the one workspace fixture)
