"""Generated from statemgr.serialization's converter by `python -m statemgr.store.reader_codegen`.

Do not edit: statemgr/store/reader_codegen.py says how it is made, and
statemgr/store/reader.py how it is used."""

from datetime import datetime
from typing import Any
from uuid import UUID

from machines.names import StateName
from statemgr.model import values
from statemgr.model.listed import ListedFields, NamePart, StatePart
from statemgr.model.names import EnvironmentName
from statemgr.store.reader_generated import structure_operation

_LISTED_FIELDS_KEYS = frozenset(
    {
        "lineage",
        "revision",
        "environment",
        "state",
        "updated_at",
        "operation",
    }
)


def structure_listed_fields(o: Any) -> ListedFields:
    if not values.json_object(o).keys() <= _LISTED_FIELDS_KEYS:
        raise ValueError("extra keys in ListedFields")
    given: dict[str, Any] = {}
    value = o["lineage"]
    given["lineage"] = values.uuid_from_text(value, UUID)
    value = o["revision"]
    given["revision"] = values.strict_int(value, int)
    value = o["environment"]
    given["environment"] = structure_name_part(value)
    value = o["state"]
    given["state"] = structure_state_part(value)
    value = o["updated_at"]
    given["updated_at"] = values.aware_datetime(value, datetime)
    value = o["operation"]
    given["operation"] = None if value is None else structure_operation(value)
    return ListedFields(**given)


def structure_name_part(o: Any) -> NamePart:
    values.json_object(o)
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.environment_name(value, EnvironmentName)
    return NamePart(**given)


def structure_state_part(o: Any) -> StatePart:
    values.json_object(o)
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.enum_member(value, StateName)
    return StatePart(**given)
