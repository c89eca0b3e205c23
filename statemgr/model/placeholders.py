"""Placeholders in a step's run, cwd and env: a string parsed once into literals and names.

    {name} {workdir} {build_dir} {data_dir} {ssh_username} {ssh_private_key}
    {ssh_public_key} {ssh_port}      the environment's values
    {var.KEY}                        a command's --var KEY=VALUE
    {outputs.KEY}                    an output an earlier step wrote
    {{ and }}                        a literal brace

Only ``{...}`` with a placeholder-shaped name inside is a placeholder; any other brace
(``${HOME}``, ``{ cmd; }``, awk's ``{print $1}``) is text. The config refuses an unknown
name; the runners render the rest: argv elements, ``cwd`` and ``env`` values get the value
as text, and a shell string (``sh -c``) gets a reference to the placeholder's
``STATEMGR_*`` variable, whose value is in the step's environment: a value is never parsed
as shell code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

# The environment's placeholders (contract: "Environment config"), each with the variable
# of the step's environment that holds its value.
BUILTIN_VARIABLES: dict[str, str] = {
    "name": "STATEMGR_ENV",
    "workdir": "STATEMGR_WORKDIR",
    "build_dir": "STATEMGR_BUILD_DIR",
    "data_dir": "STATEMGR_DATA_DIR",
    "ssh_username": "STATEMGR_SSH_USERNAME",
    "ssh_private_key": "STATEMGR_SSH_PRIVATE_KEY",
    "ssh_public_key": "STATEMGR_SSH_PUBLIC_KEY",
    "ssh_port": "STATEMGR_SSH_PORT",
}
KEY_RULE = "[A-Za-z_][A-Za-z0-9_]*"
KEY_PATTERN = re.compile(rf"^{KEY_RULE}$")
# A var's and an output's variable: STATEMGR_VAR_KEY, STATEMGR_OUTPUT_KEY.
SCOPES: dict[str, str] = {"var": "STATEMGR_VAR_", "outputs": "STATEMGR_OUTPUT_"}
_TOKEN = re.compile(r"\{\{|\}\}|\{([a-z_]+|(?:var|outputs)\.[A-Za-z0-9_]*)\}")


@attrs.frozen
class Placeholder:
    """One ``{...}``: ``scope`` is "" for the environment's own, "var" or "outputs"."""

    scope: str
    key: str

    @classmethod
    def named(cls, name: str) -> Placeholder:
        """The placeholder ``name`` (``build_dir``, ``var.KEY``, ``outputs.KEY``) stands for."""
        scope, _, key = name.rpartition(".")
        return cls(scope, key)

    @property
    def name(self) -> str:
        return f"{self.scope}.{self.key}" if self.scope else self.key

    @property
    def text(self) -> str:
        return "{" + self.name + "}"

    @property
    def known(self) -> bool:
        if self.scope:
            return KEY_PATTERN.fullmatch(self.key) is not None
        return self.key in BUILTIN_VARIABLES

    @property
    def variable(self) -> str:
        """The name of the step's environment variable that holds the value."""
        if self.scope:
            return SCOPES[self.scope] + self.key
        return BUILTIN_VARIABLES[self.key]


Part = str | Placeholder


@attrs.frozen
class Template:
    """A string as literals and placeholders, in order."""

    parts: tuple[Part, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        parts: list[Part] = []
        literal: list[str] = []
        position = 0
        for match in _TOKEN.finditer(text):
            literal.append(text[position : match.start()])
            position = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                literal.append(token[0])
                continue
            parts.extend(_flush(literal))
            parts.append(Placeholder.named(match.group(1)))
        literal.append(text[position:])
        parts.extend(_flush(literal))
        return cls(tuple(parts))

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(part for part in self.parts if isinstance(part, Placeholder))

    def render(self, values: Mapping[str, str]) -> str:
        """The text with each placeholder's value (``values`` keyed by placeholder name)."""
        return "".join(part if isinstance(part, str) else values[part.name] for part in self.parts)

    def render_shell(self) -> str:
        """A shell script in which each placeholder is a reference to its variable.

        Outside quotes and inside double quotes the reference is ``${VAR}``; inside single
        quotes it closes them, inserts ``"${VAR}"`` and opens them again. The shell expands a
        variable once and never runs what is in its value.
        """
        out: list[str] = []
        quoting = _Quoting()
        for part in self.parts:
            if isinstance(part, str):
                quoting.feed(part)
                out.append(part)
            elif quoting.state == "'":
                out.append(f"'\"${{{part.variable}}}\"'")
            else:
                out.append(f"${{{part.variable}}}")
        return "".join(out)


def _flush(literal: list[str]) -> list[Part]:
    text = "".join(literal)
    literal.clear()
    return [text] if text else []


class _Quoting:
    """Tracks whether the shell text read so far ends outside quotes, in '...' or in "..."."""

    def __init__(self) -> None:
        self.state = ""
        self._escaped = False

    def feed(self, text: str) -> None:
        for char in text:
            if self._escaped:
                self._escaped = False
            elif self.state == "'":
                self.state = "" if char == "'" else "'"
            elif char == "\\":
                self._escaped = True
            elif char == self.state:  # the closing double quote
                self.state = ""
            elif not self.state and char in "'\"":
                self.state = char


def placeholders_of(texts: Iterable[str]) -> tuple[Placeholder, ...]:
    """Every placeholder in ``texts``, in order."""
    return tuple(found for text in texts for found in Template.parse(text).placeholders)
