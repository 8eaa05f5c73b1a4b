"""Writing a task's tracer into a trace folder, through :mod:`qsnn_mem.contract` (each task's
tracer lives with its task)."""
