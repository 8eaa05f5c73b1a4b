"""What every task's run does around its own training and files (``tasks/<name>/run.py``): the
options of ``Task.run``, the folder claimed before training, run.json from the first epoch on,
a checkpoint every ``checkpoint_every`` epochs and, at the end, the task's outputs, the trace
and run.json marked ``done`` or ``interrupted``; one traced inference with saved weights
(``Task.trace_saved_weights``); the training loop's handling of Ctrl-C; and the weights.npz of
networks of float shadow weights (the smile and NIR tasks).

The folder is claimed before training (:func:`qsnn_mem.run_folder.claim`: a folder holding
another run is refused unless ``overwrite``); run.json is written after the first epoch with
``status: started`` (before any checkpoint), completed by the task with ``status: writing``
after its most valuable outputs, and marked ``done`` (or ``interrupted``) once every file is
written, the trace last."""

from __future__ import annotations

import contextlib
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import interrupts, quant
from ..errors import QsnnError
from ..io import atomic_path, write_json
from ..quant import Bits
from ..run_folder import RunKey, claim, keeping, run_key, start_record
from ..trace.output import write_trace
from .base import Precision


@dataclass(frozen=True)
class RunOptions:
    """The keywords of a task's ``run(cfg, run_dir, **options)``: ``trace_mode`` (None: train
    without counting), ``infer`` (a traced run then counts one inference with the trained
    weights), ``on_epoch(result, epoch_result)`` (called after every epoch: progress bars),
    ``command`` (recorded in run.json and trace.json) and ``overwrite`` (replace the run
    ``run_dir`` holds, :func:`~qsnn_mem.run_folder.claim`)."""

    trace_mode: str | None = "event"
    infer: bool = True
    on_epoch: Callable[[Any, Any], None] | None = None
    command: str = ""
    overwrite: bool = False

    def key(self, cfg: Any) -> RunKey:
        """The run's key (:func:`~qsnn_mem.run_folder.run_key`)."""
        return run_key(cfg, trace_mode=self.trace_mode, infer=self.infer)


class RunFolder:
    """The folder of one run, claimed when made (before training, so a refusal comes before
    the work, not after it), and its run.json record
    (:func:`~qsnn_mem.run_folder.start_record`)."""

    def __init__(
        self, cfg: Any, run_dir: Path, key: RunKey, precision: Precision, options: RunOptions
    ) -> None:
        self.path = claim(run_dir, key, overwrite=options.overwrite)  # fail before training
        self.key, self.options = key, options
        self.record = start_record(cfg, key, precision, options.command)
        self.checkpoint_every: int = cfg.checkpoint_every

    def epoch_hook(
        self, tracer: Any, checkpoint: Callable[[Path, Any], None]
    ) -> Callable[[Any, Any], None]:
        """The training loop's ``on_epoch(result, epoch_result)``: the tracer's ``on_epoch``,
        run.json at the first epoch, ``checkpoint(folder, result)`` every ``checkpoint_every``
        epochs, then the caller's ``on_epoch``."""

        def hook(result: Any, epoch_result: Any) -> None:
            if tracer is not None:
                tracer.on_epoch(result, epoch_result)
            with keeping(self.path):
                if len(result.metrics) == 1:  # from the first epoch on, run.json says what this is
                    write_json(self.path / "run.json", self.record)
                if len(result.metrics) % self.checkpoint_every == 0:
                    checkpoint(self.path, result)
            if self.options.on_epoch is not None:
                self.options.on_epoch(result, epoch_result)

        return hook

    def finish(
        self,
        result: Any,
        write_outputs: Callable[[Path, Any, dict], dict],
        tracer: Any = None,
        final_weights: Any = None,
    ) -> None:
        """Write what the run leaves behind: ``write_outputs(folder, result, record)`` (the task's
        files, returning run.json's record with ``status: writing``), then the trace of
        ``tracer`` (None: not traced, or nothing counted) and run.json marked ``done`` or
        ``interrupted``. A write that fails ends in one message naming what the folder kept."""
        with keeping(self.path):
            info = write_outputs(self.path, result, self.record)
            if tracer is not None:
                extra = {"command": self.options.command}
                write_trace(self.path, tracer, final_weights, extra, key=self.key)
            info["status"] = "interrupted" if result.interrupted else "done"
            write_json(self.path / "run.json", info)


def ended(result: Any) -> dict[str, Any]:
    """run.json's record of how training ended: epochs done, whether interrupted, ``status:
    writing`` (until every output is written), wall time and the time it finished."""
    return {
        "epochs_done": len(result.metrics),
        "interrupted": result.interrupted,
        "status": "writing",
        "wall_s": round(result.wall_s, 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def traced_inference(
    cfg: Any,
    weights: str | os.PathLike,
    run_dir: Path,
    infer: Callable[[str], Any],
    *,
    trace_mode: str = "event",
    command: str = "",
    overwrite: bool = False,
) -> Any:
    """A task's ``trace_saved_weights(cfg, weights, run_dir, **options)`` once the weights of
    the earlier run (its folder or its weights.npz) are read: claim the trace folder
    ``run_dir`` (refused if it holds another run, unless ``overwrite``), count one inference
    (``infer(trace_mode)`` returns the tracer that counted it) and write its trace. Returns the
    tracer."""
    key = run_key(cfg, trace_mode=trace_mode, weights=weights)
    path = claim(run_dir, key, overwrite=overwrite)
    tracer = infer(trace_mode)
    write_trace(path, tracer, extra={"weights": str(weights), "command": command}, key=key)
    return tracer


@contextlib.contextmanager
def training(result: Any) -> Iterator[None]:
    """Around a training loop: Ctrl-C (or SIGTERM) is deferred to the loop's next
    ``interrupts.check()`` (:mod:`qsnn_mem.interrupts`; a second one aborts at once) and ends
    the loop with ``result.interrupted`` set; ``result.wall_s`` is the time it took."""
    start = time.perf_counter()
    try:
        with interrupts.deferred():
            yield
    except KeyboardInterrupt:  # a deferred signal at a check, or a second Ctrl-C
        result.interrupted = True
    result.wall_s = time.perf_counter() - start


def weight_arrays(
    names: list[str], weights: list[torch.Tensor], scales: list[float], bits: Bits
) -> dict[str, np.ndarray]:
    """Per layer of weights.npz: the float shadow weights, the forward scale and, when
    quantized, the integer codes held in memory (``<name>_shadow``, ``_scale``, ``_code``)."""
    arrays: dict[str, np.ndarray] = {}
    for name, w, scale in zip(names, weights, scales, strict=True):
        shadow = w.detach().cpu()
        arrays[f"{name}_shadow"] = shadow.numpy()
        arrays[f"{name}_scale"] = np.array(scale)
        if bits is not None:
            code = quant.to_int(quant.quantize(shadow, bits), bits)
            arrays[f"{name}_code"] = code.numpy().astype(np.int8 if bits <= 8 else np.int32)
    return arrays


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as a compressed .npz, written atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def weights_file(path: str | os.PathLike) -> Path:
    """The weights.npz of a run folder, or the file ``path``; refused if there is none."""
    source = Path(path)
    file = source / "weights.npz" if source.is_dir() else source
    if not file.is_file():
        raise QsnnError(f"{file}: weights file not found (give a run folder or its weights.npz)")
    return file


def read_weight_arrays(path: str | os.PathLike) -> tuple[Path, dict[str, np.ndarray]]:
    """The arrays of a run folder's weights.npz (or of the .npz ``path``), and its path; a
    missing file, a single .npy array or a damaged archive is a QsnnError naming the file."""
    file = weights_file(path)
    try:
        data = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise QsnnError(f"{file}: not a readable weights file ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise QsnnError(
            f"{file}: a single array, not a weights .npz (give a run folder or its weights.npz)"
        )
    try:
        with data:
            return file, {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise QsnnError(f"{file}: not a readable weights file ({exc})") from None


def check_weight_bits(file: str | os.PathLike, arrays: dict[str, np.ndarray], bits: Bits) -> None:
    """Refuse saved weights (``arrays`` of weights.npz) trained at other weight bits."""
    stored = int(arrays.get("weight_bits", -1))
    if stored != (-1 if bits is None else bits):
        shown = "null" if stored == -1 else stored
        raise QsnnError(
            f"{file}: the weights were trained with weight_bits={shown}, the workload asks for "
            f"{bits}; add --set weight_bits={shown}"
        )
