"""The one exception type users see: the CLI prints it in a line or two, without a traceback."""


class QsnnError(Exception):
    """A problem with the user's input: a file, a field, a value, and what is allowed.

    Raise it with a message that names all four, e.g.
    ``workloads/x.yaml: field 'global_wb' = 'two' is not an integer (allowed: 1-32 or null)``.
    """


class Interrupted(SystemExit):
    """Raised by a command after it wrote what an interrupted run had done: exit status 130, as
    a shell expects of Ctrl-C, so that a loop of runs stops.

    A ``SystemExit`` (not a :class:`QsnnError`): it passes ``except Exception`` handlers, click
    and typer untouched, and :func:`qsnn_mem.cli.main` returns its code as for any exit.
    """

    EXIT_CODE = 130

    def __init__(self) -> None:
        super().__init__(self.EXIT_CODE)
