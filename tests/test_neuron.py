"""The LIF step pinned by trajectories computed by hand, in both implementations."""

import numpy as np
import torch

from qsnn_mem.tasks.smile import kernels
from qsnn_mem.tasks.smile.neuron import LIFParams, LIFState, lif_step

H = [1.0, 0.0, 0.0, 0.0, 0.0]


def run_spec(p: LIFParams):
    state = LIFState(torch.zeros(1), torch.zeros(1))
    spikes, syn, mem = [], [], []
    for h in H:
        spk, state = lif_step(torch.tensor([h]), state, p)
        spikes.append(float(spk))
        syn.append(float(state.syn))
        mem.append(float(state.mem))
    return spikes, syn, mem


def run_kernel(p: LIFParams):
    # An identity input raster injects h_t at step t through weight row t.
    spk_in = np.eye(len(H), dtype=np.float32)
    w = np.array(H, dtype=np.float32)[:, None]
    qstep = 0.0 if p.state_bits is None else float(2 ** (p.state_bits - 1))
    spk, _, _, _, _ = kernels.lif_forward(
        spk_in, w, p.alpha, p.beta, p.threshold, p.reset, qstep, p.syn_delay
    )
    return spk[:, 0].tolist()


def test_float_trajectory_by_hand():
    # alpha = beta = 0.5, threshold 0.9, reset 1, membrane fed by the previous syn:
    # t=0: v=-0.9        syn1=1      mem1=0
    # t=1: v=-0.9        syn2=0.5    mem2=0+1=1
    # t=2: v=0.1 spike   syn3=0.25   mem3=0.5+0.5-1=0
    # t=3: v=-0.9        syn4=0.125  mem4=0+0.25=0.25
    # t=4: v=-0.65       syn5=0.0625 mem5=0.125+0.125=0.25
    p = LIFParams(alpha=0.5, beta=0.5, state_bits=None, error_bits=None)
    spikes, syn, mem = run_spec(p)
    assert spikes == [0, 0, 1, 0, 0]
    assert syn == [1.0, 0.5, 0.25, 0.125, 0.0625]
    assert mem == [0.0, 1.0, 0.0, 0.25, 0.25]
    assert run_kernel(p) == spikes


def test_without_synaptic_delay_the_spike_comes_a_step_earlier():
    # mem_{t+1} = beta*mem_t + syn_{t+1} - reset*s_t:
    # t=0: syn1=1 mem1=1; t=1: v=0.1 spike, syn2=0.5, mem2=0.5+0.5-1=0; ...
    p = LIFParams(alpha=0.5, beta=0.5, syn_delay=False, state_bits=None, error_bits=None)
    spikes, _, mem = run_spec(p)
    assert spikes == [0, 1, 0, 0, 0]
    assert mem[:3] == [1.0, 0.0, 0.25]
    assert run_kernel(p) == spikes


def test_three_state_bits_cannot_reach_the_threshold():
    # Grid 1/4, range +-0.75: syn1=Q(1)=0.75, syn2=Q(0.375)=0.5 (half to even),
    # mem2=Q(0.75)=0.75, mem3=Q(0.375+0.5)=0.75: the membrane saturates below 0.9.
    p = LIFParams(alpha=0.5, beta=0.5, state_bits=3, error_bits=None)
    spikes, syn, mem = run_spec(p)
    assert spikes == [0, 0, 0, 0, 0]
    assert syn[:3] == [0.75, 0.5, 0.25]
    assert mem[:3] == [0.0, 0.75, 0.75]
    assert run_kernel(p) == spikes
