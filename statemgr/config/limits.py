"""What a config may hold at all, checked before any key is read (contract: "A NUL byte, a
value over 64 KiB or a path over the system's limit anywhere in a config is refused at
validate and create, never later").

Such a value would pass into the state and fail only when a step runs (a NUL cannot be
passed to ``exec``, a too-long path cannot be opened), leaving an environment that cannot
be provisioned or destroyed. The file itself must be something that ends: a regular file
or a pipe (``statemgr create <(envsubst < web.toml)``), never a device or a folder, and
at most ``MAX_CONFIG_BYTES`` long.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from statemgr.config.problems import Problems
from statemgr.errors import ConfigError

MAX_VALUE_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
PATH_KEYS = frozenset({"cwd", "private_key", "public_key"})


def _system_limit(name: str, default: int) -> int:
    try:
        return os.pathconf("/", name)
    except (OSError, ValueError):
        return default


PATH_MAX = _system_limit("PC_PATH_MAX", 4096)
NAME_MAX = _system_limit("PC_NAME_MAX", 255)


def read_document(config_file: Path, shown: str) -> dict[str, Any]:
    """The TOML document in ``config_file``; ``ConfigError`` for anything it cannot be."""
    try:
        data = _read_bytes(config_file)
        return tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        reason = f"no such file ({config_file})"
    except IsADirectoryError:
        reason = f"it is a folder, not a file ({config_file})"
    except _NotAFile as error:
        reason = f"it is {error.args[0]}, not a file ({config_file})"
    except _TooLarge:
        reason = f"it is over {MAX_CONFIG_BYTES:,} bytes: not a config"
    except OSError as error:
        reason = f"cannot read it: {error.strerror or error}"
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text: {error.reason} at byte {error.start}"
    except tomllib.TOMLDecodeError as error:
        reason = f"not valid TOML: {error}"
    except RecursionError:
        reason = f"not a config: arrays or tables nested deeper than {MAX_DEPTH} levels"
    raise ConfigError(shown, [reason])


class _NotAFile(Exception):
    pass


class _TooLarge(Exception):
    pass


def _open(config_file: Path) -> int:
    """Open the config without waiting for a FIFO's writer (a seam for the tests, too)."""
    return os.open(config_file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)


def _read_bytes(config_file: Path) -> bytes:
    """At most ``MAX_CONFIG_BYTES`` of a regular file or a pipe; a FIFO without a writer
    reads as empty instead of waiting for one."""
    from statemgr.safe_paths import kind_of

    fd = _open(config_file)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(config_file)
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise _NotAFile(kind_of(mode))
        os.set_blocking(fd, True)  # a pipe with a writer: wait for what it writes
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_CONFIG_BYTES:
                raise _TooLarge
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_limits(document: dict[str, Any], problems: Problems) -> None:
    """Add a problem for every NUL byte, over-long value, over-long path or deep nesting."""
    for raw_where, key, value, depth in _walk(document, "", 0):
        where = raw_where.replace("\0", "\\0")
        if depth > MAX_DEPTH:
            problems.add(where, f"nested deeper than {MAX_DEPTH} levels")
            return
        if "\0" in key:
            problems.add(where, "a key with a NUL byte (\\0): not allowed anywhere in a config")
        if isinstance(value, str):
            _check_text(where, key, value, problems)


def _check_text(where: str, key: str, value: str, problems: Problems) -> None:
    if "\0" in value:
        problems.add(where, "contains a NUL byte (\\0): not allowed anywhere in a config")
    size = len(value.encode("utf-8", errors="surrogatepass"))
    if size > MAX_VALUE_BYTES:
        problems.add(where, f"{size:,} bytes long, over the limit of {MAX_VALUE_BYTES:,}")
    elif key in PATH_KEYS:
        if size >= PATH_MAX:
            problems.add(where, f"a path of {size:,} bytes, over the system's limit ({PATH_MAX})")
        else:
            longest = max((len(part.encode()) for part in value.split("/")), default=0)
            if longest > NAME_MAX:
                problems.add(
                    where,
                    f"a path with a name of {longest} bytes, over the system's limit ({NAME_MAX})",
                )


def _walk(value: Any, where: str, depth: int) -> Iterator[tuple[str, str, Any, int]]:
    """(key path, last key, value, depth) of every value, depth first; stops going deeper
    than ``MAX_DEPTH + 1``."""
    if depth > MAX_DEPTH + 1:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            yield path, str(key), item, depth + 1
            yield from _walk(item, path, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            path = f"{where}[{index}]"
            yield path, where.rpartition(".")[2], item, depth + 1
            yield from _walk(item, path, depth + 1)
