"""Where things live in a workspace (the contract's layout), relative to --workdir."""

from __future__ import annotations

import os
from pathlib import Path


class Layout:
    """Paths of one workspace. ``root`` is the --workdir, made absolute.

    A path is built once per name and kept (a command asks for the same few many times,
    and joining paths is most of what a durable save spends on CPU besides the JSON).
    A plain class, not attrs: every reading command makes one (see statemgr.model.behaviour).
    """

    __slots__ = ("_paths", "data_root", "root")

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        self.data_root = self.root / "data"
        self._paths: dict[tuple[str, str], Path] = {}

    def __eq__(self, other: object) -> bool:
        if type(other) is not Layout:
            return NotImplemented
        return self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"Layout(root={self.root!r})"

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

    def relative(self, path: Path | str) -> str:
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
            folder = self._paths.get((name, ""))
            if folder is None:
                folder = self._paths[(name, "")] = self.data_root / name
            path = self._paths[key] = folder / leaf if leaf else folder
        return path
