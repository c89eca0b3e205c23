"""A regular (non-editable) install of statemgr in a throwaway virtual environment.

The development install is editable: every interpreter start imports its path hook, which
costs start-up time a user's ``pip install statemgr`` does not pay. To time start-up as
users see it, ``regular_install`` makes a venv (without pip) whose site-packages holds
copies of the packages, compiled as pip compiles them, and a console script written from
the entry point in pyproject.toml, as pip writes it. The dependencies are those of the
running interpreter, named by one path in a .pth file: that folder's own .pth files (the
editable hook among them) are not processed, as Python processes only the .pth files of
a site folder itself.

No network, no index, no build: a copy of what a wheel would unpack.
"""

from __future__ import annotations

import compileall
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

from bench.common import REPO

PACKAGES = ("statemgr", "machines")
SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {function}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({function}())
"""


def entry_point() -> tuple[str, str]:
    """(module, function) of the ``statemgr`` console script, from pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    module, function = project["scripts"]["statemgr"].split(":")
    return module, function


def regular_install(folder: Path) -> Path:
    """A venv in ``folder`` with statemgr installed as files; its ``statemgr`` script."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, site / package, ignore=shutil.ignore_patterns("__pycache__")
        )
        compileall.compile_dir(site / package, quiet=1)
    (site / "statemgr-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    module, function = entry_point()
    script = folder / "bin" / "statemgr"
    script.write_text(SCRIPT.format(python=python, module=module, function=function))
    script.chmod(0o755)
    return script
