"""Load user-supplied arrays (input rasters, targets) safely, whatever the original format.

Formats: ``.npy``, ``.npz`` and pickles (``.pkl``/``.pickle``) as the reference wrote them,
i.e. ``pickle.dump`` of a torch float tensor or of a numpy array. A pickle can run arbitrary
code when loaded, so pickles go through :class:`_ArrayUnpickler`, which admits only the few
globals that a pickled numpy array or torch CPU tensor references and refuses everything else
before it is called. A ``torch.save`` file is handed to ``torch.load(weights_only=True)``.
torch is imported only when a file actually holds a tensor.
"""

from __future__ import annotations

import codecs
import collections
import importlib
import io
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import QsnnError

SUFFIXES = (".npy", ".npz", ".pkl", ".pickle")

# What `pickle.dumps(ndarray)` references: numpy >= 2 writes numpy._core, older numpy.core;
# protocol 5 rebuilds from a buffer with _frombuffer.
_NUMPY_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}
# What `pickle.dumps(torch.Tensor)` references (torch 1.x and 2.x alike).
_TORCH_GLOBALS = {("torch._utils", "_rebuild_tensor_v2"), ("torch.storage", "_load_from_bytes")}
# Protocol <= 2 writes bytes as _codecs.encode(text, "latin1"); tensors carry an OrderedDict.
_OTHER_GLOBALS = {("collections", "OrderedDict"), ("_codecs", "encode")}
# torch.save's legacy (non-zip) format starts with this pickled integer.
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _numpy_core(submodule: str) -> Any:
    """``numpy._core.<submodule>`` (numpy >= 2) or ``numpy.core.<submodule>`` (numpy < 2)."""
    try:
        return importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:
        return importlib.import_module(f"numpy.core.{submodule}")


def _torch_load_safe(source: Any) -> Any:
    """``torch.load`` restricted to tensors and storages, always onto the CPU."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage deprecation
        return torch.load(source, weights_only=True, map_location="cpu")


def _storage_from_bytes(data: bytes) -> Any:
    # torch's own torch.storage._load_from_bytes loads these bytes with weights_only=False,
    # i.e. an unrestricted nested pickle; load them with the restricted loader instead.
    return _torch_load_safe(io.BytesIO(data))


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of a pickled ndarray or torch tensor."""

    def __init__(self, file: Any, source: Path) -> None:
        super().__init__(file, encoding="latin1")  # latin1 reads Python-2 numpy pickles too
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _NUMPY_GLOBALS:
            if module == "numpy":
                return getattr(np, name)
            return getattr(_numpy_core(module.rsplit(".", 1)[1]), name)
        if key in _OTHER_GLOBALS:
            return collections.OrderedDict if name == "OrderedDict" else codecs.encode
        if key in _TORCH_GLOBALS:
            if name == "_load_from_bytes":
                return _storage_from_bytes
            return importlib.import_module(module).__dict__[name]
        raise QsnnError(
            f"{self.source}: refusing to unpickle '{module}.{name}' (a pickle can run code; "
            "allowed: a numpy array or a torch tensor only)"
        )


def _load_pickle(path: Path) -> Any:
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head.startswith(b"PK"):  # a torch.save zip archive renamed to .pkl
            return _torch_load_safe(fh)
        obj = _ArrayUnpickler(fh, path).load()
    if isinstance(obj, int) and obj == _TORCH_LEGACY_MAGIC:  # legacy torch.save format
        return _torch_load_safe(path)
    return obj


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.files)
        if key is None and len(keys) == 1:
            key = keys[0]
        if key not in keys:
            wanted = "no key given" if key is None else f"key {key!r} not found"
            raise QsnnError(f"{path}: {wanted} (available keys: {', '.join(keys) or 'none'})")
        return archive[key]


def _read(path: Path, key: str | None) -> Any:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            return _load_npz(path, key)
        return _load_pickle(path)
    except QsnnError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        RuntimeError,
        OSError,
        MemoryError,
        zipfile.BadZipFile,
    ) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        message = f"{path}: not a readable {suffix} file (corrupt or truncated?): {detail}"
        raise QsnnError(message) from None


def _to_numpy(obj: Any, path: Path) -> np.ndarray:
    if isinstance(obj, np.ndarray):
        array = obj
    elif type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        array = obj.detach().cpu().numpy()
    else:
        raise QsnnError(
            f"{path}: holds a {type(obj).__name__}, not an array "
            "(allowed: one numpy array or torch tensor)"
        )
    if array.dtype.kind not in "biuf":
        raise QsnnError(
            f"{path}: array dtype {array.dtype} is not numeric (allowed: bool, int, float)"
        )
    return array.astype(np.float32)


def _check_shape(array: np.ndarray, expect: tuple[int | None, ...], path: Path, name: str) -> None:
    def fits(shape: tuple[int, ...]) -> bool:
        if len(shape) != len(expect):
            return False
        return all(e is None or e == s for e, s in zip(expect, shape, strict=True))

    if fits(array.shape):
        return
    want = "(" + ", ".join("any" if e is None else str(e) for e in expect) + ")"
    hint = ""
    if array.ndim == 2 and fits(array.shape[::-1]):
        hint = "; the array looks transposed: save its transpose (.T)"
    raise QsnnError(f"{path}: {name} has shape {tuple(array.shape)}, expected {want}{hint}")


def load_array(
    path: str | os.PathLike,
    *,
    expect_shape: tuple[int | None, ...] | None = None,
    name: str = "input",
    key: str | None = None,
    binary: bool = False,
) -> np.ndarray:
    """Load one array from ``path`` and return it as float32 numpy.

    ``expect_shape`` entries may be ``None`` (any size). ``key`` picks an array from an
    ``.npz`` holding several. ``binary=True`` requires every value to be 0 or 1. ``name`` says
    in error messages what the array is for (e.g. "input", "target"). Every problem (missing
    file, unknown suffix, corrupt or truncated file, a pickle referencing anything but an array,
    wrong shape, non-binary values) raises :class:`QsnnError` naming the file.
    """
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise QsnnError(
            f"{file}: {name} file suffix {file.suffix or '(none)'!r} is not supported "
            f"(allowed: {', '.join(SUFFIXES)})"
        )
    if not file.is_file():
        raise QsnnError(f"{file}: {name} file not found")
    array = _to_numpy(_read(file, key), file)
    if expect_shape is not None:
        _check_shape(array, tuple(expect_shape), file, name)
    if binary:
        bad = ~np.isin(array, (0.0, 1.0))
        if bad.any():
            example = array[bad].flat[0]
            raise QsnnError(
                f"{file}: {name} must hold only 0 and 1, but {int(bad.sum())} values differ "
                f"(e.g. {example:g})"
            )
    return array
