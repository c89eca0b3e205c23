"""Writes ``statemgr/store/reader_generated.py`` (and ``reader_listed_generated.py``) from
the one converter.

    python -m statemgr.store.reader_codegen

For each class the reader needs (``MODULES`` and every attrs class inside them), it asks the
converter (``statemgr.serialization``) how it structures that class: the hook of every
field, the key each field is read from (renames), and whether extra keys are refused. It
writes those decisions down as plain Python that calls the same hook functions
(``statemgr.model.values``) and the same attrs classes, so the generated code imports
neither cattrs nor the converter and still runs every attrs check. Anything it cannot write
down (a hook it does not know) stops the generation with the field named.

``tests/store/test_reader.py`` fails when a committed module differs from what this
writes: run the command above after changing a class the state file holds.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from cattrs.converters import BaseConverter

from statemgr.model import values
from statemgr.model.listed import ListedFields
from statemgr.model.snapshot import Snapshot, Transition
from statemgr.model.views_codegen import render_views
from statemgr.serialization import _converter

COMMAND = "python -m statemgr.store.reader_codegen"
# The generated modules and the classes each structures: a whole state file and a line of
# history; the fields `list` reads (apart, so that `status` does not import them).
MODULES: dict[str, tuple[type, ...]] = {
    "statemgr.store.reader_generated": (Snapshot, Transition),
    "statemgr.store.reader_listed_generated": (ListedFields,),
}
VIEWS = "statemgr.model.views_generated"
LINE_LENGTH = 100  # ruff's, in pyproject.toml: the generated module passes ruff as it is
STDLIB = frozenset({"builtins", "datetime", "typing", "uuid", "enum", "collections"})


class GenerationError(Exception):
    """The converter does something the generator cannot write down."""


def _hook_of(kind: Any) -> Callable[..., Any]:
    hook: Callable[..., Any] = _converter.get_structure_hook(kind)
    return hook


def _is_value_hook(hook: object) -> bool:
    name = getattr(hook, "__name__", "")
    return getattr(values, name, None) is hook


def snake(name: str) -> str:
    """``SshCredentials`` -> ``ssh_credentials``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def function_name(kind: type) -> str:
    """The generated function that structures ``kind``: ``structure_ssh_credentials``."""
    return f"structure_{snake(kind.__qualname__)}"


def _statement(line: str, indent: str, wrap: str) -> list[str]:
    """``line`` as it is, or split after ``wrap`` when longer than ruff allows."""
    if len(indent + line) <= LINE_LENGTH:
        return [indent + line]
    head, _, tail = line.partition(wrap)
    return [indent + head + wrap.rstrip(), indent + "    " + tail.strip()]


class _Writer:
    """Collects the imports and the functions of the generated module."""

    def __init__(self, elsewhere: dict[type, str]) -> None:
        self.imports: dict[str, set[str]] = {}
        self.functions: dict[str, list[str]] = {}
        self.pending: list[type] = []
        self.constants: list[str] = []
        self.elsewhere = elsewhere  # classes structured by an earlier generated module
        self.generated: list[type] = []
        self.typing: dict[str, set[str]] = {}  # the attrs classes: named in annotations only

    def name_of(self, kind: type) -> str:
        """A name the generated module can use for the class ``kind`` (imported)."""
        if kind.__module__ != "builtins":
            self.imports.setdefault(kind.__module__, set()).add(kind.__qualname__)
        return kind.__qualname__

    def type_name_of(self, kind: type) -> str:
        """The name of the attrs class ``kind`` in annotations (imported for typing only)."""
        self.typing.setdefault(kind.__module__, set()).add(kind.__qualname__)
        return kind.__qualname__

    def value(self, kind: Any, expression: str, where: str) -> str:
        """Python that structures ``expression`` (a name) as ``kind`` as the converter does."""
        hook = _hook_of(kind)
        if _is_value_hook(hook):
            argument = self.name_of(kind) if isinstance(kind, type) else "None"
            return f"values.{hook.__name__}({expression}, {argument})"
        cls = getattr(hook, "__globals__", {}).get("__cl")
        if isinstance(cls, type) and cls is kind:  # an attrs class: its generated function
            if cls in self.elsewhere:
                self.imports.setdefault(self.elsewhere[cls], set()).add(function_name(cls))
                return f"{function_name(cls)}({expression}, k)"
            if cls not in self.pending and function_name(cls) not in self.functions:
                self.pending.append(cls)
            return f"{function_name(cls)}({expression}, k)"
        method = getattr(hook, "__func__", None)
        arguments = typing.get_args(kind)
        inner = [argument for argument in arguments if argument is not type(None)]
        if method is BaseConverter._structure_optional and len(inner) == 1:
            inside = self.value(inner[0], expression, where)
            return f"None if {expression} is None else {inside}"
        if method is BaseConverter._structure_tuple and arguments[1:] == (Ellipsis,):
            function = self.helper(kind, "tuple", self.tuple_of(arguments[0], where))
            return f"{function}({expression}, k)"
        if getattr(hook, "__name__", "") == "structure_mapping" and len(arguments) == 2:
            function = self.helper(kind, "dict", self.mapping_of(*arguments, where=where))
            return f"{function}({expression}, k)"
        raise GenerationError(f"{where}: no generated form for {kind!r} (hook {hook!r})")

    def tuple_of(self, item: Any, where: str) -> list[str]:
        inside = self.value(item, "item", where)
        return _statement(
            f"return tuple([{inside} for item in values.json_array(value)])", "    ", "(["
        )

    def mapping_of(self, key: Any, item: Any, *, where: str) -> list[str]:
        return [
            "    found = {}",
            "    for key, item in values.json_object(value).items():",
            *_statement(
                f"found[{self.value(key, 'key', where)}] = {self.value(item, 'item', where)}",
                "        ",
                "] = ",
            ),
            "    return found",
        ]

    def helper(self, kind: Any, prefix: str, body: list[str]) -> str:
        """The name of a function for a composite type (a tuple, a dict) that runs ``body``."""
        parts = [part.__qualname__ for part in typing.get_args(kind) if part is not Ellipsis]
        name = "_" + "_".join([prefix, *(snake(part) for part in parts)])
        self.functions.setdefault(name, [f"def {name}(value: Any, k: Any) -> Any:", *body])
        return name

    def write_class(self, kind: type) -> None:
        hook = _hook_of(kind)
        found = getattr(hook, "__globals__", {})
        if found.get("__cl") is not kind:
            raise GenerationError(f"{kind.__qualname__}: not structured by a generated function")
        renames = {
            name: override.rename
            for name, override in getattr(hook, "overrides", {}).items()
            if override.rename is not None
        }
        fields = attrs.fields(attrs.resolve_types(kind))
        keys = [renames.get(field.name, field.name) for field in fields]
        name = self.type_name_of(kind)
        lines = [f"def {function_name(kind)}(o: Any, k: Any) -> {name}:"]
        if "__c_a" in found:  # the converter refuses extra keys for this class
            constant = f"_{snake(name).upper()}_KEYS"
            self.constants.append(_constant(constant, keys))
            lines += [
                f"    if not values.json_object(o).keys() <= {constant}:",
                f'        raise ValueError("extra keys in {name}")',
            ]
        else:
            lines.append("    values.json_object(o)")
        lines.append("    given: dict[str, Any] = {}")
        for field, key in zip(fields, keys, strict=True):
            expression = self.value(field.type, "value", f"{name}.{field.name}")
            indent = "    "
            if field.default is not attrs.NOTHING:  # absent: the attrs default
                lines.append(f'    if "{key}" in o:')
                indent = "        "
            lines.append(f'{indent}value = o["{key}"]')
            lines += _statement(f'given["{field.alias}"] = {expression}', indent, " = ")
        lines.append(f"    made: {name} = k.{name}(**given)")
        lines.append("    return made")
        self.functions[function_name(kind)] = lines
        self.generated.append(kind)

    def run(self, roots: tuple[type, ...], constants: tuple[str, ...] = ()) -> str:
        self.constants += list(constants)
        self.pending = list(roots)
        while self.pending:
            kind = self.pending.pop(0)
            if function_name(kind) not in self.functions:
                self.write_class(kind)
        return self.render()

    def render(self) -> str:
        lines = [
            f'"""Generated from statemgr.serialization\'s converter by `{COMMAND}`.',
            "",
            "Do not edit: statemgr/store/reader_codegen.py says how it is made, and",
            "statemgr/store/reader.py how it is used. Each function builds the classes of the",
            "namespace ``k``: the attrs classes, or their views (statemgr.model.views_generated).",
            '"""',
            "",
            "from __future__ import annotations",
            "",
        ]
        stdlib = {m: n for m, n in self.imports.items() if m.split(".")[0] in STDLIB}
        stdlib.setdefault("typing", set()).add("Any")
        ours = {m: n for m, n in self.imports.items() if m not in stdlib}
        ours.setdefault("statemgr.model", set()).add("values")
        stdlib.setdefault("typing", set()).add("TYPE_CHECKING")
        for group in (stdlib, ours):
            for module in sorted(group):
                lines += _import(module, sorted(group[module]))
            lines.append("")
        lines.append("if TYPE_CHECKING:")
        for module in sorted(self.typing):
            lines += ["    " + line for line in _import(module, sorted(self.typing[module]))]
        lines.append("")
        lines += self.constants
        for function in self.functions.values():
            lines += ["", "", *function]
        return "\n".join(lines) + "\n"


def _import(module: str, names: list[str]) -> list[str]:
    names = sorted(names, key=lambda name: (not name.isupper(), not name[0].isupper(), name))
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import (", *(f"    {name}," for name in names), ")"]


def _constant(name: str, keys: list[str]) -> str:
    line = f"{name} = frozenset({{{', '.join(repr(key) for key in keys)}}})".replace("'", '"')
    if len(line) <= LINE_LENGTH:
        return line
    inside = [f'        "{key}",' for key in keys]
    return "\n".join([f"{name} = frozenset(", "    {", *inside, "    }", ")"])


def _listed_constants() -> list[str]:
    """What ``list`` checks a document's top-level keys against, and the keys it reads."""
    snapshot = attrs.fields(Snapshot)
    listed = [field.name for field in attrs.fields(ListedFields)]
    return [
        _constant("SNAPSHOT_KEYS", [field.name for field in snapshot]),
        _constant(
            "REQUIRED_KEYS", [field.name for field in snapshot if field.default is attrs.NOTHING]
        ),
        f"LISTED_KEYS = {_tuple_source(listed)}",
    ]


def _tuple_source(names: list[str]) -> str:
    return "(" + ", ".join(f'"{name}"' for name in names) + ("," if len(names) == 1 else "") + ")"


CONSTANTS: dict[str, tuple[str, ...]] = {
    "statemgr.store.reader_listed_generated": tuple(_listed_constants()),
}


def path_of(module: str) -> Path:
    package, leaf = module.rsplit(".", 1)
    return Path(__file__).parent.parent.parent.joinpath(*package.split("."), f"{leaf}.py")


def render_generated() -> dict[str, str]:
    """The source of each generated module, for the converter as it is now, and the views
    of every class they structure."""
    sources: dict[str, str] = {}
    elsewhere: dict[type, str] = {}
    for module, roots in MODULES.items():
        writer = _Writer(dict(elsewhere))
        sources[module] = writer.run(roots, CONSTANTS.get(module, ()))
        elsewhere.update({kind: module for kind in writer.generated})
    sources[VIEWS] = render_views(list(elsewhere), COMMAND)
    return sources


def write() -> list[Path]:
    written = []
    for module, source in render_generated().items():
        path_of(module).write_text(source)
        written.append(path_of(module))
    return written


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}")
