"""Command-line entry point: ``qsnn-mem COMMAND ...``.

Each command lives in its own module and registers itself with :data:`app`; this is the only
package that reads argv, prints, or picks default output paths.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

from ..errors import QsnnError
from .app import app

# Importing a command module registers its command.
from . import train, trace  # noqa: F401  isort: skip
from . import estimate, cacti  # noqa: F401  isort: skip
from . import prepare  # noqa: F401  isort: skip
from . import sweep, report  # noqa: F401  isort: skip
from . import synth, paper  # noqa: F401  isort: skip

_err = Console(stderr=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print as one or two lines and exit with status 2."""
    try:
        app(args=argv, prog_name="qsnn-mem")
    except QsnnError as exc:
        _err.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
