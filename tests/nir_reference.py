"""An independent oracle for NIR networks: the discrete-time equations of docs/nir.md, step by
step, in plain numpy (float64, explicit loops, no torch).

    simulate(network, inputs (T, *input_shape), dt) -> [layer output (T, *out_shape), ...]

Per layer and step t (state I, v from zero, s_{-1} = 0):

    u_t = reshapes(input of step t)              flatten; sumpool: window sum; avgpool: mean
    x_t = W u_t + b                              dense, or conv2d (stride, padding, dilation,
                                                 groups)
    spike_first:       s_t = H(v_{t-1} - v_th)
    CubaLIF:           drive = I_{t-1};  I_t = I_{t-1} + dt/tau_syn (w_in x_t - I_{t-1})
    LIF, LI:           drive = x_t
    LIF, CubaLIF, LI:  v~ = v_{t-1} + dt/tau_mem (v_leak - v_{t-1} + r drive)
    IF:                v~ = v_{t-1} + dt r x_t
    not spike_first:   s_t = H(v~ - v_th)                          H(z) = 1 if z > 0
    reset to_value:    v_t = v_reset where s_t else v~;  subtract: v_t = v~ - amount s_t
    LI: no spike, no reset, output v_t; spiking layers output s_t.

Written from the specification alone, apart from the torch model it checks.
"""

from __future__ import annotations

import numpy as np

from qsnn_mem.tasks.nir.graph import Layer, Network, Neuron, Reshape


def _pad(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """Zero padding of the last two axes of a (C, H, W) array."""
    ph, pw = padding
    return np.pad(x, ((0, 0), (ph, ph), (pw, pw)))


def _pool(x: np.ndarray, r: Reshape) -> np.ndarray:
    """Sum or mean over each window of a (C, H, W) array (zeros in the padding; the mean divides
    by the window's full size)."""
    xp = _pad(x, r.padding)
    kh, kw = r.kernel
    sh, sw = r.stride
    c, h, w = xp.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw]
            out[:, i, j] = window.sum(axis=(1, 2))
    if r.kind == "avgpool":
        out /= kh * kw
    return out


def _reshape(x: np.ndarray, r: Reshape) -> np.ndarray:
    if r.kind == "flatten":
        return x.reshape(-1)
    if r.kind in ("sumpool", "avgpool"):
        return _pool(x, r)
    raise ValueError(f"unknown reshape {r.kind!r}")


def _conv(x: np.ndarray, layer: Layer) -> np.ndarray:
    """conv2d of one (C_in, H, W) frame, as torch.nn.functional.conv2d defines it."""
    w = layer.weight
    c_out, c_in_g, kh, kw = w.shape
    sh, sw = layer.stride
    dh, dw = layer.dilation
    g = layer.groups
    xp = _pad(x, layer.padding)
    _, h, wd = xp.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((c_out, oh, ow))
    per_group = c_out // g
    for o in range(c_out):
        first = (o // per_group) * c_in_g
        for i in range(oh):
            for j in range(ow):
                window = xp[
                    first : first + c_in_g,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                ]
                out[o, i, j] = float(np.sum(w[o] * window))
        if layer.bias is not None:
            out[o] += layer.bias[o]
    return out


def _synapse(u: np.ndarray, layer: Layer) -> np.ndarray:
    if layer.synapse == "dense":
        x = layer.weight.astype(np.float64) @ u.reshape(-1)
        if layer.bias is not None:
            x = x + layer.bias
        return x.reshape(layer.out_shape)
    return _conv(u.reshape(layer.in_shape), layer)


def _neuron_run(n: Neuron, x: np.ndarray, dt: float) -> np.ndarray:
    """The population over all steps: x (T, *shape) -> spikes, or the membrane of an LI."""
    shape = x.shape[1:]
    i_syn = np.zeros(shape)
    v = np.zeros(shape)
    out = np.zeros(x.shape)
    for t in range(x.shape[0]):
        s = np.zeros(shape)
        if n.spike_first and n.kind != "LI":
            s = (v - n.v_threshold > 0).astype(np.float64)
        if n.kind == "CubaLIF":
            w_in = 1.0 if n.w_in is None else n.w_in
            drive = i_syn
            i_syn = i_syn + (dt / n.tau_syn) * (w_in * x[t] - i_syn)
        else:
            drive = x[t]
        if n.kind == "IF":
            v_new = v + dt * n.r * x[t]
        else:
            v_new = v + (dt / n.tau_mem) * (n.v_leak - v + n.r * drive)
        if n.kind == "LI":
            v = v_new
            out[t] = v
            continue
        if not n.spike_first:
            s = (v_new - n.v_threshold > 0).astype(np.float64)
        if n.reset == "subtract":
            v = v_new - n.reset_amount * s
        else:
            v = np.where(s > 0, n.v_reset, v_new)
        out[t] = s
    return out


def simulate(network: Network, inputs: np.ndarray, dt: float) -> list[np.ndarray]:
    """Each layer's output per step, (T, *out_shape), for ``inputs`` (T, *input_shape)."""
    x = np.asarray(inputs, dtype=np.float64)
    if tuple(x.shape[1:]) != tuple(network.input_shape):
        raise ValueError(f"inputs {x.shape} do not match (T, *{network.input_shape})")
    outputs = []
    for layer in network.layers:
        steps = x.shape[0]
        current = np.zeros((steps, *layer.out_shape))
        for t in range(steps):
            u = x[t]
            for r in layer.reshapes:
                u = _reshape(u, r)
            if tuple(u.shape) != tuple(layer.in_shape) and u.size != layer.n_in:
                raise ValueError(f"{layer.name}: input {u.shape} is not {layer.in_shape}")
            current[t] = _synapse(u, layer)
        x = _neuron_run(layer.neuron, current, dt)
        outputs.append(x)
    return outputs
