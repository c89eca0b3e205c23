"""The generated transition table (used by the reading commands) matches the statechart."""

from machines.table import GENERATED, derive_table, render_generated
from machines.transitions_generated import TRANSITIONS


def test_generated_table_is_what_the_chart_declares() -> None:
    # If this fails, the chart changed: run `python -m machines.table` and commit the file.
    assert derive_table() == TRANSITIONS
    assert GENERATED.read_text() == render_generated(derive_table())


def test_reading_the_table_does_not_import_the_statechart_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from machines.table import allowed_events; from machines.names import "
        "StateName; allowed_events(StateName.created); print('statemachine' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
