"""Generated from statemgr.serialization's converter by `python -m statemgr.store.reader_codegen`.

Do not edit: statemgr/store/reader_codegen.py says how it is made, and
statemgr/store/reader.py how it is used. Each function builds the classes of the
namespace ``k``: the attrs classes, or their views (statemgr.model.views_generated).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from machines.names import StateName
from statemgr.model import values
from statemgr.model.names import EnvironmentName
from statemgr.store.reader_generated import structure_operation

if TYPE_CHECKING:
    from statemgr.model.listed import ListedFields, NamePart, StatePart

SNAPSHOT_KEYS = frozenset(
    {
        "lineage",
        "revision",
        "environment",
        "state",
        "created_at",
        "updated_at",
        "latest",
        "operation",
        "destroy_failure",
        "outputs",
        "schema_version",
    }
)
REQUIRED_KEYS = frozenset(
    {
        "lineage",
        "revision",
        "environment",
        "state",
        "created_at",
        "updated_at",
        "latest",
    }
)
LISTED_KEYS = ("lineage", "revision", "environment", "state", "updated_at", "operation")
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


def structure_listed_fields(o: Any, k: Any) -> ListedFields:
    if not values.json_object(o).keys() <= _LISTED_FIELDS_KEYS:
        raise ValueError("extra keys in ListedFields")
    given: dict[str, Any] = {}
    value = o["lineage"]
    given["lineage"] = values.uuid_from_text(value, UUID)
    value = o["revision"]
    given["revision"] = values.strict_int(value, int)
    value = o["environment"]
    given["environment"] = structure_name_part(value, k)
    value = o["state"]
    given["state"] = structure_state_part(value, k)
    value = o["updated_at"]
    given["updated_at"] = values.aware_datetime(value, datetime)
    value = o["operation"]
    given["operation"] = None if value is None else structure_operation(value, k)
    made: ListedFields = k.ListedFields(**given)
    return made


def structure_name_part(o: Any, k: Any) -> NamePart:
    values.json_object(o)
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.environment_name(value, EnvironmentName)
    made: NamePart = k.NamePart(**given)
    return made


def structure_state_part(o: Any, k: Any) -> StatePart:
    values.json_object(o)
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.enum_member(value, StateName)
    made: StatePart = k.StatePart(**given)
    return made
