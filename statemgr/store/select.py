"""One factory: the store that ``--store`` / STATEMGR_STORE names.

- unset, empty or ``file``: the file store under the workspace;
- ``postgresql://...`` or ``postgres://...``: the PostgreSQL store (the extra
  ``postgresql``);
- anything else: ``UsageError`` (exit 2).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from statemgr.errors import UsageError
from statemgr.layout import Layout

if TYPE_CHECKING:
    from statemgr.store.base import Store

STORE_VARIABLE = "STATEMGR_STORE"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def store_spec(option: str | None) -> str:
    """The chosen store: the option wins over the variable; the file store by default."""
    if option is not None:
        return option
    return os.environ.get(STORE_VARIABLE) or "file"


def is_postgres(spec: str) -> bool:
    return spec.startswith(POSTGRES_SCHEMES)


def check_spec(spec: str) -> str:
    """``spec`` when it names a store, else ``UsageError`` naming what is accepted."""
    if spec == "file" or is_postgres(spec):
        return spec
    raise UsageError(
        f"unknown store {_redacted(spec)!r}: expected 'file' or a postgresql:// URL "
        f"(--store or ${STORE_VARIABLE})"
    )


def open_store(spec: str | None, layout: Layout, *, views: bool = False) -> Store:
    """The store ``spec`` names (None: the file store) for the workspace at ``layout``.

    ``views``: the store reads into read-only views, not attrs classes (for commands that
    only read; see ``statemgr.store.reader``).
    """
    spec = check_spec(spec or "file")
    if spec == "file":
        from statemgr.store.file import FileStore

        return FileStore(layout, views=views)
    return _postgres_store(spec, layout, views)


def _postgres_store(url: str, layout: Layout, views: bool = False) -> Store:
    from statemgr.store.postgres import PostgresStore

    return PostgresStore(url, layout, views=views)


def shown_spec(spec: str) -> str:
    """``spec`` as messages show it: a URL without its password."""
    return _redacted(spec)


def _redacted(spec: str) -> str:
    """``spec`` without a password (``scheme://user:secret@host`` -> ``user:***@host``)."""
    scheme, separator, rest = spec.partition("://")
    if not separator:
        return spec
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return spec
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
