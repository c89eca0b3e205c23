"""Generated from statemgr.serialization's converter by `python -m statemgr.store.reader_codegen`.

Do not edit: statemgr/store/reader_codegen.py says how it is made, and
statemgr/store/reader.py how it is used. Each function builds the classes of the
namespace ``k``: the attrs classes, or their views (statemgr.model.views_generated).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from machines.names import Phase, StateName
from statemgr.model import values
from statemgr.model.behaviour import ErrorKind
from statemgr.model.names import EnvironmentName

if TYPE_CHECKING:
    from statemgr.model.environment import Environment, Phases, SshCredentials, Step
    from statemgr.model.snapshot import Failure, Operation, Snapshot, State, Transition

_SNAPSHOT_KEYS = frozenset(
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
_TRANSITION_KEYS = frozenset(
    {
        "at",
        "from",
        "to",
        "event",
        "command",
        "pid",
        "host",
        "failed_step",
        "vars",
        "revision",
    }
)
_ENVIRONMENT_KEYS = frozenset(
    {
        "name",
        "data_dir",
        "build_dir",
        "phases",
        "ssh",
        "config_file",
        "config_hash",
    }
)
_STATE_KEYS = frozenset({"name", "failure", "since"})
_OPERATION_KEYS = frozenset(
    {
        "command",
        "phase",
        "pid",
        "host",
        "started_at",
        "step",
        "trace_file",
        "completed_steps",
    }
)
_FAILURE_KEYS = frozenset(
    {
        "phase",
        "failed_step",
        "error_kind",
        "message",
        "started_at",
        "failed_at",
        "exit_code",
        "trace_file",
        "completed_steps",
    }
)
_PHASES_KEYS = frozenset({"provision", "configure", "release", "run", "destroy", "check"})
_SSH_CREDENTIALS_KEYS = frozenset({"private_key", "public_key", "username", "port"})
_STEP_KEYS = frozenset({"name", "run", "call", "cwd", "timeout", "env", "retries", "retry_delay"})


def _dict_str_str(value: Any, k: Any) -> Any:
    found = {}
    for key, item in values.json_object(value).items():
        found[values.strict_str(key, str)] = values.strict_str(item, str)
    return found


def structure_snapshot(o: Any, k: Any) -> Snapshot:
    if not values.json_object(o).keys() <= _SNAPSHOT_KEYS:
        raise ValueError("extra keys in Snapshot")
    given: dict[str, Any] = {}
    value = o["lineage"]
    given["lineage"] = values.uuid_from_text(value, UUID)
    value = o["revision"]
    given["revision"] = values.strict_int(value, int)
    value = o["environment"]
    given["environment"] = structure_environment(value, k)
    value = o["state"]
    given["state"] = structure_state(value, k)
    value = o["created_at"]
    given["created_at"] = values.aware_datetime(value, datetime)
    value = o["updated_at"]
    given["updated_at"] = values.aware_datetime(value, datetime)
    value = o["latest"]
    given["latest"] = structure_transition(value, k)
    if "operation" in o:
        value = o["operation"]
        given["operation"] = None if value is None else structure_operation(value, k)
    if "destroy_failure" in o:
        value = o["destroy_failure"]
        given["destroy_failure"] = None if value is None else structure_failure(value, k)
    if "outputs" in o:
        value = o["outputs"]
        given["outputs"] = _dict_str_str(value, k)
    if "schema_version" in o:
        value = o["schema_version"]
        given["schema_version"] = values.strict_int(value, int)
    made: Snapshot = k.Snapshot(**given)
    return made


def structure_transition(o: Any, k: Any) -> Transition:
    if not values.json_object(o).keys() <= _TRANSITION_KEYS:
        raise ValueError("extra keys in Transition")
    given: dict[str, Any] = {}
    value = o["at"]
    given["at"] = values.aware_datetime(value, datetime)
    value = o["from"]
    given["from_state"] = None if value is None else values.enum_member(value, StateName)
    value = o["to"]
    given["to"] = values.enum_member(value, StateName)
    value = o["event"]
    given["event"] = values.strict_str(value, str)
    value = o["command"]
    given["command"] = values.strict_str(value, str)
    value = o["pid"]
    given["pid"] = values.strict_int(value, int)
    value = o["host"]
    given["host"] = values.strict_str(value, str)
    if "failed_step" in o:
        value = o["failed_step"]
        given["failed_step"] = None if value is None else values.strict_str(value, str)
    if "vars" in o:
        value = o["vars"]
        given["vars"] = _dict_str_str(value, k)
    if "revision" in o:
        value = o["revision"]
        given["revision"] = None if value is None else values.strict_int(value, int)
    made: Transition = k.Transition(**given)
    return made


def structure_environment(o: Any, k: Any) -> Environment:
    if not values.json_object(o).keys() <= _ENVIRONMENT_KEYS:
        raise ValueError("extra keys in Environment")
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.environment_name(value, EnvironmentName)
    value = o["data_dir"]
    given["data_dir"] = values.strict_str(value, str)
    value = o["build_dir"]
    given["build_dir"] = values.strict_str(value, str)
    if "phases" in o:
        value = o["phases"]
        given["phases"] = structure_phases(value, k)
    if "ssh" in o:
        value = o["ssh"]
        given["ssh"] = None if value is None else structure_ssh_credentials(value, k)
    if "config_file" in o:
        value = o["config_file"]
        given["config_file"] = None if value is None else values.strict_str(value, str)
    if "config_hash" in o:
        value = o["config_hash"]
        given["config_hash"] = None if value is None else values.strict_str(value, str)
    made: Environment = k.Environment(**given)
    return made


def structure_state(o: Any, k: Any) -> State:
    if not values.json_object(o).keys() <= _STATE_KEYS:
        raise ValueError("extra keys in State")
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.enum_member(value, StateName)
    if "failure" in o:
        value = o["failure"]
        given["failure"] = None if value is None else structure_failure(value, k)
    if "since" in o:
        value = o["since"]
        given["since"] = None if value is None else values.aware_datetime(value, datetime)
    made: State = k.State(**given)
    return made


def _tuple_str(value: Any, k: Any) -> Any:
    return tuple([values.strict_str(item, str) for item in values.json_array(value)])


def structure_operation(o: Any, k: Any) -> Operation:
    if not values.json_object(o).keys() <= _OPERATION_KEYS:
        raise ValueError("extra keys in Operation")
    given: dict[str, Any] = {}
    value = o["command"]
    given["command"] = values.strict_str(value, str)
    value = o["phase"]
    given["phase"] = values.enum_member(value, Phase)
    value = o["pid"]
    given["pid"] = values.strict_int(value, int)
    value = o["host"]
    given["host"] = values.strict_str(value, str)
    value = o["started_at"]
    given["started_at"] = values.aware_datetime(value, datetime)
    if "step" in o:
        value = o["step"]
        given["step"] = None if value is None else values.strict_str(value, str)
    if "trace_file" in o:
        value = o["trace_file"]
        given["trace_file"] = None if value is None else values.strict_str(value, str)
    if "completed_steps" in o:
        value = o["completed_steps"]
        given["completed_steps"] = _tuple_str(value, k)
    made: Operation = k.Operation(**given)
    return made


def structure_failure(o: Any, k: Any) -> Failure:
    if not values.json_object(o).keys() <= _FAILURE_KEYS:
        raise ValueError("extra keys in Failure")
    given: dict[str, Any] = {}
    value = o["phase"]
    given["phase"] = values.enum_member(value, Phase)
    value = o["failed_step"]
    given["failed_step"] = values.strict_str(value, str)
    value = o["error_kind"]
    given["error_kind"] = values.enum_member(value, ErrorKind)
    value = o["message"]
    given["message"] = values.strict_str(value, str)
    value = o["started_at"]
    given["started_at"] = values.aware_datetime(value, datetime)
    value = o["failed_at"]
    given["failed_at"] = values.aware_datetime(value, datetime)
    if "exit_code" in o:
        value = o["exit_code"]
        given["exit_code"] = None if value is None else values.strict_int(value, int)
    if "trace_file" in o:
        value = o["trace_file"]
        given["trace_file"] = None if value is None else values.strict_str(value, str)
    if "completed_steps" in o:
        value = o["completed_steps"]
        given["completed_steps"] = _tuple_str(value, k)
    made: Failure = k.Failure(**given)
    return made


def _tuple_step(value: Any, k: Any) -> Any:
    return tuple([structure_step(item, k) for item in values.json_array(value)])


def structure_phases(o: Any, k: Any) -> Phases:
    if not values.json_object(o).keys() <= _PHASES_KEYS:
        raise ValueError("extra keys in Phases")
    given: dict[str, Any] = {}
    if "provision" in o:
        value = o["provision"]
        given["provision"] = _tuple_step(value, k)
    if "configure" in o:
        value = o["configure"]
        given["configure"] = _tuple_step(value, k)
    if "release" in o:
        value = o["release"]
        given["release"] = _tuple_step(value, k)
    if "run" in o:
        value = o["run"]
        given["run"] = _tuple_step(value, k)
    if "destroy" in o:
        value = o["destroy"]
        given["destroy"] = _tuple_step(value, k)
    if "check" in o:
        value = o["check"]
        given["check"] = _tuple_step(value, k)
    made: Phases = k.Phases(**given)
    return made


def structure_ssh_credentials(o: Any, k: Any) -> SshCredentials:
    if not values.json_object(o).keys() <= _SSH_CREDENTIALS_KEYS:
        raise ValueError("extra keys in SshCredentials")
    given: dict[str, Any] = {}
    value = o["private_key"]
    given["private_key"] = values.strict_str(value, str)
    value = o["public_key"]
    given["public_key"] = values.strict_str(value, str)
    if "username" in o:
        value = o["username"]
        given["username"] = values.strict_str(value, str)
    if "port" in o:
        value = o["port"]
        given["port"] = values.strict_int(value, int)
    made: SshCredentials = k.SshCredentials(**given)
    return made


def structure_step(o: Any, k: Any) -> Step:
    if not values.json_object(o).keys() <= _STEP_KEYS:
        raise ValueError("extra keys in Step")
    given: dict[str, Any] = {}
    value = o["name"]
    given["name"] = values.strict_str(value, str)
    if "run" in o:
        value = o["run"]
        given["run"] = values.step_run(value, None)
    if "call" in o:
        value = o["call"]
        given["call"] = None if value is None else values.strict_str(value, str)
    if "cwd" in o:
        value = o["cwd"]
        given["cwd"] = None if value is None else values.strict_str(value, str)
    if "timeout" in o:
        value = o["timeout"]
        given["timeout"] = values.strict_float(value, float)
    if "env" in o:
        value = o["env"]
        given["env"] = _dict_str_str(value, k)
    if "retries" in o:
        value = o["retries"]
        given["retries"] = values.strict_int(value, int)
    if "retry_delay" in o:
        value = o["retry_delay"]
        given["retry_delay"] = values.strict_float(value, float)
    made: Step = k.Step(**given)
    return made
