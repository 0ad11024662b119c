"""An uncaught exception with a chained cause ("During handling ...") kills the process: Python's
default excepthook writes the traceback. A print to stderr first, as servers often do."""

import sys

print("Starting weather server...", file=sys.stderr)


def load_config(path: str) -> dict[str, str]:
    with open(path) as config_file:
        return {"raw": config_file.read()}


def main() -> None:
    try:
        load_config("/nonexistent/weather.toml")
    except FileNotFoundError:
        raise RuntimeError("cannot start without a configuration file")


main()
