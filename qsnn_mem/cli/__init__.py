"""Command-line entry point: ``qsnn-mem COMMAND ...``.

Each command lives in its own module and registers itself with :data:`app`; this is the only
package that reads argv, prints, or picks default output paths. :func:`main` is the last resort:
no traceback reaches the user (an unexpected exception prints one line and the path of a log
holding its traceback).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..errors import QsnnError
from ..memory.cacti_build import cache_root
from .app import app

# Importing a command module registers its command.
from . import train, trace  # noqa: F401  isort: skip
from . import estimate, cacti  # noqa: F401  isort: skip
from . import prepare  # noqa: F401  isort: skip
from . import sweep, report  # noqa: F401  isort: skip
from . import synth, paper  # noqa: F401  isort: skip
from . import nir  # noqa: F401  isort: skip

_err = Console(stderr=True, highlight=False)
MESSAGE_MAX = 4000  # characters of an error message printed (the rest is cut)
EXIT_USER, EXIT_INTERNAL, EXIT_INTERRUPTED = 2, 1, 130


def main(argv: list[str] | None = None) -> int:
    """Run the CLI. A user error (:class:`QsnnError`) prints as one or two lines and exits with
    its ``exit_code`` (2 unless the error class says otherwise, e.g. 130 for an interrupted
    run); Ctrl-C exits 130; anything else exits 1 with one line naming a log of the traceback
    (``QSNN_MEM_DEBUG=1`` raises it instead)."""
    try:
        app(args=argv, prog_name="qsnn-mem")
    except QsnnError as exc:
        _error(str(exc))
        code = getattr(exc, "exit_code", EXIT_USER)
        return code if isinstance(code, int) else EXIT_USER
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == EXIT_INTERRUPTED and _interrupted(exc):  # typer turns Ctrl-C into exit 130
            _err.print("interrupted")
        return code
    except KeyboardInterrupt:
        _err.print("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("QSNN_MEM_DEBUG"):
            raise
        _internal_error(exc, sys.argv[1:] if argv is None else argv)
        return EXIT_INTERNAL
    return 0


def _error(message: str) -> None:
    if len(message) > MESSAGE_MAX:
        message = f"{message[:MESSAGE_MAX]}... ({len(message) - MESSAGE_MAX:,} more characters)"
    _err.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while handling a KeyboardInterrupt."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _internal_error(exc: Exception, argv: list[str]) -> None:
    """One line naming the exception and a log file holding its traceback."""
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    if len(text) > 200:
        text = text[:200] + "..."
    details = (
        f"qsnn-mem {' '.join(argv)}\ncwd: {os.getcwd()}\n"
        f"python {sys.version.split()[0]}\n\n{''.join(traceback.format_exception(exc))}"
    )
    log = _write_log(details)
    where = f"the traceback is in {log}" if log else "the traceback could not be written"
    _err.print(
        Text("error: ", style="bold red")
        + Text(f"internal error ({text}); {where}, please report it"),
        soft_wrap=True,
    )


def _write_log(details: str) -> Path | None:
    """Write ``details`` to ``$QSNN_MEM_CACHE/logs`` (or ``~/.cache/qsnn-mem/logs``), else the
    temporary folder; the path, or None where neither can be written."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"error-{stamp}-{os.getpid()}.log"
    for folder in (cache_root() / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(details)
            return path
        except OSError:
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())
