"""Where points run: in this process, a local process pool, or a Dask distributed cluster.

Every executor has one job: call ``run_point`` on each job and hand each :class:`Outcome` to
``on_outcome`` in this process as soon as it arrives. A worker that dies (killed, out of
memory) turns into a ``failed`` outcome for its point; the other points go on. Workers never
outlive the sweep: pool workers get SIGKILL when the sweep process ends (Linux), and every
worker away from the sweep's process watches the sweep's lock (:mod:`.lock`).
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from urllib.parse import urlsplit

from ..errors import QsnnError
from .lock import die_with_parent
from .point import Job, Outcome, run_point

OnOutcome = Callable[[Outcome], None]
DASK_HINT = "pip install -c constraints.txt 'qsnn-mem[dask]'"


def run_serial(jobs: Sequence[Job], on_outcome: OnOutcome) -> None:
    """One point after another in this process (``-j 1``): no start-up cost."""
    for job in jobs:
        outcome = run_point(job)
        on_outcome(outcome)
        if outcome.status == "interrupted":
            raise KeyboardInterrupt  # training swallowed Ctrl-C/SIGTERM: stop the sweep too


def run_pool(jobs: Sequence[Job], on_outcome: OnOutcome, workers: int) -> None:
    """A pool of ``workers`` fresh processes (spawned: torch and numba do not survive fork)."""
    pending = list(jobs)
    crashes: dict[str, int] = {}
    while pending:
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )
        try:
            futures = {pool.submit(run_point, job): job for job in pending}
            pending = []
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = futures.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        # Which point killed the pool is unknown: retry each once in a new pool.
                        crashes[job.id] = crashes.get(job.id, 0) + 1
                        if crashes[job.id] == 1:
                            pending.append(job)
                            continue
                        outcome = Outcome(job.id, "failed", 0.0, "worker process died")
                    on_outcome(outcome)
        finally:
            # On Ctrl-C, points not yet started must not start.
            pool.shutdown(wait=True, cancel_futures=True)


def check_executor(executor: str = "local", scheduler: str | None = None) -> None:
    """Refuse an unknown executor, or Dask where it is not installed, before anything runs."""
    if executor not in ("local", "dask"):
        raise QsnnError(f"--executor {executor!r} is not one of local, dask")
    dask = scheduler is not None or executor == "dask"
    if dask and not have_dask():
        raise QsnnError(f"the dask executor needs dask distributed: {DASK_HINT}")


def have_dask() -> bool:
    return importlib.util.find_spec("distributed") is not None


def dask_client(scheduler: str | None, workers: int):
    """A Dask client: to ``scheduler`` if given, else to a new loopback LocalCluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise QsnnError(f"the dask executor needs dask distributed: {DASK_HINT}") from None
    if scheduler is not None:
        check_scheduler(scheduler)
        try:
            return Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise QsnnError(_unreachable(scheduler, exc)) from None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster, set_as_default=False)


def _unreachable(scheduler: str, exc: BaseException) -> str:
    return (
        f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); start one "
        "(dask scheduler, or dask-jobqueue's SLURMCluster) and pass its address tcp://HOST:PORT"
    )


def check_scheduler(address: str) -> None:
    """Fail in a moment, before any folder is made, when nothing listens at a tcp:// address
    (other protocols are left to the client)."""
    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        if parts.scheme == "tcp" and parts.hostname and parts.port:
            socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise QsnnError(_unreachable(address, exc)) from None


def run_dask(
    jobs: Sequence[Job], on_outcome: OnOutcome, scheduler: str | None, workers: int
) -> None:
    """Submit every point to a Dask cluster; outcomes arrive as the points finish."""
    from distributed import as_completed

    client = dask_client(scheduler, workers)
    try:
        futures = client.map(run_point, list(jobs), key=[f"qsnn-{job.id}" for job in jobs])
        by_key = {fut.key: job for fut, job in zip(futures, jobs, strict=True)}
        for fut in as_completed(futures, loop=client.loop):
            job = by_key[fut.key]
            try:
                outcome = fut.result()
            except Exception as exc:  # KilledWorker, a lost connection, ...
                outcome = Outcome(job.id, "failed", 0.0, f"{type(exc).__name__}: {exc}")
            on_outcome(outcome)
    finally:
        cluster = client.cluster if scheduler is None else None
        client.close()
        if cluster is not None:
            cluster.close()


def execute(
    jobs: Sequence[Job],
    on_outcome: OnOutcome,
    *,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
) -> None:
    """Run ``jobs`` with the chosen executor (``local`` or ``dask``)."""
    if not jobs:
        return
    if scheduler is not None or executor == "dask":
        run_dask(jobs, on_outcome, scheduler, workers)
    elif executor == "local":
        if workers <= 1:
            run_serial(jobs, on_outcome)
        else:
            run_pool(jobs, on_outcome, min(workers, len(jobs)))
    else:
        raise QsnnError(f"--executor {executor!r} is not one of local, dask")
