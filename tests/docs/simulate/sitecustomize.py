"""A full disk for the docs' examples, without filling a disk.

The harness puts this folder on PYTHONPATH for a console block marked
``<!-- simulate: full-disk -->`` (or ``full-disk after N``). Python imports it at start-up;
it makes the file store's write of a state file fail with ENOSPC, after N good writes,
through the same seam the store tests use (``statemgr.store.atomic._write_all``). Nothing
else changes: the error the user sees is the one a real full disk gives.
"""

import os

_AFTER = os.environ.get("STATEMGR_DOCS_FULL_DISK_AFTER")

if _AFTER is not None:
    import errno

    import statemgr.store.atomic as _atomic

    _good_writes = int(_AFTER or 0)
    _original = _atomic._write_all
    _done = [0]

    def _write_all(fd: int, data: bytes) -> None:
        _done[0] += 1
        if _done[0] > _good_writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        _original(fd, data)

    _atomic._write_all = _write_all
