"""Where things live in a workspace (the contract's layout), relative to --workdir."""

from __future__ import annotations

from pathlib import Path

import attrs


def _absolute(path: str | Path) -> Path:
    return Path(path).absolute()


@attrs.frozen
class Layout:
    """Paths of one workspace. ``root`` is the --workdir, made absolute."""

    root: Path = attrs.field(converter=_absolute)

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def build_root(self) -> Path:
        return self.root / "build"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "statemgr.log"

    def data_dir(self, name: str) -> Path:
        return self.data_root / name

    def build_dir(self, name: str) -> Path:
        return self.build_root / name

    def state_file(self, name: str) -> Path:
        return self.data_dir(name) / "state.json"

    def history_file(self, name: str) -> Path:
        return self.data_dir(name) / "history.jsonl"

    def lock_file(self, name: str) -> Path:
        return self.data_dir(name) / "state.lock"

    def traces_dir(self, name: str) -> Path:
        return self.data_dir(name) / "traces"

    def relative(self, path: Path) -> str:
        """``path`` relative to the workspace when inside it (as shown to users)."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
