"""The one exception type users see: the CLI prints it in a line or two, without a traceback."""


class QsnnError(Exception):
    """A problem with the user's input: a file, a field, a value, and what is allowed.

    Raise it with a message that names all four, e.g.
    ``workloads/x.yaml: field 'global_wb' = 'two' is not an integer (allowed: 1-32 or null)``.
    """
