"""The contenders: the same work of a case done four ways, each a ``step()`` returning its outputs.

``naive``         the lecture's equations as plain loops (the ``*_reference`` functions beside the kernels) on the
                  first ``case.naive_n`` examples; the time is scaled to the full batch (the loops
                  are exactly linear in N).  For the LeNet step the convolutions and subsampling
                  run through the loops, the dense layers, loss and SGD through NumPy.
``numpy``         the vectorised baseline of :mod:`.baseline`.
``tinygrad_cnn``  this framework through its public API with autograd (graph building included).
``torch``         PyTorch on the CPU with autograd; C3's weight is masked by the table inside the
                  timed step (the autograd way to get exactly-zero gradients off the table).

Each module is imported only by the process that times it (see :mod:`.worker`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..kernels import conv_reference as RC
from ..kernels import pool_reference as RP
from .cases import c3_table

NAMES = ("naive", "numpy", "tinygrad_cnn", "torch")
LR, MOMENTUM = 0.01, 0.9


@dataclass
class Step:
    run: Callable[[], tuple]  # one forward + backward (or training step); returns the outputs to check
    scale: float = 1.0  # measured seconds × scale = the reported time (naive extrapolation)
    label: str = ""


def build(case, name: str, batch: int | None = None) -> Step:
    """The ``name`` contender's step for ``case`` (on the first ``batch`` examples if given)."""
    if name == "naive":
        batch = case.naive_n
    data = case.inputs(batch)
    run = {"naive": _naive, "numpy": _numpy, "tinygrad_cnn": _ours, "torch": _torch}[name](case, data)
    if name != "naive" or batch >= case.batch:
        return Step(run, 1.0, name)
    return Step(run, case.batch / batch, f"naive (extrapolated from N={batch})")


# --------------------------------------------------------------- naive loops
class NaiveOps:
    """LeNet-5's convolution and subsampling through the reference loops (see baseline.LeNet5)."""

    @staticmethod
    def conv(x, w, b, connection=None):
        return RC.conv2d_reference(x, w, b, 1, 0, connection), (x, w, connection)

    @staticmethod
    def conv_backward(dz, cache, need_dx=True):
        return RC.conv2d_backward_reference(cache[0], cache[1], dz, 1, 0, cache[2])

    @staticmethod
    def subsample(x, w):
        return RP.avg_pool2d_reference(x, 2, 2, weight=w), (x, w)

    @staticmethod
    def subsample_backward(dn, cache):
        return RP.avg_pool2d_backward_reference(cache[0], dn, 2, 2, weight=cache[1])


def _naive(case, d):
    conn = case.connection
    if case.kind == "conv":
        def run():
            z = RC.conv2d_reference(d["x"], d["w"], d["b"], 1, case.padding, conn, case.dilation, case.groups)
            dx, dw, _ = RC.conv2d_backward_reference(d["x"], d["w"], d["g"], 1, case.padding, conn, case.dilation, case.groups)
            return z, dx, dw
    elif case.kind == "max":
        def run():
            return RP.max_pool2d_reference(d["x"], case.kernel), RP.max_pool2d_backward_reference(d["x"], d["g"], case.kernel)
    elif case.kind == "avg":
        def run():
            return RP.avg_pool2d_reference(d["x"], case.kernel), RP.avg_pool2d_backward_reference(d["x"], d["g"], case.kernel)
    else:
        return _numpy(case, d, ops=NaiveOps)
    return run


# --------------------------------------------------------------- NumPy
def _numpy(case, d, ops=None):
    from . import baseline as B

    conn = case.connection
    if case.kind == "conv":
        w, g = d["w"], case.groups
        if g > 1:  # groups as a dense weight masked by the block-diagonal connection matrix
            from ..ops.conv import group_connection, regroup, ungroup

            w, conn = ungroup(w, g), group_connection(g, w.shape[0], case.shape[1])

        def run():
            z, cache = B.conv2d(d["x"], w, d["b"], case.padding, conn, case.dilation)
            dx, dw, _ = B.conv2d_backward(d["g"], cache)
            return z, dx, dw if g == 1 else regroup(dw, g)
    elif case.kind == "max":
        def run():
            z, idx = B.max_pool2d(d["x"], case.kernel)
            return z, B.max_pool2d_backward(d["g"], idx, case.kernel)
    elif case.kind == "avg":
        inv = np.float32(1 / case.kernel ** 2)

        def run():
            return B.window_sum(d["x"], case.kernel) * inv, B.window_sum_backward(d["g"] * inv, case.kernel)
    elif case.kind == "lenet":
        net = B.LeNet5(d["state"], c3_table(), LR, MOMENTUM, ops or B.NumpyOps)

        def run():
            loss = net.step(d["x"], d["y"])
            return loss, net.grads["c1.weight"], net.grads["c3.weight"], net.grads["f6.weight"]
    else:  # the matmul peak
        out = np.empty_like(d["a"])

        def run():
            return (np.matmul(d["a"], d["b"], out=out),)
    return run


# --------------------------------------------------------------- tinygrad_cnn
def _ours(case, d):
    from .. import functional as F
    from ..tensor import Tensor

    if case.kind == "lenet":
        from ..models import LeNet5
        from ..optim import SGD

        model = LeNet5()
        model.load_state_dict(d["state"])
        opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        x, y = Tensor(d["x"]), Tensor(d["y"])

        def run():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.data, model.c1.weight.grad, model.c3.weight.grad, model.f6.weight.grad
        return run
    x, conn = Tensor(d["x"], requires_grad=True), case.connection
    if case.kind == "conv":
        w, b = Tensor(d["w"], requires_grad=True), Tensor(d["b"], requires_grad=True)

        def run():
            x.grad = w.grad = b.grad = None
            z = F.conv2d(x, w, b, padding=case.padding, dilation=case.dilation, groups=case.groups, connection=conn)
            z.backward(d["g"])
            return z.data, x.grad, w.grad
        return run
    pool = F.max_pool2d if case.kind == "max" else F.avg_pool2d

    def run():
        x.grad = None
        z = pool(x, case.kernel)
        z.backward(d["g"])
        return z.data, x.grad
    return run


# --------------------------------------------------------------- PyTorch
def _torch(case, d):
    import torch
    import torch.nn.functional as TF

    if case.kind == "lenet":
        net = _torch_lenet(d["state"])
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
        x, y = torch.tensor(d["x"]), torch.tensor(d["y"])

        def run():
            opt.zero_grad(set_to_none=True)
            loss = TF.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss, net.c1_weight.grad, net.c3_weight.grad, net.f6_weight.grad
        return run
    x, g = torch.tensor(d["x"], requires_grad=True), torch.tensor(d["g"])
    if case.kind == "conv":
        w, b = torch.tensor(d["w"], requires_grad=True), torch.tensor(d["b"], requires_grad=True)
        mask = None if case.connection is None else torch.tensor(case.connection)[:, :, None, None]

        def run():
            x.grad = w.grad = b.grad = None
            z = TF.conv2d(x, w if mask is None else w * mask, b, padding=case.padding, dilation=case.dilation,
                          groups=case.groups)
            z.backward(g)
            return z, x.grad, w.grad
        return run
    pool = TF.max_pool2d if case.kind == "max" else TF.avg_pool2d

    def run():
        x.grad = None
        z = pool(x, case.kernel)
        z.backward(g)
        return z, x.grad
    return run


def _torch_lenet(state):
    """LeNet-5 in PyTorch with our model's layers and weights: S2/S4 as avg_pool·4·w + b, C3's
    weight masked by the table, LeCun's scaled tanh (:class:`tinygrad_cnn.nn.ScaledTanh`)."""
    import torch
    import torch.nn.functional as TF

    from ..nn import ScaledTanh

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for k, v in state.items():
                self.register_parameter(k.replace(".", "_"), torch.nn.Parameter(torch.tensor(v)))
            self.register_buffer("mask", torch.tensor(c3_table())[:, :, None, None])

        def sub(self, t, name):
            w, b = getattr(self, name + "_weight"), getattr(self, name + "_bias")
            return TF.avg_pool2d(t, 2) * (4 * w.view(1, -1, 1, 1)) + b.view(1, -1, 1, 1)

        def forward(self, x):
            def act(t):
                return ScaledTanh.A * torch.tanh(t * ScaledTanh.S)

            x = act(self.sub(TF.conv2d(x, self.c1_weight, self.c1_bias), "s2"))
            x = act(self.sub(TF.conv2d(x, self.c3_weight * self.mask, self.c3_bias), "s4"))
            x = act(TF.conv2d(x, self.c5_weight, self.c5_bias)).flatten(1)  # vec of 1×1 maps
            x = act(TF.linear(x, self.f6_weight, self.f6_bias))
            return TF.linear(x, self.output_weight, self.output_bias)

    return Net()
