"""The built-in demo environment, shipped as package data in ``files/``.

``statemgr demo`` installs it into a workspace with :func:`install_demo`, then creates,
deploys, shows and destroys the environment it declares, :data:`DEMO_ENVIRONMENT`, with
the same config format and runners as any user's environment.
"""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path

DEMO_ENVIRONMENT = "demo"
"""The environment name in the demo's config."""

DEMO_CONFIG = "demo.toml"
"""The demo's config file, inside the installed folder."""

DEMO_FOLDER = "demo"
"""Where :func:`install_demo` puts the files, inside the workspace."""

_EXECUTABLE_SUFFIXES = (".sh",)
_EXECUTABLE_NAMES = frozenset({"app.py"})


def install_demo(workdir: Path) -> Path:
    """Copy the demo files into ``workdir/demo/`` (overwriting) and return its config file.

    Scripts are made executable. Files in ``workdir/demo/`` that are not demo files are
    left alone; compiled leftovers (``__pycache__``) are removed so that the copied
    Python sources are the ones imported.
    """
    target = Path(workdir) / DEMO_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    source = files(__name__).joinpath("files")
    for entry in source.iterdir():
        if not entry.is_file() or entry.name.endswith((".pyc", ".pyo")):
            continue
        destination = target / entry.name
        temporary = destination.with_name(f".{entry.name}.tmp")
        temporary.write_bytes(entry.read_bytes())
        executable = entry.name.endswith(_EXECUTABLE_SUFFIXES) or entry.name in _EXECUTABLE_NAMES
        os.chmod(temporary, 0o755 if executable else 0o644)
        os.replace(temporary, destination)
    shutil.rmtree(target / "__pycache__", ignore_errors=True)
    return target / DEMO_CONFIG


__all__ = ["DEMO_CONFIG", "DEMO_ENVIRONMENT", "DEMO_FOLDER", "install_demo"]
