"""The statemgr command line (placeholder until the CLI lands)."""


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("statemgr: the command line is not built yet")
