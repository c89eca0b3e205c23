"""The one place statemgr opens, creates and removes the files of a workspace.

The rules (contract, "(r2) Safe paths"), as trusted tools apply them (sqlite, git,
OpenSSH's StrictModes):

- A file is opened with ``O_NOFOLLOW`` and ``O_NONBLOCK`` and checked with ``fstat``: a
  symbolic link, FIFO, socket, device or folder where a regular file belongs is refused
  (``UnsafePath``), and a FIFO never makes anyone wait.
- A folder is checked with ``lstat``: a link or a file where a folder belongs is refused.
  With ``owned``, a folder owned by another user, or writable by group or others, is
  refused too, with the chown/chmod that fixes it (nobody else can then swap what is
  inside it between a check and its use).
- Whatever is created is 0600 (files) or 0700 (folders) whatever the umask.
- What is read has a size cap, checked before reading and while reading.
- Removing never follows a link: a link is removed, not what it points to.

``UnsafePath`` is a ``StorageError`` (exit 7); a reader of the state file turns it into
``StateFileUnreadable`` (exit 6). Other ``OSError``s (ENOSPC, EACCES, ...) pass unchanged,
for the caller to name in its own words.

This module is on the read path: standard library only, nothing slow to import.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import stat
from pathlib import Path

from statemgr.errors import UnsafePath

FILE_MODE = 0o600
FOLDER_MODE = 0o700
MAX_STATE_BYTES = 64 * 1024 * 1024  # state.json, history.jsonl
MAX_SMALL_BYTES = 64 * 1024  # state.lock's holder record, and such

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def kind_of(mode: int) -> str:
    """What a file is, for a message: ``a symbolic link``, ``a FIFO``, ``a folder``, ..."""
    kinds = (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "not a regular file"


def _quoted(path: Path | str) -> str:
    return shlex.quote(os.fspath(path))


def _not_a_file(path: Path | str, shown: str, mode: int) -> UnsafePath:
    what = kind_of(mode)
    return UnsafePath(
        shown,
        f"it is {what}, not a regular file",
        f"statemgr never follows links nor reads or writes anything but a regular file "
        f"there; remove it (rm {_quoted(path)}) or put the real file in its place",
        code=errno.ELOOP if stat.S_ISLNK(mode) else errno.EINVAL,
    )


def _not_a_folder(path: Path | str, shown: str, mode: int) -> UnsafePath:
    what = kind_of(mode)
    return UnsafePath(
        shown,
        f"it is {what}, not a folder",
        f"statemgr never follows links there; replace it by a real folder "
        f"(rm {_quoted(path)}; statemgr makes the folder when it needs it)",
        code=errno.ELOOP if stat.S_ISLNK(mode) else errno.ENOTDIR,
    )


def _user(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (KeyError, ImportError):
        return f"uid {uid}"


def check_owner(path: Path | str, shown: str, status: os.stat_result) -> None:
    """Refuse a folder another user owns, or that group or others may write to."""
    me = os.geteuid()
    if status.st_uid != me:
        login = _user(me).split(" ")[0]
        raise UnsafePath(
            shown,
            f"it is owned by {_user(status.st_uid)}, not by {_user(me)} who runs statemgr "
            f"(another user could change what statemgr runs)",
            f"if its content is yours, take it over: chown -R {login} {_quoted(path)}; "
            f"else run statemgr as its owner",
        )
    if status.st_mode & _WRITABLE_BY_OTHERS:
        who = "group and others" if status.st_mode & stat.S_IWOTH else "its group"
        if status.st_mode & stat.S_IWOTH and not status.st_mode & stat.S_IWGRP:
            who = "others"
        mode = stat.S_IMODE(status.st_mode)
        raise UnsafePath(
            shown,
            f"it is writable by {who} (mode {mode:04o}; another user could change what "
            f"statemgr runs)",
            f"make it private: chmod 700 {_quoted(path)}",
        )


def check_folder(path: Path, shown: str, *, owned: bool = False) -> os.stat_result:
    """``path`` is a real folder (not a link); with ``owned``, ours and private.

    Raises ``FileNotFoundError`` when it is missing, ``UnsafePath`` when it is unsafe.
    """
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode):
        raise _not_a_folder(path, shown, status.st_mode)
    if owned:
        check_owner(path, shown, status)
    return status


def ensure_folder(path: Path, shown: str, *, owned: bool = False) -> bool:
    """Make ``path`` (mode 0700 exactly) unless it is there; check it either way.

    Its parent must exist. True when this call made it.
    """
    try:
        check_folder(path, shown, owned=owned)
        return False
    except FileNotFoundError:
        pass
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileExistsError:  # made meanwhile by another command: check what is there
        check_folder(path, shown, owned=owned)
        return False
    _force_folder_mode(path, shown)
    return True


def _force_folder_mode(path: Path, shown: str) -> None:
    """chmod 0700 the folder just made, through a descriptor that cannot follow a link."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        if stat.S_IMODE(status.st_mode) != FOLDER_MODE:
            os.fchmod(fd, FOLDER_MODE)
    finally:
        os.close(fd)


def make_workspace_folder(path: Path) -> None:
    """Make ``path`` and its missing parents, each 0700 exactly (the workdir itself, say).

    Folders that exist are left as they are: the workdir is the user's choice.
    """
    if path.is_dir():
        return
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)
        except FileExistsError:
            continue
        _force_folder_mode(folder, str(folder))


def open_file(path: Path | str, flags: int, shown: str, *, mode: int = FILE_MODE) -> int:
    """``os.open`` that refuses anything but a regular file, and never blocks on a FIFO.

    A file this call may create (``O_CREAT``) ends up with ``mode`` exactly, whatever the
    umask; an existing file of ours with looser permissions is tightened to it.
    """
    try:
        fd = os.open(path, flags | _OPEN_FLAGS, mode)
    except OSError as error:
        raise _refusal(path, shown, error) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise _not_a_file(path, shown, status.st_mode)
        if flags & os.O_CREAT and stat.S_IMODE(status.st_mode) & ~mode:
            _tighten(fd, status, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _tighten(fd: int, status: os.stat_result, mode: int) -> None:
    if status.st_uid == os.geteuid():
        with contextlib.suppress(OSError):  # a file system without modes: nothing to tighten
            os.fchmod(fd, mode)


def _refusal(path: Path | str, shown: str, error: OSError) -> OSError:
    """An open that failed because of what is at ``path`` becomes ``UnsafePath``."""
    if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.ENODEV, errno.ETXTBSY):
        try:
            found = os.lstat(path)
        except OSError:
            return error
        if not stat.S_ISREG(found.st_mode):
            return _not_a_file(path, shown, found.st_mode)
    return error


def too_large(shown: str, size: int, limit: int) -> UnsafePath:
    return UnsafePath(
        shown,
        f"it is {size:,} bytes, over the limit of {limit:,} bytes; it was not read",
        "this is not a file statemgr wrote: move it away and restore the right one",
        code=errno.EFBIG,
    )


def read_file(path: Path | str, shown: str, *, limit: int = MAX_STATE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them (else refused).

    A file that grows past ``limit`` while it is read (or a sparse one that claims less
    than it holds) is refused too; nothing past ``limit + 1`` bytes is ever read.
    """
    fd = open_file(path, os.O_RDONLY, shown)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise too_large(shown, size, limit)
        chunks = []
        total = 0
        while True:  # usually one read of size + 1 bytes, then the empty read of the end
            chunk = os.read(fd, min(max(size + 1 - total, 65536), limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise too_large(shown, total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove ``path``: a folder with all it holds (never following a link inside it), or
    a link or file itself (never what a link points to). A missing path is fine."""
    import shutil

    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(status.st_mode):
        shutil.rmtree(path)  # the descriptor-based walk: it never follows a link inside
    else:
        os.unlink(path)
