"""Generate the four teaching notebooks of ``notebooks/`` (and optionally run them).

The notebooks are kept here as plain Python so that a change is a readable diff::

    python notebooks/build_notebooks.py            # write the four .ipynb, without outputs
    python notebooks/build_notebooks.py --execute  # write them and run them, saving the outputs
    python notebooks/build_notebooks.py --execute 03   # only the notebooks whose name contains 03

``--execute`` runs each notebook top to bottom in a fresh ``python3`` kernel (the interpreter
running this script) with the notebooks folder as working directory, and saves the outputs in
the file so that the figures render when the notebook is browsed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


# The first code cell of every notebook: find the package (installed, or the checkout around the
# notebook) and set up inline figures of a moderate size.
SETUP = r'''
%matplotlib inline
import os
import sys
from pathlib import Path

try:
    import tinygrad_cnn
except ImportError:  # a checkout without `pip install -e .`: look for the package above the notebook
    for parent in [Path.cwd(), *Path.cwd().parents]:
        if (parent / "tinygrad_cnn" / "__init__.py").exists():
            sys.path.insert(0, str(parent))
            break
    import tinygrad_cnn

import numpy as np
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "image.interpolation": "nearest"})
np.set_printoptions(precision=4, suppress=True, linewidth=110)
print("tinygrad_cnn", tinygrad_cnn.__version__)
'''


# =============================================================================================
# 01 — convolution and pooling
# =============================================================================================

def notebook_01():
    cells = [
        md(r'''
# 1. Convolution and pooling

This notebook reproduces the pictures of the lecture *Convolution Networks* (Hagan & Jafari,
*Neural Network Design: Deep Learning*, ch. 8, Figs 8.4–8.8) with `tinygrad_cnn`, and checks
every picture against the naive loops of `tinygrad_cnn.reference` — plain Python transcriptions
of the lecture's scalar equations.

The convolution weight function of a layer slides an $r \times c$ kernel $\mathbf W$ over an
$R_r \times R_c$ image $\mathbf V$:

$$z_{i,j} = \sum_{k=1}^{r} \sum_{l=1}^{c} w_{k,l}\, v_{i+k-1,\,j+l-1}
\qquad\text{in matrix form}\qquad \mathbf Z = \mathbf W \circledast \mathbf V .$$

The kernel is **not** flipped (this is what signal processing calls a *cross-correlation*;
PyTorch's `conv2d` computes the same thing). Python counts from 0, so $v_{i+k-1,j+l-1}$ becomes
`V[i + k, j + l]`.

Contents: the lecture's 4×4 example · Square, Diamond and the four kernels · the eight filtered
images · 3×3 max pooling · padding and stride · several feature maps and the connection matrix ·
LeNet-5's C3 table.
'''),
        code(SETUP + r'''
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn import reference as R


def show(ax, img, title="", vmin=None, vmax=None, values=False, cmap="gray", grid=True):
    """One matrix as an image: 1 = white, 0 = black; optional pixel grid and printed values."""
    img = np.asarray(img, dtype=float)
    ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    if grid:
        ax.set_xticks(np.arange(-0.5, img.shape[1]), minor=True)
        ax.set_yticks(np.arange(-0.5, img.shape[0]), minor=True)
        ax.grid(which="minor", color="tab:gray", linewidth=0.4, alpha=0.6)
        ax.tick_params(which="minor", length=0)
    if values:
        lo, hi = (img.min() if vmin is None else vmin), (img.max() if vmax is None else vmax)
        for (i, j), v in np.ndenumerate(img):
            dark = (v - lo) < 0.5 * (hi - lo)
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
'''),
        md(r'''
## 1.1 The lecture's example convolution

A 2×2 anti-diagonal kernel on a 5×5 diamond gives the 4×4 output printed in the lecture. Without
padding the output loses $r-1$ rows and $c-1$ columns: $(5-2+1)\times(5-2+1) = 4\times 4$.

First the definition written out as loops, so there is no doubt about what ⊛ means; then the
framework's `F.conv2d`, which accepts a single matrix `(H, W)` with a kernel `(kh, kw)` exactly
as the lecture writes $\mathbf Z = \mathbf W \circledast \mathbf V$.
'''),
        code(r'''
def conv_by_hand(W, V):
    """Z = W ⊛ V, no padding, stride 1: z[i, j] = Σ_k Σ_l w[k, l] · v[i + k, j + l]."""
    r, c = W.shape
    Z = np.zeros((V.shape[0] - r + 1, V.shape[1] - c + 1))
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] = np.sum(W * V[i:i + r, j:j + c])
    return Z


V = R.small_diamond()
W = R.EXAMPLE_KERNEL
Z = F.conv2d(V, W).numpy()          # a Tensor comes back; .numpy() gives its array
print(Z)

lecture_Z = np.array([[0, 2, 0, 1], [2, 0, 1, 0], [0, 1, 0, 2], [1, 0, 2, 0]])
assert np.array_equal(Z, lecture_Z)              # the lecture's printed output
assert np.array_equal(Z, conv_by_hand(W, V))     # the definition
assert np.array_equal(Z, R.conv2d(V, W))         # the naive reference loops
'''),
        md(r'''
The picture below follows one output element: $z_{1,2}$ (0-based `Z[0, 1]`) is the sum of the
element-wise product of $\mathbf W$ with the 2×2 window of $\mathbf V$ that starts at row 0,
column 1 — here $0\cdot 0 + 1\cdot 1 + 1\cdot 1 + 0\cdot 0 = 2$.
'''),
        code(r'''
from matplotlib.patches import Rectangle

i, j = 0, 1
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [5, 2, 4]})
show(axes[0], V, "input V (5×5)", 0, 1, values=True)
show(axes[1], W, "kernel W (2×2)", 0, 1, values=True)
show(axes[2], Z, "Z = W ⊛ V (4×4)", 0, 2, values=True)
axes[0].add_patch(Rectangle((j - 0.5, i - 0.5), 2, 2, fill=False, edgecolor="tab:red", linewidth=3))
axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="tab:red", linewidth=3))
fig.suptitle(f"z[{i},{j}] = Σ W ∘ V[{i}:{i + 2}, {j}:{j + 2}] = {Z[i, j]:g}")
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 1.2 Square, Diamond and the four kernels

The two 15×15 input images of the figures (1 = white, 0 = black) and the four 3×3 kernels. Each
kernel is a line segment: it responds most where the image has a line in the same direction.
(The names are the book's: its "slash" kernel has its ones on the main diagonal, as drawn.)
'''),
        code(r'''
images = {"Square": R.square(), "Diamond": R.diamond()}
kernels = R.FIGURE_KERNELS          # horizontal, vertical, slash, backslash

fig, axes = plt.subplots(1, 6, figsize=(12, 2.6), gridspec_kw={"width_ratios": [5, 5, 1.6, 1.6, 1.6, 1.6]})
for ax, (name, img) in zip(axes[:2], images.items()):
    show(ax, img, name, 0, 1)
for ax, (name, k) in zip(axes[2:], kernels.items()):
    show(ax, k, name, 0, 1, values=True)
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 1.3 The eight filtered images (Figs 8.6 and 8.7)

$\mathbf Z = \mathbf W \circledast \mathbf V$ with zero padding $P^d = 1$, stride $S^t = 1$, no
bias and no transfer function, so each output is 15×15 like its input. A kernel has three ones,
so the values run from 0 (black) to 3 (white): 3 where the whole segment lies on the image's
line.

* The **horizontal** kernel lights up the top and bottom edges of the square, the **vertical**
  kernel its left and right edges; at the corners they see 2 of the 3 pixels.
* The diamond is made of diagonal lines, so the **slash** and **backslash** kernels give it
  bright edges (each on the two sides that run in its direction), while the horizontal and
  vertical kernels see only isolated pixels (values 1, and 2 at the tips).
'''),
        code(r'''
filtered = {}
for img_name, img in images.items():
    for k_name, k in kernels.items():
        filtered[img_name, k_name] = F.conv2d(img, k, padding=1).numpy()

fig, axes = plt.subplots(2, 4, figsize=(12, 7))
for ax, ((img_name, k_name), z) in zip(axes.ravel(), filtered.items()):
    show(ax, z, f"{k_name} filtered {img_name.lower()}", 0, 3)
fig.suptitle("Z = W ⊛ V, padding 1, stride 1 (black 0 … white 3)")
plt.tight_layout()
plt.show()
'''),
        md(r'''
**Check.** Each image drawn above was computed by the framework's compiled kernel; here it is
compared with the naive reference loops (`reference.conv2d`, the scalar formula as four nested
loops) and with a second, independent computation: pad with zeros by hand and apply the
`conv_by_hand` loop from §1.1.
'''),
        code(r'''
for (img_name, k_name), z in filtered.items():
    img, k = images[img_name], kernels[k_name]
    assert z.shape == (15, 15)
    assert np.array_equal(z, R.conv2d(img, k, padding=1)), (img_name, k_name)
    assert np.array_equal(z, conv_by_hand(k, np.pad(img, 1))), (img_name, k_name)
    assert set(np.unique(z)) <= {0, 1, 2, 3}
print("all eight filtered images equal the reference loops")
'''),
        md(r'''
## 1.4 Max pooling (Fig 8.8)

A pooling layer consolidates each $r \times c$ window into one element. Max pooling keeps the
largest:

$$z_{i,j} = \max\{\, v_{r(i-1)+k,\;c(j-1)+l} \mid k = 1..r,\; l = 1..c \,\}
\qquad \mathbf Z = \operatorname{max}_{r,c}\, \mathbf V .$$

With $3\times 3$ windows and stride 3 (no overlap) a 15×15 filtered image becomes 5×5. The
pooled images keep *where* the strong responses are, at a coarser resolution: the diagonal edge
of the backslash-filtered diamond survives as a diagonal of 3s, the horizontal edges of the
square as rows of 3s.

For comparison, the lecture's **average pooling** sums the window and multiplies by a
(trainable) scalar, $z_{i,j} = w\sum_{k}\sum_{l} v_{r(i-1)+k,\,c(j-1)+l}$, written
$\mathbf Z = w \boxplus^{ave}_{r,c} \mathbf V$; with $w = 1/9$ it is the window mean
(`F.avg_pool2d(x, 3, weight=w)`; without `weight` it is PyTorch's mean pooling).
'''),
        code(r'''
pairs = [("Diamond", "backslash"), ("Square", "horizontal")]
fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
for row, key in zip(axes, pairs):
    z = filtered[key]
    pooled = F.max_pool2d(z, 3).numpy()                        # window 3×3, stride = window
    averaged = F.avg_pool2d(z, 3, weight=Tensor(np.array(1 / 9))).numpy()
    assert pooled.shape == (5, 5)
    assert np.array_equal(pooled, R.max_pool2d(z, 3))          # reference loops
    assert np.array_equal(pooled, z.reshape(5, 3, 5, 3).max(axis=(1, 3)))   # numpy, independently
    assert np.allclose(averaged, R.avg_pool2d(z, 3, weight=[1 / 9]))
    show(row[0], z, f"{key[1]} filtered {key[0].lower()}", 0, 3)
    show(row[1], pooled, "max pooled 3×3, stride 3", 0, 3, values=True)
    show(row[2], averaged, "average pooled, w = 1/9", 0, 3)
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 1.5 Padding and stride

Convolution shrinks the image by $r-1$ rows and $c-1$ columns. Zero padding of width $P^d$
around the image compensates, and a stride $S^t > 1$ moves the kernel $S^t$ steps at a time,
dividing the output size by about $S^t$:

$$\text{output rows} = \left\lfloor \frac{R_r + 2P^d - r}{S^t} \right\rfloor + 1 .$$

For a 3×3 kernel the three usual paddings are *valid* ($P^d = 0$, only windows fully inside the
image), *same* ($P^d = 1$, output as large as the input at stride 1) and *full* ($P^d = r-1 = 2$,
every window that overlaps the image at all). `F.conv2d` takes `padding=` an int, a pair or
one of these names (`'same'` only at stride 1).

In the pictures every output pixel is drawn over the centre of its window in the input (the
dashed frame is the 15×15 input). *Full* reaches one pixel beyond the input on every side,
*valid* stays one pixel inside; at stride 2 each output pixel stands for a 2×2 step — the same
area at half the resolution.
'''),
        code(r'''
img, k = R.square(), kernels["horizontal"]
paddings = [("valid", 0), ("same", 1), ("full", 2)]
fig, axes = plt.subplots(2, 3, figsize=(10, 7))
rows = []
for r_i, stride in enumerate([1, 2]):
    for c_i, (pad_name, p) in enumerate(paddings):
        z = F.conv2d(img, k, stride=stride, padding=p).numpy()
        assert np.array_equal(z, R.conv2d(img, k, stride=stride, padding=p))
        expected = (15 + 2 * p - 3) // stride + 1
        assert z.shape == (expected, expected)
        rows.append((stride, pad_name, p, z.shape))
        ax = axes[r_i, c_i]
        # draw output pixel (i, j) over the centre of its window: row i·S − P + 1 of the input
        c0, n = 1 - p, z.shape[0]
        lo, hi = c0 - stride / 2, c0 + (n - 1) * stride + stride / 2
        ax.imshow(z, cmap="gray", vmin=0, vmax=3, extent=(lo, hi, hi, lo))
        ax.set_xlim(-2, 16)
        ax.set_ylim(16, -2)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"stride {stride}, {pad_name} (P = {p}) → {n}×{n}", fontsize=10)
        ax.add_patch(Rectangle((-0.5, -0.5), 15, 15, fill=False, linestyle="--", edgecolor="tab:blue"))
fig.suptitle("horizontal kernel ⊛ Square: padding (columns) and stride (rows)")
plt.tight_layout()
plt.show()

print("stride  padding   P   output = (15 + 2P - 3) // stride + 1")
for stride, pad_name, p, shape in rows:
    print(f"{stride:>6}  {pad_name:<7} {p:>3}   {shape[0]}×{shape[1]}")
'''),
        md(r'''
Note the stride-2 image with $P^d = 1$: the windows are centred on the even rows of the
input only, and the square's horizontal edges lie on rows 3 and 11, so the horizontal kernel
never sits on them — a large stride can skip a thin feature entirely.

With `'same'` the named padding is identical to `padding=1`, and `'full'` to `padding=2`, for a
3×3 kernel:
'''),
        code(r'''
assert np.array_equal(F.conv2d(img, k, padding="same").numpy(), F.conv2d(img, k, padding=1).numpy())
assert np.array_equal(F.conv2d(img, k, padding="full").numpy(), F.conv2d(img, k, padding=2).numpy())
assert np.array_equal(F.conv2d(img, k, padding="valid").numpy(), F.conv2d(img, k).numpy())
print("named paddings agree with the numeric ones")
'''),
        md(r'''
## 1.6 Several feature maps and the connection matrix

A convolution layer takes a *set* of feature maps (FMs) and produces another set. With $H^{m-1}$
input maps and $H^m$ output maps a fully connected layer has $H^{m-1} H^m$ kernels; the
**connection matrix** $\mathbb C^m$ ($H^m \times H^{m-1}$) keeps only some of them:
$c^m_{h,l} = 1$ when input map $l$ feeds output map $h$. Row $h$ of $\mathbb C^m$ is the set
$C^{m,h}$ and

$$\mathbf Z^{m,h} = \sum_{l \in C^{m,h}} \mathbf W^{m,(h,l)} \circledast \mathbf A^{m-1,l}
\;(+\; b^{m,h}).$$

A small layer: 3 input maps (Square, Diamond and a cross) → 4 output maps. Output map $h$ uses
the $h$-th figure kernel on each of the input maps it is connected to. In `tinygrad_cnn` the
weights are stored as one dense `(O, C, kh, kw)` array and the connection matrix is passed as
`connection=`; unconnected kernels are skipped.
'''),
        code(r'''
cross = np.zeros((15, 15))
cross[7, 3:12] = 1
cross[3:12, 7] = 1
A_prev = np.stack([R.square(), R.diamond(), cross])          # (3, 15, 15): H^{m-1} = 3 maps
in_names = ["Square", "Diamond", "Cross"]
out_names = list(kernels)                                      # 4 output maps
C = np.array([[1, 0, 1],      # map 0 (horizontal) reads Square and Cross
              [1, 0, 1],      # map 1 (vertical)   reads Square and Cross
              [0, 1, 1],      # map 2 (slash)      reads Diamond and Cross
              [0, 1, 0]])     # map 3 (backslash)  reads Diamond only
Wm = np.stack([np.stack([kernels[name]] * 3) for name in out_names])   # (4, 3, 3, 3)

Zm = F.conv2d(A_prev, Wm, padding=1, connection=C).numpy()    # (4, 15, 15)

# the formula, map by map: Z^h = Σ_{l ∈ C^h} W^{(h,l)} ⊛ A^l
for h in range(4):
    Zh = sum(F.conv2d(A_prev[l], Wm[h, l], padding=1).numpy() for l in range(3) if C[h, l])
    assert np.array_equal(Zm[h], Zh)
# = a dense convolution whose kernels are multiplied by the mask, = the reference loops
assert np.array_equal(Zm, F.conv2d(A_prev, Wm * C[:, :, None, None], padding=1).numpy())
assert np.array_equal(Zm, R.conv2d(A_prev[None], Wm, padding=1, connection=C)[0])
print("Z shape", Zm.shape, "- kernels used:", int(C.sum()), "of", C.size)
'''),
        md(r'''
Left: the connection matrix as a heat map (rows: output maps $h$, columns: input maps $l$).
Right: the same wiring drawn between the maps themselves.
'''),
        code(r'''
from matplotlib.patches import ConnectionPatch

fig = plt.figure(figsize=(12, 6.5))
gs = fig.add_gridspec(4, 4, width_ratios=[3.2, 1.3, 2.2, 1.3], wspace=0.3, hspace=0.35)
axC = fig.add_subplot(gs[1:3, 0])
axC.imshow(C, cmap="Blues", vmin=0, vmax=1.3)
for (h, l), v in np.ndenumerate(C):
    axC.text(l, h, str(v), ha="center", va="center", fontsize=12)
axC.set_xticks(range(3), in_names)
axC.set_yticks(range(4), [f"{h}: {n}" for h, n in enumerate(out_names)])
axC.set_xlabel("input map l (layer m-1)")
axC.set_ylabel("output map h (layer m)")
axC.set_title(r"connection matrix $\mathbb{C}^m$")

in_axes = [fig.add_subplot(gs[r, 1]) for r in (0, 1, 2)]
out_axes = [fig.add_subplot(gs[r, 3]) for r in range(4)]
for ax, a, name in zip(in_axes, A_prev, in_names):
    show(ax, a, name, 0, 1, grid=False)
for h, ax in enumerate(out_axes):
    show(ax, Zm[h], f"$Z^{h}$ ({out_names[h]})", 0, 3, grid=False)
for h in range(4):
    for l in range(3):
        if C[h, l]:
            fig.add_artist(ConnectionPatch(xyA=(1.05, 0.5), coordsA=in_axes[l].transAxes,
                                           xyB=(-0.05, 0.5), coordsB=out_axes[h].transAxes,
                                           color="tab:blue", linewidth=1.5, alpha=0.7))
plt.show()
'''),
        md(r'''
Because an unconnected kernel takes no part in the output, its weight gradient is exactly zero —
training never turns it on. (`backward` is the subject of the next notebook.)
'''),
        code(r'''
Wt = Tensor(Wm.copy(), requires_grad=True)
F.conv2d(Tensor(A_prev), Wt, padding=1, connection=C).sum().backward()
dW_norm = np.abs(np.asarray(Wt.grad)).sum(axis=(2, 3))      # (4, 3): size of each kernel's gradient
print(dW_norm)
assert np.all(dW_norm[C == 0] == 0) and np.all(dW_norm[C == 1] > 0)
'''),
        md(r'''
## 1.7 LeNet-5's C3 table

In LeNet-5 (LeCun et al., 1998) layer C3 has 16 feature maps over the 6 maps of S2, connected by
Table I of the paper: maps 0–5 read 3 contiguous S2 maps, 6–11 read 4 contiguous, 12–14 read 4
non-contiguous and map 15 reads all six. The paper's reasons: fewer connections (60 instead of
96 kernels) and broken symmetry, so different maps are forced to learn different features.

The lecture's $\mathbb C^3$ is 16×6 (rows = C3 maps); it is drawn transposed here, as in the
paper (rows = S2 maps, columns = C3 maps).
'''),
        code(r'''
from tinygrad_cnn.models import C3_TABLE, LeNet5

table = R.LENET_C3_TABLE
assert table.shape == (16, 6) and np.array_equal(table, C3_TABLE)
fig, ax = plt.subplots(figsize=(9, 3.4))
ax.imshow(table.T, cmap="Blues", vmin=0, vmax=1.3)
for (l, h), v in np.ndenumerate(table.T):
    if v:
        ax.text(h, l, "X", ha="center", va="center", fontsize=11)
ax.set_xticks(range(16))
ax.set_yticks(range(6))
ax.set_xlabel("C3 feature map h")
ax.set_ylabel("S2 feature map l")
ax.set_title(f"LeNet-5 C3 connection table (Table I): {int(table.sum())} of 96 connections")
plt.tight_layout()
plt.show()

print("inputs per C3 map:", table.sum(axis=1))
c3 = LeNet5().c3
print("C3 trainable parameters:", c3.trainable_parameter_count(), "= 60·25 weights + 16 biases =", 60 * 25 + 16)
assert c3.trainable_parameter_count() == 1516
'''),
        md(r'''
**Summary.** ⊛ slides the kernel over the image without flipping it; padding $P^d$ and stride
$S^t$ set the output size; pooling consolidates windows (max, or $w \cdot$ sum); a layer maps
feature maps to feature maps through a connection matrix. Every image in this notebook was
checked against the lecture's scalar formulas written as loops. Next:
[02_backprop_by_hand.ipynb](02_backprop_by_hand.ipynb) — the backward pass, formula by formula.
'''),
    ]
    return cells


# =============================================================================================
# 02 — backpropagation by hand
# =============================================================================================

def notebook_02():
    cells = [
        md(r'''
# 2. Backpropagation by hand

A tiny convolution network, computed forward and backward **with numpy only**, step by step from
the lecture's formulas — and then compared with what `loss.backward()` of `tinygrad_cnn` gives.
Everything is float64 so the two agree to ~1e-15.

The network (one example):

| layer | operation | shape |
|---|---|---|
| input | $\mathbf A^0 = \mathbf V$ | 8×8 |
| 1: convolution | $\mathbf Z^{1,h} = \mathbf W^{1,h} \circledast \mathbf V$, $\;\mathbf N^{1,h} = \mathbf Z^{1,h} + b^{1,h}$, $\;\mathbf A^{1,h} = \operatorname{tansig}(\mathbf N^{1,h})$ | 2 maps 3×3 → 2×6×6 |
| 2: average pooling | $\mathbf Z^{2,h} = w^{2,h} \boxplus^{ave}_{2,2} \mathbf A^{1,h}$, $\;\mathbf A^{2,h} = \mathbf Z^{2,h}$ | 2×3×3 |
| matrix → vector | $\mathbf p = \operatorname{vec}(\mathbf A^2)$ | 18 |
| 3: linear | $\mathbf n^3 = \mathbf W^3 \mathbf p + \mathbf b^3$, $\;\mathbf a^3 = \mathbf n^3$ | 3 |
| performance | $\hat F = \frac1{3}\sum_i (a^3_i - t_i)^2$ (mean squared error) | scalar |

Notation (the lecture's): $\mathbf{dA} \equiv \partial \hat F/\partial \mathbf A$, and likewise
$\mathbf{dN}, \mathbf{dZ}, \mathbf{dW}, \mathbf{db}$. Across a layer we go
$\mathbf{dA}^m \to \mathbf{dN}^m \to \mathbf{dZ}^m \to \mathbf{dA}^{m-1}$.
'''),
        code(SETUP + r'''
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck
from numpy.lib.stride_tricks import sliding_window_view

rng = np.random.default_rng(0)
V_np = rng.standard_normal((8, 8))                  # input image A^0 = V
W1_np = rng.standard_normal((2, 1, 3, 3)) * 0.5     # two 3×3 kernels W^{1,h}
b1_np = rng.standard_normal(2) * 0.1                # one scalar bias per feature map
w2_np = np.array([0.3, -0.2])                       # pooling weights w^{2,h}
W3_np = rng.standard_normal((3, 18)) * 0.3          # linear layer
b3_np = rng.standard_normal(3) * 0.1
t_np = np.array([1.0, -1.0, 0.5])                   # target
'''),
        md(r'''
## 2.1 The framework: forward and `backward()`

The same network written with `tinygrad_cnn`'s functional API. `V` requires a gradient too, so
that we also get $\mathbf{dA}^0$, the gradient a layer *below* the convolution would receive.
'''),
        code(r'''
def net(V, W1, b1, w2, W3, b3):
    N1 = F.conv2d(V, W1, b1)                 # N^1 = W^1 ⊛ V + b^1      (1, 2, 6, 6)
    A1 = F.tansig(N1)                        # A^1 = tansig(N^1)
    A2 = F.avg_pool2d(A1, 2, weight=w2)      # A^2 = w^2 ⊞ A^1          (1, 2, 3, 3)
    p = F.vec(A2)                            # p = vec(A^2)             (1, 18)
    return p @ W3.T + b3                     # a^3 = W^3 p + b^3        (1, 3)


def leaf(a):
    return Tensor(a.copy(), requires_grad=True)


V, W1, b1, w2, W3, b3 = params = [leaf(a) for a in (V_np[None, None], W1_np, b1_np, w2_np, W3_np, b3_np)]
target = Tensor(t_np[None])
loss = F.mse_loss(net(*params), target)
loss.backward()
print("F̂ =", loss.item())
'''),
        md(r'''
## 2.2 Forward pass in numpy

Helper for the lecture's sliding-window operation: `correlate(K, X)` slides `K` over `X` and sums
the element-wise products, $\text{out}_{u,v} = \sum_i\sum_j k_{i,j}\, x_{u+i-1,\,v+j-1}$. This is
⊛ (and ⋆, below). It is written with `sliding_window_view`, which makes a view of all windows
without copying.
'''),
        code(r'''
def correlate(K, X):
    """K ⊛ X (and K ⋆ X): out[u, v] = Σ_i Σ_j K[i, j] · X[u + i, v + j], every window inside X."""
    windows = sliding_window_view(X, K.shape)          # (X_r - K_r + 1, X_c - K_c + 1, K_r, K_c)
    return np.einsum("uvij,ij->uv", windows, K)


def box_sum(A, r=2, c=2):
    """⊞_{r,c} A: the sum of every non-overlapping r×c block (a (R/r)×(C/c) matrix)."""
    R_, C_ = A.shape
    return A.reshape(R_ // r, r, C_ // c, c).sum(axis=(1, 3))


def vec(maps):
    """Stack the COLUMNS of each map, first map to last (column-major = Fortran order)."""
    return np.concatenate([m.ravel(order="F") for m in maps])


def unvec(v, shape):
    C_, H_, W_ = shape
    return np.stack([v[c * H_ * W_:(c + 1) * H_ * W_].reshape((H_, W_), order="F") for c in range(C_)])


# layer 1: convolution + tansig
Z1 = np.stack([correlate(W1_np[h, 0], V_np) for h in range(2)])      # Z^{1,h} = W^{1,h} ⊛ V
N1 = Z1 + b1_np[:, None, None]                                       # N = Z + b (b scalar per map)
A1 = np.tanh(N1)
# layer 2: lecture-form average pooling
A2 = np.stack([w2_np[h] * box_sum(A1[h]) for h in range(2)])        # Z^{2,h} = w^{2,h} ⊞ A^{1,h}
# matrix → vector, layer 3, performance
p = vec(A2)
a3 = W3_np @ p + b3_np
F_hat = np.mean((a3 - t_np) ** 2)

print("shapes: Z1", Z1.shape, " A2", A2.shape, " p", p.shape, " a3", a3.shape)
print(f"F̂ numpy = {F_hat:.15f}\nF̂ framework = {loss.item():.15f}")
assert np.isclose(F_hat, loss.item(), rtol=1e-13)
assert np.array_equal(p, F.vec(Tensor(A2)).numpy())     # vec: element (c, i, j) → c·H·W + j·H + i
'''),
        md(r'''
## 2.3 Backward pass in numpy, from the lecture's formulas

### Performance and the linear layer

$\hat F = \frac1S \sum_i (a^3_i - t_i)^2$ with $S = 3$ outputs, so
$\mathbf{dn}^3 = \mathbf{da}^3 = \frac2S(\mathbf a^3 - \mathbf t)$ (the transfer function is
linear). For $\mathbf n^3 = \mathbf W^3 \mathbf p + \mathbf b^3$:

$$\mathbf{dW}^3 = \mathbf{dn}^3\, \mathbf p^T, \qquad \mathbf{db}^3 = \mathbf{dn}^3, \qquad
\mathbf{dp} = (\mathbf W^3)^T \mathbf{dn}^3 .$$

$\mathbf{dp}$ is $\mathbf{dA}$ at the output of the pooling layer, still as a vector.
'''),
        code(r'''
dn3 = 2 / a3.size * (a3 - t_np)
dW3 = np.outer(dn3, p)
db3 = dn3
dp = W3_np.T @ dn3
print("dn3 =", dn3)
'''),
        md(r'''
### Vector → matrix

The conversion block only rearranges numbers, so its backward pass is the inverse rearrangement:
$\mathbf{dA}^2 = \operatorname{vec}^{-1}(\mathbf{dp})$ — cut the vector into maps and each map
into columns.
'''),
        code(r'''
dA2 = unvec(dp, (2, 3, 3))
assert np.array_equal(dA2, F.unvec(Tensor(dp), (2, 3, 3)).numpy())
print(dA2)
'''),
        md(r'''
### Across the average-pooling layer

$\mathbf A^2 = \mathbf Z^2$ (no transfer function), so $\mathbf{dZ}^2 = \mathbf{dA}^2$. Each
element of a 2×2 window contributes $w$ times itself to $z_{i,j}$, hence

$$\mathbf{dA}^{1,h} = w^{2,h} \boxtimes^{ave}_{2,2} \mathbf{dZ}^{2,h},$$

where $\boxtimes_{2,2}$ expands every element into a 2×2 block — a Kronecker product with a
block of ones, `np.kron(dZ, np.ones((2, 2)))`. The pooling weight's gradient:

$$dw^{2,h} = \boxplus_{S_r,S_c}\!\left(\mathbf{dZ}^{2,h} \circ (\boxplus^{ave}_{2,2} \mathbf A^{1,h})\right)
= \sum_{i,j} dz^{2,h}_{i,j}\,\Big\{\textstyle\sum_{k,l} a^{1,h}_{2(i-1)+k,\,2(j-1)+l}\Big\}.$$
'''),
        code(r'''
dZ2 = dA2
dA1 = np.stack([w2_np[h] * np.kron(dZ2[h], np.ones((2, 2))) for h in range(2)])    # (2, 6, 6)
dw2 = np.array([np.sum(dZ2[h] * box_sum(A1[h])) for h in range(2)])
print("dw2 =", dw2)
'''),
        md(r'''
### Across the transfer function and the summation

$$\mathbf{dN}^{1,h} = \dot{\mathbf F}^{1,h} \circ \mathbf{dA}^{1,h},$$

with $\circ$ the Hadamard (element-wise) product and $\dot{\mathbf F}$ the derivative of the
transfer function at every element; for tansig $\dot f(n) = 1 - \tanh^2(n) = 1 - a^2$. The net
input is a plain sum $\mathbf N = \mathbf Z + b$, so

$$\mathbf{dZ}^{1,h} = \mathbf{dN}^{1,h}, \qquad db^{1,h} = \boxplus_{S_r,S_c}\mathbf{dN}^{1,h} = \sum_{i,j} dn^{1,h}_{i,j}.$$
'''),
        code(r'''
F_dot = 1 - A1 ** 2
dN1 = F_dot * dA1
dZ1 = dN1
db1 = dN1.sum(axis=(1, 2))
print("db1 =", db1)
'''),
        md(r'''
### Across the convolution weight function

The weight gradient correlates the input with $\mathbf{dZ}$ (a 6×6 "kernel" sliding over the
8×8 input gives 3×3, the kernel's size):

$$dw^{1,h}_{u,v} = \sum_{i}\sum_{j} dz^{1,h}_{i,j}\, v_{u+i-1,\,v+j-1}
\qquad\Longleftrightarrow\qquad \mathbf{dW}^{1,h} = \mathbf{dZ}^{1,h} \star \mathbf V .$$

The input gradient is a **full** correlation with the kernel rotated by 180°: every input pixel
$v_{i,j}$ was used by every output $z_{u,v}$ whose window covered it, with weight
$w_{i-u+1,\,j-v+1}$:

$$da^{0}_{i,j} = \sum_h \sum_u \sum_v dz^{1,h}_{u,v}\, w^{1,h}_{i-u+1,\,j-v+1}
\qquad\Longleftrightarrow\qquad \mathbf{dA}^{0} = \sum_h \operatorname{rot180}(\mathbf W^{1,h}) \star \mathbf{dZ}^{1,h},$$

"full" meaning $\mathbf{dZ}$ is first padded with $r-1$ rows and $c-1$ columns of zeros on each
side, so the result has the input's size: $6 + 2\cdot 2 - 3 + 1 = 8$.
'''),
        code(r'''
def rot180(K):
    return K[::-1, ::-1]


dW1 = np.stack([correlate(dZ1[h], V_np) for h in range(2)])[:, None]           # (2, 1, 3, 3)
dA0 = sum(correlate(rot180(W1_np[h, 0]), np.pad(dZ1[h], 2)) for h in range(2))  # (8, 8)

# the same dA^0 from the scalar formula, as loops (0-based: w[i - u, j - v])
dA0_loops = np.zeros((8, 8))
for h in range(2):
    for i in range(8):
        for j in range(8):
            for u in range(6):
                for v in range(6):
                    if 0 <= i - u < 3 and 0 <= j - v < 3:
                        dA0_loops[i, j] += dZ1[h, u, v] * W1_np[h, 0, i - u, j - v]
assert np.allclose(dA0, dA0_loops, rtol=0, atol=1e-14)
assert np.array_equal(rot180(W1_np[0, 0]), F.rot180(Tensor(W1_np[0, 0])).numpy())
print("dW1 shape", dW1.shape, " dA0 shape", dA0.shape)
'''),
        md(r'''
## 2.4 The hand-computed gradients equal `loss.backward()`
'''),
        code(r'''
def compare(name, by_hand, framework):
    framework = np.asarray(framework).reshape(by_hand.shape)
    diff = np.max(np.abs(by_hand - framework))
    ok = np.allclose(by_hand, framework, rtol=1e-10, atol=1e-12)
    print(f"{name:<14} {str(by_hand.shape):<14} allclose={ok}   max |difference| = {diff:.2e}")
    assert ok, name


compare("dW^3", dW3, W3.grad)
compare("db^3", db3, b3.grad)
compare("dw^2 (pool)", dw2, w2.grad)
compare("dW^1 (conv)", dW1, W1.grad)
compare("db^1", db1, b1.grad)
compare("dA^0 = dV", dA0, V.grad)
'''),
        md(r'''
A picture of the backward flow for feature map 0: from $\mathbf{dA}^2$ (3×3) the pooling rule
expands to $\mathbf{dA}^1$ (6×6, constant 2×2 blocks scaled by $w$), the Hadamard product with
$\dot{\mathbf F}$ gives $\mathbf{dN}^1 = \mathbf{dZ}^1$, and the full correlation with the rotated
kernel spreads it back over the 8×8 input (both maps summed). Red is positive, blue negative.
'''),
        code(r'''
panels = [(dA2[0], "dA² (map 0)"), (dA1[0], "dA¹ = w ⊠ dZ²"), (F_dot[0], "Ḟ = 1 − (A¹)²"),
          (dN1[0], "dN¹ = Ḟ ∘ dA¹ = dZ¹"), (dW1[0, 0], "dW¹ = dZ¹ ⋆ V"),
          (dA0, "dA⁰ = Σ rot180(W) ⋆ dZ¹")]
fig, axes = plt.subplots(1, 6, figsize=(15, 3))
for ax, (m, title) in zip(axes, panels):
    lim = np.abs(m).max()
    cmap, vmin = ("RdBu_r", -lim) if title[0] != "Ḟ" else ("viridis", 0)
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=lim)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 2.5 The same with cross-entropy

Only the first step changes. For logits $\mathbf n^3$ and a class label $y$, cross-entropy
$\hat F = -\log \operatorname{softmax}(\mathbf n^3)_y$ has
$\mathbf{dn}^3 = \operatorname{softmax}(\mathbf n^3) - \mathbf e_y$; everything below the linear
layer is the chain of §2.3, collected here in one function.
'''),
        code(r'''
def backward_by_hand(dn3):
    """The chain of §2.3 from dn^3 down to the parameters and the input."""
    dA2 = unvec(W3_np.T @ dn3, (2, 3, 3))
    dA1 = np.stack([w2_np[h] * np.kron(dA2[h], np.ones((2, 2))) for h in range(2)])
    dN1 = (1 - A1 ** 2) * dA1
    return {
        "dW^3": np.outer(dn3, p), "db^3": dn3,
        "dw^2 (pool)": np.array([np.sum(dA2[h] * box_sum(A1[h])) for h in range(2)]),
        "dW^1 (conv)": np.stack([correlate(dN1[h], V_np) for h in range(2)])[:, None],
        "db^1": dN1.sum(axis=(1, 2)),
        "dA^0 = dV": sum(correlate(rot180(W1_np[h, 0]), np.pad(dN1[h], 2)) for h in range(2)),
    }


label = 2
for t in params:
    t.grad = None                      # gradients accumulate: clear them first
ce = F.cross_entropy(net(*params), np.array([label]))
ce.backward()

softmax = np.exp(a3 - a3.max()) / np.exp(a3 - a3.max()).sum()
print(f"F̂ numpy = {-np.log(softmax[label]):.15f}   F̂ framework = {ce.item():.15f}")
grads = backward_by_hand(softmax - np.eye(3)[label])
for (name, g), t in zip(grads.items(), [W3, b3, w2, W1, b1, V]):
    compare(name, g, t.grad)
'''),
        md(r'''
## 2.6 `gradcheck` on the whole network

Finally an independent check that needs no formula at all: `gradcheck` perturbs every element of
every input by $\pm\varepsilon$ ($\varepsilon = 10^{-6}$) and compares the central difference
$(\hat F(x+\varepsilon) - \hat F(x-\varepsilon))/2\varepsilon$ with the analytic gradient —
here for all 64 + 18 + 2 + 2 + 54 + 3 = 143 numbers of the network, with both losses.
'''),
        code(r'''
def mse_of_net(*xs):
    return F.mse_loss(net(*xs), target)


def ce_of_net(*xs):
    return F.cross_entropy(net(*xs), np.array([label]))


print("elements checked:", sum(t.data.size for t in params))
print("mse:", gradcheck(mse_of_net, params))
print("cross-entropy:", gradcheck(ce_of_net, params))
'''),
        md(r'''
**Summary.**

| across | rule | numpy |
|---|---|---|
| linear layer | $\mathbf{dW} = \mathbf{dn}\,\mathbf p^T$, $\mathbf{dp} = \mathbf W^T \mathbf{dn}$ | `np.outer`, `W.T @ dn` |
| vec | $\mathbf{dA} = \operatorname{vec}^{-1}(\mathbf{dp})$ | `reshape(..., order="F")` |
| average pooling | $\mathbf{dA} = w \boxtimes \mathbf{dZ}$, $dw = \boxplus(\mathbf{dZ} \circ \boxplus \mathbf A)$ | `np.kron`, block sums |
| transfer function | $\mathbf{dN} = \dot{\mathbf F} \circ \mathbf{dA}$ | `(1 - A**2) * dA` |
| summation | $\mathbf{dZ} = \mathbf{dN}$, $db = \sum \mathbf{dN}$ | `dN.sum()` |
| convolution | $\mathbf{dW} = \mathbf{dZ} \star \mathbf V$, $\mathbf{dA}^{m-1} = \sum_h \operatorname{rot180}(\mathbf W) \star \mathbf{dZ}$ (full) | `correlate`, `np.pad` |

`tinygrad_cnn` implements exactly these rules (see `tinygrad_cnn/ops/` and the loops in
`tinygrad_cnn/reference.py`), compiled with Numba and batched. Next:
[03_lenet5_digits.ipynb](03_lenet5_digits.ipynb) — a real network trained with them.
'''),
    ]
    return cells


# =============================================================================================
# 03 — LeNet-5 on the digits
# =============================================================================================

def notebook_03():
    cells = [
        md(r'''
# 3. LeNet-5 on handwritten digits

LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) is the network the lecture's notation was made
for: convolution layers, trainable average-pooling ("subsampling") layers, a connection matrix
and a final vec + dense layers.

```
input 1×32×32
C1  conv 6 maps 5×5                           → 6×28×28
S2  w^h·⊞₂ₓ₂ + b^h, then 1.7159·tanh(2n/3)     → 6×14×14
C3  conv 16 maps 5×5, connection table C^3    → 16×10×10
S4  like S2                                   → 16×5×5
C5  conv 120 maps 5×5, squashing              → 120×1×1
vec                                           → 120
F6  linear 84, squashing                      → 84
out linear 10 (logits for softmax cross-entropy)
```

The data are the 1,797 8×8 handwritten digits that scikit-learn ships (no download), enlarged to
32×32 by bilinear interpolation and split into a fixed training and test set. Training takes
well under two minutes on two cores.
'''),
        code(SETUP + r'''
import time

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, no_grad, nn, optim
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.models import LeNet5
from tinygrad_cnn.train import cosine_schedule, evaluate, fit, plot_history, random_affine

# fewer epochs for a quick run (the test suite sets 2): TINYGRAD_CNN_NOTEBOOK_EPOCHS=2
EPOCHS = int(os.environ.get("TINYGRAD_CNN_NOTEBOOK_EPOCHS", "25"))
print("epochs:", EPOCHS)
'''),
        md(r'''
## 3.1 The data
'''),
        code(r'''
x_train, y_train, x_test, y_test = load_digits(size=32)
x8, _, _, _ = load_digits(size=8)
print("train", x_train.shape, x_train.dtype, " test", x_test.shape)
print("images per class (train):", np.bincount(y_train))

fig, axes = plt.subplots(2, 10, figsize=(12, 2.9))
for d in range(10):
    idx = np.flatnonzero(y_train == d)[0]
    axes[0, d].imshow(x8[idx, 0], cmap="gray_r")
    axes[1, d].imshow(x_train[idx, 0], cmap="gray_r", interpolation="bilinear")
    axes[0, d].set_title(str(d))
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("8×8")
axes[1, 0].set_ylabel("32×32")
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 3.2 The model

`model.trainable_parameter_count()` counts only the free numbers: C3 stores a dense
`(16, 6, 5, 5)` weight array but only the 60 connected kernels of the table are trainable (the
others stay 0 and get exactly zero gradient).
'''),
        code(r'''
nn.manual_seed(0)
model = LeNet5()
print(model)
c1_before = model.c1.weight.numpy().copy()
'''),
        md(r'''
## 3.3 Training

`train.fit` runs the usual loop: for each mini-batch, forward, cross-entropy, `backward()` and an
SGD step; after each epoch it evaluates on the test set. Every gradient in it is computed by the
rules of notebook 2. The recipe is the one `python -m tinygrad_cnn train` uses by default: SGD
with momentum 0.9 and a little weight decay, a learning rate that decays along a cosine, and every
training image slightly rotated, scaled and shifted at random each time it is seen (1,438 images
are few; the distortions keep the network from memorising them).
'''),
        code(r'''
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
t0 = time.perf_counter()
history = fit(model, opt, x_train, y_train, x_test, y_test, epochs=EPOCHS, batch_size=32, seed=0,
              augment=random_affine(), lr_schedule=cosine_schedule(0.05, EPOCHS), progress=False)
print(f"trained {EPOCHS} epochs in {time.perf_counter() - t0:.1f} s")
'''),
        code(r'''
plot_history(history, title=f"LeNet-5 on the digits ({EPOCHS} epochs)")
'''),
        md(r'''
## 3.4 The learned C1 filters

The six 5×5 kernels $\mathbf W^{1,h}$ of C1 before and after training, and the change (each row
on its own colour scale, red positive, blue negative). They move less than one might expect: a
few epochs of small steps are enough, because the layers after C1 adapt to whatever the
first-layer filters compute. The change itself is smooth and oriented: what training adds are
edge and stroke detectors, like the hand-made line kernels of notebook 1.
'''),
        code(r'''
c1_after = model.c1.weight.numpy()
fig, axes = plt.subplots(3, 6, figsize=(10, 5.6))
rows = [(c1_before, "initial"), (c1_after, "trained"), (c1_after - c1_before, "change")]
for row, (weights, when) in enumerate(rows):
    lim = np.abs(weights).max()
    for h in range(6):
        k = weights[h, 0]
        axes[row, h].imshow(k, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[row, h].set_xticks([])
        axes[row, h].set_yticks([])
        axes[row, h].set_title(f"{when} $W^{{1,{h}}}$", fontsize=9)
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 3.5 One digit through every layer

The layers of the model are ordinary modules, so the forward pass can be replayed one step at a
time (under `no_grad`, which records no graph) and every set of feature maps drawn.
'''),
        code(r'''
idx = 0
x = Tensor(x_test[idx:idx + 1])
with no_grad():
    c1 = model.c1(x)                         # 6×28×28
    s2 = model.squash(model.s2(c1))          # 6×14×14
    c3 = model.c3(s2)                        # 16×10×10
    s4 = model.squash(model.s4(c3))          # 16×5×5
    c5 = model.squash(model.c5(s4))          # 120×1×1
    f6 = model.squash(model.f6(F.vec(c5)))   # 84
    logits = model.output(f6)                # 10
    assert np.allclose(logits.numpy(), model(x).numpy())
probs = F.softmax(logits).numpy()[0]

layers = [("C1", c1), ("S2", s2), ("C3", c3), ("S4", s4)]
fig = plt.figure(figsize=(12, 10.5))
gs = fig.add_gridspec(8, 8, hspace=0.5)
ax = fig.add_subplot(gs[0:2, 0:2])
ax.imshow(x.numpy()[0, 0], cmap="gray_r")
ax.set_title(f"input (label {y_test[idx]})")
ax.axis("off")
ax = fig.add_subplot(gs[0:2, 3:8])
ax.bar(range(10), probs)
ax.set_xticks(range(10))
ax.set_title("softmax of the output")
row = 2
for name, t in layers:
    maps = t.numpy()[0]
    for h in range(maps.shape[0]):
        r, c = divmod(h, 8) if maps.shape[0] > 6 else (0, h)
        a = fig.add_subplot(gs[row + r, c])
        a.imshow(maps[h], cmap="viridis")
        a.set_xticks([])
        a.set_yticks([])
        if h == 0:
            a.set_ylabel(f"{name}\n{maps.shape[1]}×{maps.shape[2]}", rotation=0, ha="right", va="center")
    row += 1 if maps.shape[0] <= 8 else 2
plt.show()

fig, axes = plt.subplots(2, 1, figsize=(12, 1.6))
axes[0].imshow(c5.numpy().reshape(1, 120), cmap="RdBu_r", vmin=-1.8, vmax=1.8, aspect="auto")
axes[0].set_ylabel("C5", rotation=0, ha="right")
axes[1].imshow(f6.numpy().reshape(1, 84), cmap="RdBu_r", vmin=-1.8, vmax=1.8, aspect="auto")
axes[1].set_ylabel("F6", rotation=0, ha="right")
for a in axes:
    a.set_yticks([])
plt.show()
'''),
        md(r'''
C1 responds to strokes of the digit in different directions; S2 is the same at half the
resolution; C3's maps each combine the S2 maps listed in its row of the connection table; S4
halves again, and C5 (120 numbers) and F6 (84) are the vector the classifier reads.

## 3.6 Confusion matrix and mistakes
'''),
        code(r'''
with no_grad():
    pred = np.concatenate([model(Tensor(x_test[i:i + 256])).numpy().argmax(axis=1)
                           for i in range(0, len(x_test), 256)])
test_loss, test_acc = evaluate(model, x_test, y_test)
assert np.isclose(test_acc, np.mean(pred == y_test))
print(f"test accuracy {test_acc:.4f} ({np.sum(pred != y_test)} of {len(y_test)} wrong), test loss {test_loss:.4f}")

confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, pred), 1)
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.imshow(confusion, cmap="Blues")
for (i, j), v in np.ndenumerate(confusion):
    if v:
        ax.text(j, i, str(v), ha="center", va="center", fontsize=9,
                color="white" if v > confusion.max() / 2 else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted")
ax.set_ylabel("true")
ax.set_title("confusion matrix (test set)")
plt.show()
'''),
        code(r'''
wrong = np.flatnonzero(pred != y_test)
print(f"{len(wrong)} misclassified test images" + (", the first 16:" if len(wrong) > 16 else ":"))
if len(wrong):
    with no_grad():
        p_wrong = F.softmax(model(Tensor(x_test[wrong]))).numpy()
    n = min(len(wrong), 16)
    fig, axes = plt.subplots(1 if n <= 8 else 2, 8, figsize=(12, 1.9 if n <= 8 else 3.8), squeeze=False)
    for a in axes.ravel():
        a.axis("off")
    for a, k, pw in zip(axes.ravel(), wrong[:n], p_wrong[:n]):
        a.imshow(x_test[k, 0], cmap="gray_r")
        a.set_title(f"true {y_test[k]} → {pred[k]}\n({pw[pred[k]]:.2f})", fontsize=9)
    plt.tight_layout()
    plt.show()
'''),
        md(r'''
Without the random distortions (`augment=None`) the training accuracy reaches 100 % within a few
epochs while the test accuracy levels off a few per cent lower: with only 1,438 training images the
network memorises them. Weight decay, distorted copies of the images and a decaying learning rate
push the test accuracy to about 98.5 %; more data (MNIST through `tinygrad_cnn.data.load_mnist`)
works with the same code. From the command line: `python -m tinygrad_cnn train` (see `--help`).

Next: [04_speed.ipynb](04_speed.ipynb) — how fast these rules run.
'''),
    ]
    return cells


# =============================================================================================
# 04 — speed
# =============================================================================================

def notebook_04():
    cells = [
        md(r'''
# 4. How fast is it?

`tinygrad_cnn` computes the lecture's rules with Numba-compiled loops. This notebook runs the
project's benchmark suite (`python -m tinygrad_cnn bench`) in quick mode and compares four ways
of doing the same work:

* **naive** — `tinygrad_cnn.reference`, the lecture's scalar formulas as plain Python loops
  (timed on 1–2 examples and scaled to the full batch, since it is linear in the batch size);
* **numpy** — a vectorised numpy baseline (im2col + one BLAS matrix product per convolution);
* **tinygrad_cnn** — this framework through its public API, autograd included;
* **torch** — PyTorch on the CPU, when installed.

Every case is one forward **and** backward pass in float32.
'''),
        code(SETUP + r'''
import json
import subprocess
import tempfile
import time

from IPython.display import Markdown, display

ROOT = Path(tinygrad_cnn.__file__).resolve().parents[1]
# TINYGRAD_CNN_NOTEBOOK_QUICK=1 (the test suite) runs a smaller selection with fewer repeats
SMOKE = os.environ.get("TINYGRAD_CNN_NOTEBOOK_QUICK", "") not in ("", "0")
args = ["--quick"]
if SMOKE:
    args += ["--only", "conv_c1,maxpool,lenet", "--repeats", "3", "--naive-budget", "1"]
print("bench arguments:", " ".join(args))
'''),
        md(r'''
## 4.1 Run the suite

The suite runs in a separate Python process (as `python -m tinygrad_cnn bench` would), so its
thread settings stay out of this notebook. It writes `results.json` (every timing sample plus the
machine's description), `results.md` and a chart into `--out`. About a minute on two cores.
'''),
        code(r'''
out_dir = Path(tempfile.mkdtemp(prefix="tinygrad_cnn_bench_"))
t0 = time.perf_counter()
proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "bench", *args, "--out", str(out_dir)],
                      cwd=ROOT if (ROOT / "tinygrad_cnn").is_dir() else None,
                      capture_output=True, text=True)
print(proc.stdout[-2500:])
if proc.returncode != 0:
    print(proc.stderr[-3000:])
assert proc.returncode == 0, "the benchmark failed or found a mismatch"
print(f"({time.perf_counter() - t0:.0f} s)")

report = json.loads((out_dir / "results.json").read_text())
cases = report["cases"]
'''),
        md(r'''
## 4.2 The table

Times are **medians** in milliseconds. Each case is repeated several times after a warm-up
round (Numba compiles on first use and caches the machine code on disk; the first call of
anything also pays for memory allocation and cache misses), and the contenders are timed
*interleaved* — every repeat times each of them once, in turn — so a noisy neighbour on a shared
machine slows them alike. The median ignores the occasional slow outlier that a mean would
average in.

*ours/torch* is tinygrad_cnn's median divided by PyTorch's (below 1 = faster than PyTorch); the
*speed-up* columns divide the other contender's median by ours. Before timing, each contender's
output and gradients are checked against tinygrad_cnn's, so only equal work is compared.
'''),
        code(r'''
m = report["machine"]
display(Markdown(
    f"{m['cpu_model']}, {m['cpus_usable']} usable CPUs · numpy {m['numpy']}, numba {m['numba']}, "
    f"torch {m['torch'] or 'not installed'} · {report['settings']['threads']} threads each · "
    f"median of {report['settings']['repeats']} repeats · load average {m.get('loadavg_start')}\n\n"
    + report["table"]))
'''),
        md(r'''
## 4.3 The picture

Log scale, because the naive loops are two to three orders of magnitude slower than the rest —
on a linear axis the other three bars would be invisible. Hatched bars are extrapolated from a
smaller batch.
'''),
        code(r'''
contenders = ["naive", "numpy", "tinygrad_cnn", "torch"]
colors = {"naive": "#bbbbbb", "numpy": "#4c72b0", "tinygrad_cnn": "#dd8452", "torch": "#55a868"}
present = [c for c in contenders if any(r["contenders"].get(c, {}).get("median_ms") for r in cases)]
width = 0.8 / len(present)

fig, ax = plt.subplots(figsize=(max(6, 1.7 * len(cases) + 2), 4.6))
for i, c in enumerate(present):
    labelled = False
    for j, r in enumerate(cases):
        entry = r["contenders"].get(c, {})
        if entry.get("median_ms"):
            x = j + (i - (len(present) - 1) / 2) * width
            ax.bar(x, entry["median_ms"], width, color=colors[c], hatch="//" if entry.get("scale", 1) > 1 else None,
                   label=None if labelled else c + (" (extrapolated)" if c == "naive" else ""))
            labelled = True
ax.set_yscale("log")
ax.set_xticks(range(len(cases)), [r["title"] for r in cases], rotation=15, ha="right")
ax.set_ylabel("median ms, forward + backward (log)")
ax.grid(axis="y", which="both", alpha=0.3)
ax.legend()
plt.tight_layout()
plt.show()
'''),
        md(r'''
The ratio to PyTorch per case (the dashed line is parity). PyTorch's CPU convolutions are
hand-tuned C++ (oneDNN) — being within a small factor of it with a few hundred lines of Numba is
the goal, not beating it everywhere.
'''),
        code(r'''
rated = [r for r in cases if r.get("ours_over_torch")]
if rated:
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rated) + 1.2))
    ratios = [r["ours_over_torch"] for r in rated]
    ax.barh(range(len(rated)), ratios, color=["#55a868" if v <= 1 else "#dd8452" for v in ratios])
    ax.axvline(1, color="black", linestyle="--")
    ax.set_yticks(range(len(rated)), [r["title"] for r in rated])
    ax.invert_yaxis()
    ax.set_xlabel("tinygrad_cnn time / PyTorch time (lower is better)")
    for k, v in enumerate(ratios):
        ax.text(v, k, f" {v:.2f}×", va="center")
    plt.tight_layout()
    plt.show()
    gm = report.get("geomean_ours_over_torch")
    if gm:
        print(f"geometric mean of ours/torch over {report['geomean_cases']} cases: {gm:.2f}×")
else:
    print("PyTorch is not installed: no ratios")
'''),
        md(r'''
## 4.4 Why medians: the spread of the samples

Every timed repeat of one case, per contender (the naive loops are left out, their scale is
different). The spread comes from the machine — other processes, frequency changes, caches —
not from the code; the median (black bar) is the robust summary.
'''),
        code(r'''
fig, axes = plt.subplots(1, len(cases), figsize=(2.6 * len(cases), 3.2), squeeze=False)
for ax, r in zip(axes[0], cases):
    names = [c for c in ("numpy", "tinygrad_cnn", "torch") if r["contenders"].get(c, {}).get("samples_ms")]
    for k, c in enumerate(names):
        s = np.asarray(r["contenders"][c]["samples_ms"])
        ax.scatter(np.full(len(s), k) + np.linspace(-0.15, 0.15, len(s)), s, s=14, color=colors[c])
        ax.hlines(np.median(s), k - 0.3, k + 0.3, color="black")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title(r["title"], fontsize=10)
    ax.set_ylim(bottom=0)
axes[0, 0].set_ylabel("ms per repeat")
plt.tight_layout()
plt.show()
'''),
        md(r'''
## 4.5 Threads, GFLOP/s and peak

* **Threads.** Every contender gets the same number of threads (2 by default, `--threads`):
  `torch.set_num_threads`, `numba.set_num_threads`, and the BLAS library under numpy through
  threadpoolctl. Comparing a 16-thread library with a 1-thread loop would measure the machine,
  not the code.
* **GFLOP/s** counts the floating-point operations a case needs (2 per multiply-add, forward +
  input gradient + weight gradient) divided by tinygrad_cnn's median time; **% peak** compares it
  with a 1024×1024 float32 matrix product by numpy's BLAS on the same threads — about the best
  this machine does. Small convolutions (few channels) are far from peak for everyone: they are
  limited by memory traffic and per-call overhead, not arithmetic.
* **Cold start**: importing the package and the first `F.conv2d` in a new process, with Numba's
  on-disk cache already warm.
'''),
        code(r'''
print(f"float32 matmul peak: {report['peak']['gflops']:.1f} GFLOP/s ({report['settings']['threads']} threads)")
for r in cases:
    if r.get("gflops"):
        naive = f"{r['speedup_over_naive']:7.0f}×" if r.get("speedup_over_naive") else "      —"
        peak = f"{r['percent_of_peak']:5.1f}%" if r.get("percent_of_peak") else "    —"
        print(f"{r['title']:<24} {r['gflops']:6.2f} GFLOP/s  {peak} of peak   speed-up vs naive {naive}")
cs = report.get("cold_start")
if cs and "error" not in cs:
    print(f"cold start: {cs['total_s'] * 1e3:.0f} ms in-process "
          f"({cs['import_s'] * 1e3:.0f} ms import + {cs['first_conv2d_s'] * 1e3:.0f} ms first conv)")
for note in report.get("notes", []):
    print("note:", note)
'''),
        md(r'''
## 4.6 The published full run

A quick run uses few repeats, so its numbers are noisier. If the repository holds the results of
a full run (`benchmarks/results/`, made with `python -m tinygrad_cnn bench`), they are shown here
for comparison.
'''),
        code(r'''
published = ROOT / "benchmarks" / "results" / "results.json"
if published.exists():
    full = json.loads(published.read_text())
    fm = full["machine"]
    display(Markdown(f"Full run of {fm['date'][:10]} ({fm['cpu_model']}, {full['settings']['repeats']} repeats):\n\n"
                     + full["table"]))
else:
    print("no published full run in", published.parent)
'''),
    ]
    return cells


NOTEBOOKS = {
    "01_convolution_and_pooling.ipynb": notebook_01,
    "02_backprop_by_hand.ipynb": notebook_02,
    "03_lenet5_digits.ipynb": notebook_03,
    "04_speed.ipynb": notebook_04,
}


def build(name: str):
    nb = new_notebook(cells=NOTEBOOKS[name]())
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute(nb, name: str, timeout: int = 600):
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--execute", action="store_true", help="run each notebook and save its outputs")
    p.add_argument("only", nargs="*", help="build only the notebooks whose name contains one of these")
    a = p.parse_args(argv)
    for name in NOTEBOOKS:
        if a.only and not any(s in name for s in a.only):
            continue
        nb = build(name)
        if a.execute:
            seconds = execute(nb, name)
            print(f"{name}: executed in {seconds:.1f} s", flush=True)
        path = HERE / name
        nbformat.validate(nb)
        nbformat.write(nb, str(path))
        print(f"wrote {path.relative_to(HERE.parent)} ({os.path.getsize(path) / 1024:.0f} KiB)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
