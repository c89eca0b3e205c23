"""Generated from the model's attrs classes by `python -m statemgr.store.reader_codegen`.

Do not edit: statemgr/model/views_codegen.py says how it is made, and
statemgr/model/behaviour.py why."""

from typing import Any

from statemgr.model import behaviour

_set = object.__setattr__


class Snapshot(behaviour.View, behaviour.SnapshotMethods):
    """A read-only ``statemgr.model.snapshot.Snapshot``."""

    __slots__ = (
        "created_at",
        "destroy_failure",
        "environment",
        "latest",
        "lineage",
        "operation",
        "outputs",
        "revision",
        "schema_version",
        "state",
        "updated_at",
    )
    _names = (
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
    )
    _hashed = (
        "lineage",
        "revision",
        "environment",
        "state",
        "created_at",
        "updated_at",
        "latest",
        "operation",
        "destroy_failure",
        "schema_version",
    )

    def __init__(
        self,
        lineage: Any,
        revision: Any,
        environment: Any,
        state: Any,
        created_at: Any,
        updated_at: Any,
        latest: Any,
        operation: Any = None,
        destroy_failure: Any = None,
        outputs: Any = None,
        schema_version: Any = 6,
    ) -> None:
        if outputs is None:
            outputs = {}
        _set(self, "lineage", lineage)
        _set(self, "revision", revision)
        _set(self, "environment", environment)
        _set(self, "state", state)
        _set(self, "created_at", created_at)
        _set(self, "updated_at", updated_at)
        _set(self, "latest", latest)
        _set(self, "operation", operation)
        _set(self, "destroy_failure", destroy_failure)
        _set(self, "outputs", outputs)
        _set(self, "schema_version", schema_version)


class Transition(behaviour.View):
    """A read-only ``statemgr.model.snapshot.Transition``."""

    __slots__ = (
        "at",
        "command",
        "event",
        "failed_step",
        "from_state",
        "host",
        "pid",
        "revision",
        "to",
        "vars",
    )
    _names = (
        "at",
        "from_state",
        "to",
        "event",
        "command",
        "pid",
        "host",
        "failed_step",
        "vars",
        "revision",
    )
    _hashed = (
        "at",
        "from_state",
        "to",
        "event",
        "command",
        "pid",
        "host",
        "failed_step",
        "revision",
    )

    def __init__(
        self,
        at: Any,
        from_state: Any,
        to: Any,
        event: Any,
        command: Any,
        pid: Any,
        host: Any,
        failed_step: Any = None,
        vars: Any = None,
        revision: Any = None,
    ) -> None:
        if vars is None:
            vars = {}
        _set(self, "at", at)
        _set(self, "from_state", from_state)
        _set(self, "to", to)
        _set(self, "event", event)
        _set(self, "command", command)
        _set(self, "pid", pid)
        _set(self, "host", host)
        _set(self, "failed_step", failed_step)
        _set(self, "vars", vars)
        _set(self, "revision", revision)


class Phases(behaviour.View, behaviour.PhasesMethods):
    """A read-only ``statemgr.model.environment.Phases``."""

    __slots__ = ("check", "configure", "destroy", "provision", "release", "run")
    _names = ("provision", "configure", "release", "run", "destroy", "check")
    _hashed = ("provision", "configure", "release", "run", "destroy", "check")

    def __init__(
        self,
        provision: Any = (),
        configure: Any = (),
        release: Any = (),
        run: Any = (),
        destroy: Any = (),
        check: Any = (),
    ) -> None:
        _set(self, "provision", provision)
        _set(self, "configure", configure)
        _set(self, "release", release)
        _set(self, "run", run)
        _set(self, "destroy", destroy)
        _set(self, "check", check)


class Environment(behaviour.View):
    """A read-only ``statemgr.model.environment.Environment``."""

    __slots__ = ("build_dir", "config_file", "config_hash", "data_dir", "name", "phases", "ssh")
    _names = ("name", "data_dir", "build_dir", "phases", "ssh", "config_file", "config_hash")
    _hashed = ("name", "data_dir", "build_dir", "phases", "ssh", "config_file", "config_hash")

    def __init__(
        self,
        name: Any,
        data_dir: Any,
        build_dir: Any,
        phases: Any = None,
        ssh: Any = None,
        config_file: Any = None,
        config_hash: Any = None,
    ) -> None:
        if phases is None:
            phases = Phases()
        _set(self, "name", name)
        _set(self, "data_dir", data_dir)
        _set(self, "build_dir", build_dir)
        _set(self, "phases", phases)
        _set(self, "ssh", ssh)
        _set(self, "config_file", config_file)
        _set(self, "config_hash", config_hash)


class State(behaviour.View, behaviour.StateMethods):
    """A read-only ``statemgr.model.snapshot.State``."""

    __slots__ = ("failure", "name", "since")
    _names = ("name", "failure", "since")
    _hashed = ("name", "failure", "since")

    def __init__(
        self,
        name: Any,
        failure: Any = None,
        since: Any = None,
    ) -> None:
        _set(self, "name", name)
        _set(self, "failure", failure)
        _set(self, "since", since)
        self.__attrs_post_init__()


class Operation(behaviour.View):
    """A read-only ``statemgr.model.snapshot.Operation``."""

    __slots__ = (
        "command",
        "completed_steps",
        "host",
        "phase",
        "pid",
        "started_at",
        "step",
        "trace_file",
    )
    _names = (
        "command",
        "phase",
        "pid",
        "host",
        "started_at",
        "step",
        "trace_file",
        "completed_steps",
    )
    _hashed = (
        "command",
        "phase",
        "pid",
        "host",
        "started_at",
        "step",
        "trace_file",
        "completed_steps",
    )

    def __init__(
        self,
        command: Any,
        phase: Any,
        pid: Any,
        host: Any,
        started_at: Any,
        step: Any = None,
        trace_file: Any = None,
        completed_steps: Any = (),
    ) -> None:
        _set(self, "command", command)
        _set(self, "phase", phase)
        _set(self, "pid", pid)
        _set(self, "host", host)
        _set(self, "started_at", started_at)
        _set(self, "step", step)
        _set(self, "trace_file", trace_file)
        _set(self, "completed_steps", completed_steps)


class Failure(behaviour.View):
    """A read-only ``statemgr.model.snapshot.Failure``."""

    __slots__ = (
        "completed_steps",
        "error_kind",
        "exit_code",
        "failed_at",
        "failed_step",
        "message",
        "phase",
        "started_at",
        "trace_file",
    )
    _names = (
        "phase",
        "failed_step",
        "error_kind",
        "message",
        "started_at",
        "failed_at",
        "exit_code",
        "trace_file",
        "completed_steps",
    )
    _hashed = (
        "phase",
        "failed_step",
        "error_kind",
        "message",
        "started_at",
        "failed_at",
        "exit_code",
        "trace_file",
        "completed_steps",
    )

    def __init__(
        self,
        phase: Any,
        failed_step: Any,
        error_kind: Any,
        message: Any,
        started_at: Any,
        failed_at: Any,
        exit_code: Any = None,
        trace_file: Any = None,
        completed_steps: Any = (),
    ) -> None:
        _set(self, "phase", phase)
        _set(self, "failed_step", failed_step)
        _set(self, "error_kind", error_kind)
        _set(self, "message", message)
        _set(self, "started_at", started_at)
        _set(self, "failed_at", failed_at)
        _set(self, "exit_code", exit_code)
        _set(self, "trace_file", trace_file)
        _set(self, "completed_steps", completed_steps)


class SshCredentials(behaviour.View):
    """A read-only ``statemgr.model.environment.SshCredentials``."""

    __slots__ = ("port", "private_key", "public_key", "username")
    _names = ("private_key", "public_key", "username", "port")
    _hashed = ("private_key", "public_key", "username", "port")

    def __init__(
        self,
        private_key: Any,
        public_key: Any,
        username: Any = None,
        port: Any = 22,
    ) -> None:
        if username is None:
            username = behaviour.current_user()
        _set(self, "private_key", private_key)
        _set(self, "public_key", public_key)
        _set(self, "username", username)
        _set(self, "port", port)


class Step(behaviour.View, behaviour.StepMethods):
    """A read-only ``statemgr.model.environment.Step``."""

    __slots__ = ("call", "cwd", "env", "name", "retries", "retry_delay", "run", "timeout")
    _names = ("name", "run", "call", "cwd", "timeout", "env", "retries", "retry_delay")
    _hashed = ("name", "run", "call", "cwd", "timeout", "retries", "retry_delay")

    def __init__(
        self,
        name: Any,
        run: Any = None,
        call: Any = None,
        cwd: Any = None,
        timeout: Any = 3600.0,
        env: Any = None,
        retries: Any = 0,
        retry_delay: Any = 5.0,
    ) -> None:
        if env is None:
            env = {}
        _set(self, "name", name)
        _set(self, "run", run)
        _set(self, "call", call)
        _set(self, "cwd", cwd)
        _set(self, "timeout", timeout)
        _set(self, "env", env)
        _set(self, "retries", retries)
        _set(self, "retry_delay", retry_delay)
        self.__attrs_post_init__()


class ListedFields(behaviour.View, behaviour.ListedMethods):
    """A read-only ``statemgr.model.listed.ListedFields``."""

    __slots__ = ("environment", "lineage", "operation", "revision", "state", "updated_at")
    _names = ("lineage", "revision", "environment", "state", "updated_at", "operation")
    _hashed = ("lineage", "revision", "environment", "state", "updated_at", "operation")

    def __init__(
        self,
        lineage: Any,
        revision: Any,
        environment: Any,
        state: Any,
        updated_at: Any,
        operation: Any,
    ) -> None:
        _set(self, "lineage", lineage)
        _set(self, "revision", revision)
        _set(self, "environment", environment)
        _set(self, "state", state)
        _set(self, "updated_at", updated_at)
        _set(self, "operation", operation)


class NamePart(behaviour.View):
    """A read-only ``statemgr.model.listed.NamePart``."""

    __slots__ = ("name",)
    _names = ("name",)
    _hashed = ("name",)

    def __init__(
        self,
        name: Any,
    ) -> None:
        _set(self, "name", name)


class StatePart(behaviour.View):
    """A read-only ``statemgr.model.listed.StatePart``."""

    __slots__ = ("name",)
    _names = ("name",)
    _hashed = ("name",)

    def __init__(
        self,
        name: Any,
    ) -> None:
        _set(self, "name", name)
