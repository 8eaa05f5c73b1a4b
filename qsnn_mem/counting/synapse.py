"""The unrolled connectivity of a layer's synapse, dense or conv: which weights an input spike
reads (its *row*) and which an output error reads (its *column*), and how many are non-zero.

A dense weight (NIR ``(out, in)``) is its own unrolled matrix: the row of input ``i`` is column
``i`` of the NIR array, the column of output ``j`` its row ``j``. A conv kernel
``(out_ch, in_ch / groups, kh, kw)`` is shared by every position: the row of input position
``(c, y, x)`` holds one synapse per output channel of ``c``'s group and per kernel tap
``(ky, kx)`` that links it to an output position inside the image,
``y = y' * stride - padding + ky * dilation`` (the forward conv of docs/nir.md); the column of
output position ``(o, y', x')`` one per input channel of its group and per such tap. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tasks.nir.graph import Layer


@dataclass(frozen=True)
class ConvGeometry:
    """Shapes and arithmetic of a conv synapse (NIR Conv2d)."""

    in_shape: tuple[int, int, int]  # (in_ch, h, w)
    out_shape: tuple[int, int, int]  # (out_ch, h', w')
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int

    @property
    def in_per_group(self) -> int:
        return self.in_shape[0] // self.groups

    @property
    def out_per_group(self) -> int:
        return self.out_shape[0] // self.groups

    def taps(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """Along one spatial axis (0: y, 1: x): ``valid`` (taps, out positions), whether tap k
        links output position y' to an input inside the image, and that input's ``index``."""
        n_in, n_out = self.in_shape[1 + axis], self.out_shape[1 + axis]
        k = np.arange(self.kernel[axis])[:, None]
        y_out = np.arange(n_out)[None, :]
        index = y_out * self.stride[axis] - self.padding[axis] + k * self.dilation[axis]
        return (index >= 0) & (index < n_in), index

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """(input mask (kh, kw, h, w), output mask (kh, kw, h', w')): the positions a tap links.

        For one tap the map from linked output to input position is one-to-one, so both masks
        of a tap hold the same number of positions (:meth:`cover`)."""
        masks_in, masks_out = [], []
        for axis in (0, 1):
            valid, index = self.taps(axis)
            m_in = np.zeros((valid.shape[0], self.in_shape[1 + axis]), dtype=np.int64)
            for k in range(valid.shape[0]):
                m_in[k, index[k][valid[k]]] = 1
            masks_in.append(m_in)
            masks_out.append(valid.astype(np.int64))
        mask_in = np.einsum("ay,bx->abyx", *masks_in)
        mask_out = np.einsum("ay,bx->abyx", *masks_out)
        return mask_in, mask_out

    def cover(self) -> np.ndarray:
        """(kh, kw): how many (input, output) position pairs each tap links."""
        (vy, _), (vx, _) = self.taps(0), self.taps(1)
        return np.outer(vy.sum(axis=1), vx.sum(axis=1)).astype(np.int64)

    def grouped(self, x: np.ndarray) -> np.ndarray:
        """A kernel-shaped array as (groups, out per group, in per group, kh, kw)."""
        g = self.groups
        return x.reshape(g, self.out_per_group, self.in_per_group, *self.kernel)


@dataclass(frozen=True)
class Synapse:
    """Per input position its unrolled row, per output position its column: elements and
    non-zero weights (flattened positions, C order), and the rows of the stored weight."""

    kind: str  # "dense" or "conv"
    row_elems: np.ndarray  # (n_in,) int64
    row_nnz: np.ndarray  # (n_in,) int64
    col_elems: np.ndarray  # (n_out,) int64
    col_nnz: np.ndarray  # (n_out,) int64
    update_rows: int  # dense: pre-synaptic neurons; conv: in_ch / groups * kh * kw
    geometry: ConvGeometry | None = None

    @property
    def n_in(self) -> int:
        return self.row_elems.size

    @property
    def n_out(self) -> int:
        return self.col_elems.size

    @property
    def elements(self) -> int:
        """Synapses of the unrolled matrix."""
        return int(self.row_elems.sum())

    @property
    def nonzero(self) -> int:
        """Non-zero synapses of the unrolled matrix."""
        return int(self.row_nnz.sum())


def geometry(layer: Layer) -> ConvGeometry:
    """The conv arithmetic of a ``conv`` layer."""
    c_in, h, w = layer.in_shape
    c_out, h_out, w_out = layer.out_shape
    kh, kw = layer.weight.shape[2:]
    return ConvGeometry(
        (c_in, h, w), (c_out, h_out, w_out), (kh, kw), tuple(layer.stride),
        tuple(layer.padding), tuple(layer.dilation), layer.groups,
    )  # fmt: skip


def synapse(layer: Layer, weight: np.ndarray) -> Synapse:
    """The connectivity of ``layer`` with the stored ``weight`` (Layer.weight's layout)."""
    nz = np.asarray(weight) != 0
    if layer.synapse == "dense":
        n_out, n_in = nz.shape
        return Synapse(
            "dense", np.full(n_in, n_out, np.int64), nz.sum(axis=0, dtype=np.int64),
            np.full(n_out, n_in, np.int64), nz.sum(axis=1, dtype=np.int64), n_in,
        )  # fmt: skip
    geo = geometry(layer)
    mask_in, mask_out = geo.masks()
    # Non-zero weights of each input channel's tap over the output channels of its group.
    tap_in = geo.grouped(nz).sum(axis=1, dtype=np.int64).reshape(geo.in_shape[0], *geo.kernel)
    tap_out = nz.sum(axis=1, dtype=np.int64)  # ... of each output channel's tap, over inputs
    row_nnz = np.einsum("ckl,klyx->cyx", tap_in, mask_in)
    col_nnz = np.einsum("okl,klyx->oyx", tap_out, mask_out)
    row_elems = np.broadcast_to(mask_in.sum(axis=(0, 1)) * geo.out_per_group, row_nnz.shape)
    col_elems = np.broadcast_to(mask_out.sum(axis=(0, 1)) * geo.in_per_group, col_nnz.shape)
    return Synapse(
        "conv", row_elems.ravel().astype(np.int64), row_nnz.ravel(),
        col_elems.ravel().astype(np.int64), col_nnz.ravel(),
        geo.in_per_group * geo.kernel[0] * geo.kernel[1], geo,
    )  # fmt: skip
