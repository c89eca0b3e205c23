"""Where things live in a workspace (the contract's layout), relative to --workdir."""

from __future__ import annotations

from pathlib import Path

import attrs


def _absolute(path: str | Path) -> Path:
    return Path(path).absolute()


@attrs.frozen
class Layout:
    """Paths of one workspace. ``root`` is the --workdir, made absolute.

    A path is built once per name and kept (a command asks for the same few many times,
    and joining paths is most of what a durable save spends on CPU besides the JSON).
    """

    root: Path = attrs.field(converter=_absolute)
    data_root: Path = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(lambda s: s.root / "data", True)
    )
    _paths: dict[tuple[str, str], Path] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )

    @property
    def build_root(self) -> Path:
        return self.root / "build"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "statemgr.log"

    def data_dir(self, name: str) -> Path:
        return self._in_data(name, "")

    def build_dir(self, name: str) -> Path:
        return self.build_root / name

    def state_file(self, name: str) -> Path:
        return self._in_data(name, "state.json")

    def history_file(self, name: str) -> Path:
        return self._in_data(name, "history.jsonl")

    def lock_file(self, name: str) -> Path:
        return self._in_data(name, "state.lock")

    def traces_dir(self, name: str) -> Path:
        return self._in_data(name, "traces")

    def relative(self, path: Path) -> str:
        """``path`` relative to the workspace when inside it (as shown to users)."""
        text, root = str(path), str(self.root)
        if text == root:
            return "."
        inside = root if root.endswith("/") else root + "/"
        return text[len(inside) :] if text.startswith(inside) else text

    def _in_data(self, name: str, leaf: str) -> Path:
        """data/NAME (``leaf`` empty) or data/NAME/LEAF, built once."""
        key = (name, leaf)
        path = self._paths.get(key)
        if path is None:
            folder = self.data_root / name
            path = self._paths[key] = folder / leaf if leaf else folder
        return path
