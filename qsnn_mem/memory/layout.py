"""How each tensor lies in its memory's arrays, and how an access row walks that layout.

For every (pair × tensor): the encoding that stores it (non-weight tensors: packed values),
its geometry as stored (a kernel as the kernel matrix, or unrolled) and, per array role, the
word width and fields per word (P fields of each field's width, or packed into ``word_bits``).
For every access row: the counts as the stored layout sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import QsnnError
from . import encodings as enc
from . import plan
from .encodings.base import (
    BITMAP,
    COL,
    INDICES,
    PIXELS,
    POINTERS,
    ROLES,
    ROW,
    RUNS,
    VALUES,
    Layout,
    Walk,
    ceil,
    log2_ceil,
    per_word,
)  # fmt: skip

N_ROLES = len(ROLES)
FUNCTIONAL = enc.CODES["functional"]


@dataclass
class Stored:
    """Per (pair × tensor): encoding code, layout as stored, and how a kernel is stored."""

    code: np.ndarray
    layout: Layout
    shared: np.ndarray  # kernel-shared kernel in an index-based or crossbar memory
    unrolled: np.ndarray  # kernel stored as its unrolled synapse matrix
    copies: np.ndarray  # stored copies of one kernel weight (unrolled storage)


def stored(pairs, mems, tens, m, t, ten_mem) -> Stored:
    code = np.where(t["is_weight"], m["code"][ten_mem], enc.DENSE)
    functional = code == FUNCTIONAL
    fc_in_functional = functional & ~t["kernel"]
    if fc_in_functional.any():
        i = int(np.flatnonzero(fc_in_functional)[0])
        arch, trace = pairs[tens.pair[i]]
        layer, tensor = plan.trace_arrays(trace).keys[tens.local[i]]
        memory = arch.memories[mems.local[ten_mem[i]]].name
        raise QsnnError(
            f"arch '{arch.name}', memory '{memory}': encoding 'functional' stores convolution "
            f"kernels only, but '{layer}.{tensor}' of {trace.folder} is fully connected (hold "
            "it in a memory with another encoding, e.g. holds: [" + f"{layer}.{tensor}] with "
            "encoding: crossbar)"
        )
    kernel = t["kernel"] & t["is_weight"] & ~functional
    unrolled = kernel & m["unrolled"][ten_mem]
    shared = kernel & ~unrolled
    by_kernel = functional | shared
    rows = np.where(by_kernel, t["k_in"], np.where(unrolled, t["u_rows"], t["rows"]))
    cols = np.where(by_kernel, t["k_out_k2"], np.where(unrolled, t["u_cols"], t["cols"]))
    nnz = np.where(unrolled, t["u_nnz"], t["nnz"])
    layout = array_layout(
        code, rows, cols, nnz, t["bits"], m, ten_mem, functional, t["k2"], t["col_run"]
    )
    copies = np.where(unrolled, t["u_nnz"] / np.maximum(t["nnz"], 1.0), 1.0)
    return Stored(code, layout, shared, unrolled, copies)


def array_layout(code, rows, cols, nnz, bits, m, ten_mem, functional, k2, col_run=None) -> Layout:
    """Word width and fields per word of every array: P fields of each field's width, or
    packed into ``word_bits``; ``col_run``: a non-weight tensor's column-walk runs."""
    weight = code != enc.DENSE
    p = m["per_access"][ten_mem]
    word = m["word"][ten_mem]
    packed = ~weight | (p == 0)
    run = m["run_bits"][ten_mem]
    bitmap = m["bitmap_bits"][ten_mem]
    idx = log2_ceil(cols)
    values_per_word = np.where(packed, per_word(word, bits), p)
    ptr = log2_ceil(ceil(nnz / values_per_word) + 1)
    field = np.zeros((len(code), N_ROLES))
    field[:, VALUES], field[:, INDICES], field[:, RUNS] = bits, idx, run
    field[:, BITMAP], field[:, POINTERS], field[:, PIXELS] = 1.0, ptr, ptr
    fields = np.ones_like(field)
    fields[:, VALUES] = fields[:, INDICES] = fields[:, RUNS] = p
    fields[:, BITMAP] = bitmap
    width = fields * field
    width[:, BITMAP] = bitmap
    packed_fields = per_word(word[:, None], field)
    fields = np.where(packed[:, None], packed_fields, fields)
    width = np.where(packed[:, None], word[:, None], width)
    return Layout(
        rows=rows, cols=cols, nnz=nnz, bits=bits, width=width, fields=fields, ptr_bits=ptr,
        idx_bits=idx, run_bits=run, kernel_k2=np.where(functional, k2, 1.0),
        col_run=None if col_run is None else np.where(weight, 1.0, col_run),
    )  # fmt: skip


def walk(stored: Stored, acc_ten, a) -> tuple[Walk, np.ndarray]:
    """The access rows as the stored layout sees them, and per-pixel pointer reads.

    Unrolled storage keeps every copy of a kernel weight, so an element access touches each.
    Kernel-shared storage has no column path: a spike reads its pixel's pointer and walks its
    channel's kernel row; the synapses of column accesses are reached by the kernel-row walks
    that cover them (the transposed pass as a gather).
    """
    pattern = a["a_pattern"].copy()
    n, e, z = a["a_accesses"], a["a_elements"], a["a_nonzero"]
    elem = pattern == 2
    rep = np.where(elem, stored.copies[acc_ten], 1.0)
    n, e, z = n * rep, e * rep, z * rep
    shared = stored.shared[acc_ten] & ~elem
    g = stored.layout.take(acc_ten)
    walks = np.where(pattern == COL, e / np.maximum(g.cols, 1.0), n)
    n = np.where(shared, walks, n)
    e = np.where(shared, n * g.cols, e)
    z = np.where(shared, n * g.nbar, z)
    pattern = np.where(shared, ROW, pattern)
    walk = Walk(pattern=pattern, is_write=a["a_op"] == 1, n=n, e=e, z=z)
    pixel_reads = np.where(shared & (a["a_op"] == 0), n, 0.0)
    return walk, pixel_reads
