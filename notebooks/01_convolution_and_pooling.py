# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Convolution and pooling
#
# This notebook reproduces the pictures of the lecture *Convolution Networks* (Hagan & Jafari,
# *Neural Network Design: Deep Learning*, ch. 8, Figs 8.4–8.8) with `tinygrad_cnn`, and checks
# every picture against the naive reference loops that sit beside the compiled kernels
# (`tinygrad_cnn/kernels/*_reference.py`) — plain Python transcriptions of the lecture's scalar
# equations.
#
# The convolution weight function of a layer slides an $r \times c$ kernel $\mathbf W$ over an
# $R_r \times R_c$ image $\mathbf V$:
#
# $$z_{i,j} = \sum_{k=1}^{r} \sum_{l=1}^{c} w_{k,l}\, v_{i+k-1,\,j+l-1}
# \qquad\text{in matrix form}\qquad \mathbf Z = \mathbf W \circledast \mathbf V .$$
#
# The kernel is **not** flipped (this is what signal processing calls a *cross-correlation*;
# PyTorch's `conv2d` computes the same thing). Python counts from 0, so $v_{i+k-1,j+l-1}$ becomes
# `V[i + k, j + l]`.
#
# Contents: the lecture's 4×4 example · Square, Diamond and the four kernels · the eight filtered
# images · 3×3 max pooling · padding and stride · several feature maps and the connection matrix ·
# LeNet-5's C3 table.

# %%
from _setup import heatmap, hide_ticks, np, plt, show  # the package, numpy and plot settings

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn import figures as R  # the book's inputs: Square, Diamond, the kernels, C3's table
from tinygrad_cnn.kernels.conv_reference import conv2d_reference
from tinygrad_cnn.kernels.pool_reference import avg_pool2d_reference, max_pool2d_reference


# %% [markdown]
# ## 1.1 The lecture's example convolution
#
# A 2×2 anti-diagonal kernel on a 5×5 diamond gives the 4×4 output printed in the lecture. Without
# padding the output loses $r-1$ rows and $c-1$ columns: $(5-2+1)\times(5-2+1) = 4\times 4$.
#
# First the definition written out as loops, so there is no doubt about what ⊛ means; then the
# framework's `F.conv2d`, which accepts a single matrix `(H, W)` with a kernel `(kh, kw)` exactly
# as the lecture writes $\mathbf Z = \mathbf W \circledast \mathbf V$.

# %%
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
assert np.array_equal(Z, conv2d_reference(V, W))         # the naive reference loops

# %% [markdown]
# The picture below follows one output element: $z_{1,2}$ (0-based `Z[0, 1]`) is the sum of the
# element-wise product of $\mathbf W$ with the 2×2 window of $\mathbf V$ that starts at row 0,
# column 1 — here $0\cdot 0 + 1\cdot 1 + 1\cdot 1 + 0\cdot 0 = 2$.

# %%
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

# %% [markdown]
# ## 1.2 Square, Diamond and the four kernels
#
# The two 15×15 input images of the figures (1 = white, 0 = black) and the four 3×3 kernels. Each
# kernel is a line segment: it responds most where the image has a line in the same direction.
# (The names are the book's: its "slash" kernel has its ones on the main diagonal, as drawn.)

# %%
images = {"Square": R.square(), "Diamond": R.diamond()}
kernels = R.FIGURE_KERNELS          # horizontal, vertical, slash, backslash

fig, axes = plt.subplots(1, 6, figsize=(12, 2.6), gridspec_kw={"width_ratios": [5, 5, 1.6, 1.6, 1.6, 1.6]})
for ax, (name, img) in zip(axes[:2], images.items()):
    show(ax, img, name, 0, 1)
for ax, (name, k) in zip(axes[2:], kernels.items()):
    show(ax, k, name, 0, 1, values=True)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 1.3 The eight filtered images (Figs 8.6 and 8.7)
#
# $\mathbf Z = \mathbf W \circledast \mathbf V$ with zero padding $P^d = 1$, stride $S^t = 1$, no
# bias and no transfer function, so each output is 15×15 like its input. A kernel has three ones,
# so the values run from 0 (black) to 3 (white): 3 where the whole segment lies on the image's
# line.
#
# * The **horizontal** kernel lights up the top and bottom edges of the square, the **vertical**
#   kernel its left and right edges; at the corners they see 2 of the 3 pixels.
# * The diamond is made of diagonal lines, so the **slash** and **backslash** kernels give it
#   bright edges (each on the two sides that run in its direction), while the horizontal and
#   vertical kernels see only isolated pixels (values 1, and 2 at the tips).

# %%
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

# %% [markdown]
# **Check.** Each image drawn above was computed by the framework's compiled kernel; here it is
# compared with the naive reference loops (`reference.conv2d`, the scalar formula as four nested
# loops) and with a second, independent computation: pad with zeros by hand and apply the
# `conv_by_hand` loop from §1.1.

# %%
for (img_name, k_name), z in filtered.items():
    img, k = images[img_name], kernels[k_name]
    assert z.shape == (15, 15)
    assert np.array_equal(z, conv2d_reference(img, k, padding=1)), (img_name, k_name)
    assert np.array_equal(z, conv_by_hand(k, np.pad(img, 1))), (img_name, k_name)
    assert set(np.unique(z)) <= {0, 1, 2, 3}
print("all eight filtered images equal the reference loops")

# %% [markdown]
# ## 1.4 Max pooling (Fig 8.8)
#
# A pooling layer consolidates each $r \times c$ window into one element. Max pooling keeps the
# largest:
#
# $$z_{i,j} = \max\{\, v_{r(i-1)+k,\;c(j-1)+l} \mid k = 1..r,\; l = 1..c \,\}
# \qquad \mathbf Z = \operatorname{max}_{r,c}\, \mathbf V .$$
#
# With $3\times 3$ windows and stride 3 (no overlap) a 15×15 filtered image becomes 5×5. The
# pooled images keep *where* the strong responses are, at a coarser resolution: the diagonal edge
# of the backslash-filtered diamond survives as a diagonal of 3s, the horizontal edges of the
# square as rows of 3s.
#
# For comparison, the lecture's **average pooling** sums the window and multiplies by a
# (trainable) scalar, $z_{i,j} = w\sum_{k}\sum_{l} v_{r(i-1)+k,\,c(j-1)+l}$, written
# $\mathbf Z = w \boxplus^{ave}_{r,c} \mathbf V$; with $w = 1/9$ it is the window mean
# (`F.avg_pool2d(x, 3, weight=w)`; without `weight` it is PyTorch's mean pooling).

# %%
pairs = [("Diamond", "backslash"), ("Square", "horizontal")]
fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
for row, key in zip(axes, pairs):
    z = filtered[key]
    pooled = F.max_pool2d(z, 3).numpy()                        # window 3×3, stride = window
    averaged = F.avg_pool2d(z, 3, weight=Tensor(np.array(1 / 9))).numpy()
    assert pooled.shape == (5, 5)
    assert np.array_equal(pooled, max_pool2d_reference(z, 3))          # reference loops
    assert np.array_equal(pooled, z.reshape(5, 3, 5, 3).max(axis=(1, 3)))   # numpy, independently
    assert np.allclose(averaged, avg_pool2d_reference(z, 3, weight=[1 / 9]))
    show(row[0], z, f"{key[1]} filtered {key[0].lower()}", 0, 3)
    show(row[1], pooled, "max pooled 3×3, stride 3", 0, 3, values=True)
    show(row[2], averaged, "average pooled, w = 1/9", 0, 3)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 1.5 Padding and stride
#
# Convolution shrinks the image by $r-1$ rows and $c-1$ columns. Zero padding of width $P^d$
# around the image compensates, and a stride $S^t > 1$ moves the kernel $S^t$ steps at a time,
# dividing the output size by about $S^t$:
#
# $$\text{output rows} = \left\lfloor \frac{R_r + 2P^d - r}{S^t} \right\rfloor + 1 .$$
#
# For a 3×3 kernel the three usual paddings are *valid* ($P^d = 0$, only windows fully inside the
# image), *same* ($P^d = 1$, output as large as the input at stride 1) and *full* ($P^d = r-1 = 2$,
# every window that overlaps the image at all). `F.conv2d` takes `padding=` an int, a pair or
# one of these names (`'same'` only at stride 1).
#
# In the pictures every output pixel is drawn over the centre of its window in the input (the
# dashed frame is the 15×15 input). *Full* reaches one pixel beyond the input on every side,
# *valid* stays one pixel inside; at stride 2 each output pixel stands for a 2×2 step — the same
# area at half the resolution.

# %%
img, k = R.square(), kernels["horizontal"]
paddings = [("valid", 0), ("same", 1), ("full", 2)]
fig, axes = plt.subplots(2, 3, figsize=(10, 7))
rows = []
for r_i, stride in enumerate([1, 2]):
    for c_i, (pad_name, p) in enumerate(paddings):
        z = F.conv2d(img, k, stride=stride, padding=p).numpy()
        assert np.array_equal(z, conv2d_reference(img, k, stride=stride, padding=p))
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
        hide_ticks(ax)
        ax.set_title(f"stride {stride}, {pad_name} (P = {p}) → {n}×{n}", fontsize=10)
        ax.add_patch(Rectangle((-0.5, -0.5), 15, 15, fill=False, linestyle="--", edgecolor="tab:blue"))
fig.suptitle("horizontal kernel ⊛ Square: padding (columns) and stride (rows)")
plt.tight_layout()
plt.show()

print("stride  padding   P   output = (15 + 2P - 3) // stride + 1")
for stride, pad_name, p, shape in rows:
    print(f"{stride:>6}  {pad_name:<7} {p:>3}   {shape[0]}×{shape[1]}")

# %% [markdown]
# Note the stride-2 image with $P^d = 1$: the windows are centred on the even rows of the
# input only, and the square's horizontal edges lie on rows 3 and 11, so the horizontal kernel
# never sits on them — a large stride can skip a thin feature entirely.
#
# With `'same'` the named padding is identical to `padding=1`, and `'full'` to `padding=2`, for a
# 3×3 kernel:

# %%
assert np.array_equal(F.conv2d(img, k, padding="same").numpy(), F.conv2d(img, k, padding=1).numpy())
assert np.array_equal(F.conv2d(img, k, padding="full").numpy(), F.conv2d(img, k, padding=2).numpy())
assert np.array_equal(F.conv2d(img, k, padding="valid").numpy(), F.conv2d(img, k).numpy())
print("named paddings agree with the numeric ones")

# %% [markdown]
# ## 1.6 Several feature maps and the connection matrix
#
# A convolution layer takes a *set* of feature maps (FMs) and produces another set. With $H^{m-1}$
# input maps and $H^m$ output maps a fully connected layer has $H^{m-1} H^m$ kernels; the
# **connection matrix** $\mathbb C^m$ ($H^m \times H^{m-1}$) keeps only some of them:
# $c^m_{h,l} = 1$ when input map $l$ feeds output map $h$. Row $h$ of $\mathbb C^m$ is the set
# $C^{m,h}$ and
#
# $$\mathbf Z^{m,h} = \sum_{l \in C^{m,h}} \mathbf W^{m,(h,l)} \circledast \mathbf A^{m-1,l}
# \;(+\; b^{m,h}).$$
#
# A small layer: 3 input maps (Square, Diamond and a cross) → 4 output maps. Output map $h$ uses
# the $h$-th figure kernel on each of the input maps it is connected to. In `tinygrad_cnn` the
# weights are stored as one dense `(O, C, kh, kw)` array and the connection matrix is passed as
# `connection=`; unconnected kernels are skipped.

# %%
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
assert np.array_equal(Zm, conv2d_reference(A_prev[None], Wm, padding=1, connection=C)[0])
print("Z shape", Zm.shape, "- kernels used:", int(C.sum()), "of", C.size)

# %% [markdown]
# Left: the connection matrix as a heat map (rows: output maps $h$, columns: input maps $l$).
# Right: the same wiring drawn between the maps themselves.

# %%
from matplotlib.patches import ConnectionPatch

fig = plt.figure(figsize=(12, 6.5))
gs = fig.add_gridspec(4, 4, width_ratios=[3.2, 1.3, 2.2, 1.3], wspace=0.3, hspace=0.35)
axC = fig.add_subplot(gs[1:3, 0])
heatmap(axC, C, vmax=1.3, fontsize=12)
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

# %% [markdown]
# Because an unconnected kernel takes no part in the output, its weight gradient is exactly zero —
# training never turns it on. (`backward` is the subject of the next notebook.)

# %%
Wt = Tensor(Wm.copy(), requires_grad=True)
F.conv2d(Tensor(A_prev), Wt, padding=1, connection=C).sum().backward()
dW_norm = np.abs(np.asarray(Wt.grad)).sum(axis=(2, 3))      # (4, 3): size of each kernel's gradient
print(dW_norm)
assert np.all(dW_norm[C == 0] == 0) and np.all(dW_norm[C == 1] > 0)

# %% [markdown]
# ## 1.7 LeNet-5's C3 table
#
# In LeNet-5 (LeCun et al., 1998) layer C3 has 16 feature maps over the 6 maps of S2, connected by
# Table I of the paper: maps 0–5 read 3 contiguous S2 maps, 6–11 read 4 contiguous, 12–14 read 4
# non-contiguous and map 15 reads all six. The paper's reasons: fewer connections (60 instead of
# 96 kernels) and broken symmetry, so different maps are forced to learn different features.
#
# The lecture's $\mathbb C^3$ is 16×6 (rows = C3 maps); it is drawn transposed here, as in the
# paper (rows = S2 maps, columns = C3 maps).

# %%
from tinygrad_cnn.models import C3_TABLE, LeNet5

table = R.LENET_C3_TABLE
assert table.shape == (16, 6) and np.array_equal(table, C3_TABLE)
fig, ax = plt.subplots(figsize=(9, 3.4))
heatmap(ax, table.T, text=lambda v: "X", vmax=1.3, fontsize=11, skip_zero=True)
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

# %% [markdown]
# **Summary.** ⊛ slides the kernel over the image without flipping it; padding $P^d$ and stride
# $S^t$ set the output size; pooling consolidates windows (max, or $w \cdot$ sum); a layer maps
# feature maps to feature maps through a connection matrix. Every image in this notebook was
# checked against the lecture's scalar formulas written as loops. Next:
# [02_backprop_by_hand.ipynb](02_backprop_by_hand.ipynb) — the backward pass, formula by formula.
