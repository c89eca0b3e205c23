"""Writes ``statemgr/model/views_generated.py``: the read-only views of the model's classes.

Run through ``python -m statemgr.store.reader_codegen``, which writes it with the reader.

For each attrs class the reader structures, a plain class with the same name, the same
fields in the same order and the same defaults: ``__slots__``, an ``__init__`` that runs
the class's checks (``__attrs_post_init__`` from ``statemgr.model.behaviour``), equality,
hashing and a repr as attrs makes them, and no way to change a field. Its methods are the
attrs class's own bases from ``statemgr.model.behaviour``. So the reading commands get the
same values and the same checks without importing attrs (see that module).

A default made by a factory (``dict``, ``current_user``) or an instance of another class
(``Phases()``) is written as ``None`` in the signature and made in the body: the reader
never passes None for such a field (its value checks refuse it).
"""

from __future__ import annotations

from typing import Any

import attrs

from statemgr.model import behaviour

LINE_LENGTH = 100  # ruff's, in pyproject.toml
LITERALS = (type(None), bool, int, float, str, tuple)
FACTORIES = {dict: "{}", list: "[]", tuple: "()"}

HEADER = '''"""Generated from the model's attrs classes by `{command}`.

Do not edit: statemgr/model/views_codegen.py says how it is made, and
statemgr/model/behaviour.py why."""

from typing import Any

from statemgr.model import behaviour

_set = object.__setattr__
'''


def _default(field: Any, views: set[str]) -> tuple[str, str | None]:
    """The default in the signature, and the expression that makes it when None is given
    (None: the signature's default is the value itself)."""
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        factory: Any = default.factory
        if default.takes_self:
            raise ValueError(f"{field.name}: a factory that takes self is not supported")
        if factory in FACTORIES:
            return "None", FACTORIES[factory]
        named = str(getattr(factory, "__name__", ""))
        if getattr(behaviour, named, None) is factory:
            return "None", f"behaviour.{named}()"
        raise ValueError(f"{field.name}: factory {factory!r} is not in statemgr.model.behaviour")
    if attrs.has(type(default)):
        name = type(default).__qualname__
        if name not in views or attrs.asdict(default, recurse=False) != attrs.asdict(
            type(default)(), recurse=False
        ):
            raise ValueError(f"{field.name}: default {default!r} is not a default view")
        return "None", f"{name}()"
    if isinstance(default, LITERALS):
        return repr(default), None
    raise ValueError(f"{field.name}: no generated form for the default {default!r}")


def _class_source(kind: type, views: set[str]) -> list[str]:
    name = kind.__qualname__
    fields = attrs.fields(kind)
    mixins = [base.__name__ for base in kind.__bases__ if base.__module__ == behaviour.__name__]
    bases = ", ".join(f"behaviour.{base}" for base in ["View", *mixins])
    order = [field.name for field in fields]
    hashed = [field.name for field in fields if field.hash is not False]
    made: list[tuple[str, str]] = []
    parameters = ["self"]
    for field in fields:
        if field.default is attrs.NOTHING:
            parameters.append(f"{field.alias}: Any")
            continue
        default, maker = _default(field, views)
        parameters.append(f"{field.alias}: Any = {default}")
        if maker is not None:
            made.append((field.alias, maker))
    lines = [
        f"class {name}({bases}):",
        f'    """A read-only ``{kind.__module__}.{name}``."""',
        "",
        *_tuple("__slots__", sorted(order)),
        *_tuple("_names", order),
        *_tuple("_hashed", hashed),
        "",
        "    def __init__(",
        *(f"        {parameter}," for parameter in parameters),
        "    ) -> None:",
    ]
    for alias, maker in made:
        lines.append(f"        if {alias} is None:")
        lines.append(f"            {alias} = {maker}")
    lines += [f'        _set(self, "{field.name}", {field.alias})' for field in fields]
    if getattr(kind, "__attrs_post_init__", None) is not None:
        lines.append("        self.__attrs_post_init__()")
    return lines


def _tuple(target: str, names: list[str]) -> list[str]:
    """``target = (...)``, a tuple of strings, as ruff formats it."""
    quoted = [f'"{name}"' for name in names]
    line = f"    {target} = ({quoted[0]},)" if len(quoted) == 1 else ""
    line = line or f"    {target} = ({', '.join(quoted)})"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"    {target} = (", *(f"        {item}," for item in quoted), "    )"]


def _ordered(kinds: list[type]) -> list[type]:
    """``kinds`` with each class after the classes its defaults make (``Phases()``)."""
    done: list[type] = []

    def visit(kind: type) -> None:
        if kind in done:
            return
        for field in attrs.fields(kind):
            if attrs.has(type(field.default)) and type(field.default) in kinds:
                visit(type(field.default))
        done.append(kind)

    for kind in kinds:
        visit(kind)
    return done


def render_views(kinds: list[type], command: str) -> str:
    """The source of ``views_generated.py`` for the attrs classes ``kinds``."""
    names = {kind.__qualname__ for kind in kinds}
    lines = [HEADER.format(command=command).rstrip("\n")]
    for kind in _ordered(kinds):
        lines += ["", "", *_class_source(kind, names)]
    return "\n".join(lines) + "\n"
