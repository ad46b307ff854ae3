"""What is timed: the cases, their inputs and their floating-point work.

Every case is one forward AND backward pass in float32 (the output, then a fixed random
upstream gradient propagated back to dx and dW), or for ``lenet_step`` one training step of
LeNet-5 (forward, cross-entropy, backward, momentum SGD).  ``tiny`` variants of the same
cases run in seconds; they exist to test the harness, their timings mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Case", "CASES", "PEAK", "select", "c3_table"]


def c3_table() -> np.ndarray:
    """LeNet-5's C3 connection matrix (Table I), the model's own, as float32."""
    from ..models import C3_TABLE

    return np.asarray(C3_TABLE, np.float32)


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    kind: str  # "conv", "max", "avg", "lenet" or "matmul"
    shape: tuple  # input (N, C, H, W); (n, n) for "matmul"
    out_channels: int = 0
    kernel: int = 0  # conv kernel or pooling window (stride = window)
    padding: int = 0
    table: bool = False  # C3's connection matrix (LeNet-5, Table I)
    dilation: int = 1  # conv: taps this far apart
    groups: int = 1  # conv: weight (O, C/groups, k, k), each output map sees its group's inputs
    naive_n: int = 1  # batch the naive loops run on (their time is scaled to the full batch)
    slow_naive: bool = False  # one naive call takes about half a minute: --quick leaves it out
    seed: int = 0

    @property
    def batch(self) -> int:
        return self.shape[0]

    @property
    def connection(self):
        return c3_table() if self.table else None

    @property
    def detail(self) -> str:
        shape = "×".join(map(str, self.shape))
        if self.kind == "conv":
            k = self.kernel
            text = f"{shape} → {self.out_channels}@{k}×{k}" + (f", padding {self.padding}" if self.padding else "")
            text += (f", dilation {self.dilation}" if self.dilation > 1 else "") + (
                f", {self.groups} groups" if self.groups > 1 else "")
            return text + (f", connection table ({int(self.connection.sum())} of "
                           f"{self.out_channels * self.shape[1]} pairs)" if self.table else "")
        if self.kind in ("max", "avg"):
            return f"{shape}, {self.kernel}×{self.kernel} window, stride {self.kernel}"
        if self.kind == "lenet":
            return f"batch {self.batch}: forward, cross-entropy, backward, SGD (momentum 0.9)"
        return f"{shape} float32 matmul"

    @property
    def conv_out(self) -> tuple:
        """(Ho, Wo) of a conv case (stride 1)."""
        H, W = self.shape[2:]
        extent = self.dilation * (self.kernel - 1)
        return H + 2 * self.padding - extent, W + 2 * self.padding - extent

    def conv_macs(self) -> int:
        N, C, H, W = self.shape
        Ho, Wo = self.conv_out
        pairs = int(self.connection.sum()) if self.table else C * self.out_channels // self.groups
        return N * Ho * Wo * self.kernel ** 2 * pairs

    @property
    def flops(self) -> float:
        """Useful floating-point work of one call (2 per multiply-add)."""
        if self.kind == "conv":  # forward + dx + dW
            return 6.0 * self.conv_macs()
        if self.kind in ("max", "avg"):  # one op per window element forward, one backward
            return 2.0 * float(np.prod(self.shape))
        if self.kind == "lenet":  # forward + dW + dx per conv/linear layer, no dx for C1
            layers = [(6 * 28 * 28 * 25, 2), (int(c3_table().sum()) * 10 * 10 * 25, 3), (120 * 16 * 25, 3),
                      (120 * 84, 3), (84 * 10, 3)]
            return float(sum(2 * self.batch * macs * passes for macs, passes in layers))
        return 2.0 * self.shape[0] ** 3

    @property
    def flops_note(self) -> str:
        return {"conv": "2·MACs forward + 2·MACs dx + 2·MACs dW"
                        + (", connected pairs only" if self.table else ""),
                "max": "1 op per window element forward + 1 backward (memory-bound)",
                "avg": "1 op per window element forward + 1 backward (memory-bound)",
                "lenet": "2·MACs per conv/linear layer forward + dW + dx (no dx for C1); "
                         "elementwise ops not counted"}.get(self.kind, "2·MACs")

    def inputs(self, batch: int | None = None) -> dict:
        """The case's float32 data (the first ``batch`` examples), the same in every process."""
        rng = np.random.default_rng(self.seed)
        n = self.batch if batch is None else batch
        if self.kind == "matmul":
            return {"a": rng.standard_normal(self.shape, np.float32),
                    "b": rng.standard_normal(self.shape, np.float32)}
        if self.kind == "lenet":
            from ..models import LeNet5
            from ..nn import manual_seed

            x = rng.standard_normal(self.shape, np.float32)[:n]
            y = rng.integers(0, 10, size=self.batch)[:n]
            manual_seed(self.seed)
            state = {k: np.asarray(v, np.float32) for k, v in LeNet5().state_dict().items()}
            return {"x": x, "y": y, "state": state}
        N, C, H, W = self.shape
        x = rng.standard_normal(self.shape, np.float32)
        if self.kind in ("max", "avg"):
            g = rng.standard_normal((N, C, H // self.kernel, W // self.kernel), np.float32)
            return {"x": x[:n], "g": g[:n]}
        O, k = self.out_channels, self.kernel
        cg = C // self.groups
        w = (rng.standard_normal((O, cg, k, k)) / np.sqrt(cg * k * k)).astype(np.float32)
        if self.table:
            w *= self.connection[:, :, None, None]
        b = rng.standard_normal(O, np.float32)
        g = rng.standard_normal((N, O) + self.conv_out, np.float32)
        return {"x": x[:n], "w": w, "b": b, "g": g[:n]}


def _cases(tiny: bool) -> list:
    n = 2 if tiny else 64
    side = 8 if tiny else 28
    return [
        Case("conv_c1", "conv C1", "conv", (n, 1, 12 if tiny else 32, 12 if tiny else 32), 6, 5, seed=10),
        Case("conv_c3", "conv C3", "conv", (n, 6, 9 if tiny else 14, 9 if tiny else 14), 16, 5,
             table=True, seed=11),
        Case("conv_c3_dense", "conv C3 dense", "conv", (n, 6, 9 if tiny else 14, 9 if tiny else 14), 16, 5,
             seed=18),
        Case("conv_mid", "conv mid", "conv", (2, 4, 8, 8) if tiny else (32, 32, 32, 32), 8 if tiny else 64, 3,
             padding=1, slow_naive=not tiny, seed=12),
        Case("conv_dilated", "conv dilated", "conv", (2, 4, 10, 10) if tiny else (32, 16, 32, 32), 8 if tiny else 32,
             3, padding=2, dilation=2, slow_naive=not tiny, seed=16),
        Case("conv_grouped", "conv grouped", "conv", (2, 4, 8, 8) if tiny else (32, 32, 32, 32), 8 if tiny else 64,
             3, padding=1, groups=4, slow_naive=not tiny, seed=17),
        Case("maxpool", "max pool", "max", (n, 3 if tiny else 16, side, side), kernel=2, seed=13),
        Case("avgpool", "avg pool", "avg", (n, 3 if tiny else 16, side, side), kernel=2, seed=14),
        Case("lenet_step", "LeNet-5 training step", "lenet", (n, 1, 32, 32), naive_n=1 if tiny else 2, seed=15),
    ]


CASES = {False: _cases(False), True: _cases(True)}
#: the machine's float32 matmul rate, the "peak" the GFLOP/s are compared with
PEAK = {False: Case("peak", "float32 matmul peak", "matmul", (1024, 1024), seed=1),
        True: Case("peak", "float32 matmul peak", "matmul", (64, 64), seed=1)}


def select(filters, tiny: bool = False) -> list:
    """The cases named by ``filters`` (all cases when there are none): a filter that is a case's
    key picks that case alone; any other filter picks every case whose key contains it."""
    keys = {c.key for c in CASES[tiny]}
    return [c for c in CASES[tiny]
            if not filters or any(f == c.key or (f not in keys and f in c.key) for f in filters)]
