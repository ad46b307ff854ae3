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
# # 2. Backpropagation by hand
#
# A tiny convolution network, computed forward and backward **with numpy only**, step by step from
# the lecture's formulas — and then compared with what `loss.backward()` of `tinygrad_cnn` gives.
# Everything is float64 so the two agree to ~1e-15.
#
# The network (one example):
#
# | layer | operation | shape |
# |---|---|---|
# | input | $\mathbf A^0 = \mathbf V$ | 8×8 |
# | 1: convolution | $\mathbf Z^{1,h} = \mathbf W^{1,h} \circledast \mathbf V$, $\;\mathbf N^{1,h} = \mathbf Z^{1,h} + b^{1,h}$, $\;\mathbf A^{1,h} = \operatorname{tansig}(\mathbf N^{1,h})$ | 2 maps 3×3 → 2×6×6 |
# | 2: average pooling | $\mathbf Z^{2,h} = w^{2,h} \boxplus^{ave}_{2,2} \mathbf A^{1,h}$, $\;\mathbf A^{2,h} = \mathbf Z^{2,h}$ | 2×3×3 |
# | matrix → vector | $\mathbf p = \operatorname{vec}(\mathbf A^2)$ | 18 |
# | 3: linear | $\mathbf n^3 = \mathbf W^3 \mathbf p + \mathbf b^3$, $\;\mathbf a^3 = \mathbf n^3$ | 3 |
# | performance | $\hat F = \frac1{3}\sum_i (a^3_i - t_i)^2$ (mean squared error) | scalar |
#
# Notation (the lecture's): $\mathbf{dA} \equiv \partial \hat F/\partial \mathbf A$, and likewise
# $\mathbf{dN}, \mathbf{dZ}, \mathbf{dW}, \mathbf{db}$. Across a layer we go
# $\mathbf{dA}^m \to \mathbf{dN}^m \to \mathbf{dZ}^m \to \mathbf{dA}^{m-1}$.

# %%
from _setup import np, plt, show, show_signed  # the package, numpy and matplotlib settings

from numpy.lib.stride_tricks import sliding_window_view

import tinygrad_cnn.functional as F
from tinygrad_cnn import Function, Tensor, explain, gradcheck, viz

rng = np.random.default_rng(0)
V_np = rng.standard_normal((8, 8))                  # input image A^0 = V
W1_np = rng.standard_normal((2, 1, 3, 3)) * 0.5     # two 3×3 kernels W^{1,h}
b1_np = rng.standard_normal(2) * 0.1                # one scalar bias per feature map
w2_np = np.array([0.3, -0.2])                       # pooling weights w^{2,h}
W3_np = rng.standard_normal((3, 18)) * 0.3          # linear layer
b3_np = rng.standard_normal(3) * 0.1
t_np = np.array([1.0, -1.0, 0.5])                   # target


# %% [markdown]
# ## 2.1 The framework: forward and `backward()`
#
# The same network written with `tinygrad_cnn`'s functional API. `V` requires a gradient too, so
# that we also get $\mathbf{dA}^0$, the gradient a layer *below* the convolution would receive.

# %%
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


# %% [markdown]
# ## 2.2 Forward pass in numpy
#
# Helper for the lecture's sliding-window operation: `correlate(K, X)` slides `K` over `X` and sums
# the element-wise products, $\text{out}_{u,v} = \sum_i\sum_j k_{i,j}\, x_{u+i-1,\,v+j-1}$. This is
# ⊛ (and ⋆, below). It is written with `sliding_window_view`, which makes a view of all windows
# without copying.

# %%
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

# %% [markdown]
# ## 2.3 Backward pass in numpy, from the lecture's formulas
#
# ### Performance and the linear layer
#
# $\hat F = \frac1S \sum_i (a^3_i - t_i)^2$ with $S = 3$ outputs, so
# $\mathbf{dn}^3 = \mathbf{da}^3 = \frac2S(\mathbf a^3 - \mathbf t)$ (the transfer function is
# linear). For $\mathbf n^3 = \mathbf W^3 \mathbf p + \mathbf b^3$:
#
# $$\mathbf{dW}^3 = \mathbf{dn}^3\, \mathbf p^T, \qquad \mathbf{db}^3 = \mathbf{dn}^3, \qquad
# \mathbf{dp} = (\mathbf W^3)^T \mathbf{dn}^3 .$$
#
# $\mathbf{dp}$ is $\mathbf{dA}$ at the output of the pooling layer, still as a vector.

# %%
dn3 = 2 / a3.size * (a3 - t_np)
dW3 = np.outer(dn3, p)
db3 = dn3
dp = W3_np.T @ dn3
print("dn3 =", dn3)

# %% [markdown]
# ### Vector → matrix
#
# The conversion block only rearranges numbers, so its backward pass is the inverse rearrangement:
# $\mathbf{dA}^2 = \operatorname{vec}^{-1}(\mathbf{dp})$ — cut the vector into maps and each map
# into columns.

# %%
dA2 = unvec(dp, (2, 3, 3))
assert np.array_equal(dA2, F.unvec(Tensor(dp), (2, 3, 3)).numpy())
print(dA2)

# %% [markdown]
# ### Across the average-pooling layer
#
# $\mathbf A^2 = \mathbf Z^2$ (no transfer function), so $\mathbf{dZ}^2 = \mathbf{dA}^2$. Each
# element of a 2×2 window contributes $w$ times itself to $z_{i,j}$, hence
#
# $$\mathbf{dA}^{1,h} = w^{2,h} \boxtimes^{ave}_{2,2} \mathbf{dZ}^{2,h},$$
#
# where $\boxtimes_{2,2}$ expands every element into a 2×2 block — a Kronecker product with a
# block of ones, `np.kron(dZ, np.ones((2, 2)))`. The pooling weight's gradient:
#
# $$dw^{2,h} = \boxplus_{S_r,S_c}\!\left(\mathbf{dZ}^{2,h} \circ (\boxplus^{ave}_{2,2} \mathbf A^{1,h})\right)
# = \sum_{i,j} dz^{2,h}_{i,j}\,\Big\{\textstyle\sum_{k,l} a^{1,h}_{2(i-1)+k,\,2(j-1)+l}\Big\}.$$

# %%
dZ2 = dA2
dA1 = np.stack([w2_np[h] * np.kron(dZ2[h], np.ones((2, 2))) for h in range(2)])    # (2, 6, 6)
dw2 = np.array([np.sum(dZ2[h] * box_sum(A1[h])) for h in range(2)])
print("dw2 =", dw2)

# %% [markdown]
# ### Across the transfer function and the summation
#
# $$\mathbf{dN}^{1,h} = \dot{\mathbf F}^{1,h} \circ \mathbf{dA}^{1,h},$$
#
# with $\circ$ the Hadamard (element-wise) product and $\dot{\mathbf F}$ the derivative of the
# transfer function at every element; for tansig $\dot f(n) = 1 - \tanh^2(n) = 1 - a^2$. The net
# input is a plain sum $\mathbf N = \mathbf Z + b$, so
#
# $$\mathbf{dZ}^{1,h} = \mathbf{dN}^{1,h}, \qquad db^{1,h} = \boxplus_{S_r,S_c}\mathbf{dN}^{1,h} = \sum_{i,j} dn^{1,h}_{i,j}.$$

# %%
F_dot = 1 - A1 ** 2
dN1 = F_dot * dA1
dZ1 = dN1
db1 = dN1.sum(axis=(1, 2))
print("db1 =", db1)


# %% [markdown]
# ### Across the convolution weight function
#
# The weight gradient correlates the input with $\mathbf{dZ}$ (a 6×6 "kernel" sliding over the
# 8×8 input gives 3×3, the kernel's size):
#
# $$dw^{1,h}_{u,v} = \sum_{i}\sum_{j} dz^{1,h}_{i,j}\, v_{u+i-1,\,v+j-1}
# \qquad\Longleftrightarrow\qquad \mathbf{dW}^{1,h} = \mathbf{dZ}^{1,h} \star \mathbf V .$$
#
# The input gradient is a **full** correlation with the kernel rotated by 180°: every input pixel
# $v_{i,j}$ was used by every output $z_{u,v}$ whose window covered it, with weight
# $w_{i-u+1,\,j-v+1}$:
#
# $$da^{0}_{i,j} = \sum_h \sum_u \sum_v dz^{1,h}_{u,v}\, w^{1,h}_{i-u+1,\,j-v+1}
# \qquad\Longleftrightarrow\qquad \mathbf{dA}^{0} = \sum_h \operatorname{rot180}(\mathbf W^{1,h}) \star \mathbf{dZ}^{1,h},$$
#
# "full" meaning $\mathbf{dZ}$ is first padded with $r-1$ rows and $c-1$ columns of zeros on each
# side, so the result has the input's size: $6 + 2\cdot 2 - 3 + 1 = 8$.

# %%
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


# %% [markdown]
# ## 2.4 The hand-computed gradients equal `loss.backward()`

# %%
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

# %% [markdown]
# A picture of the backward flow for feature map 0: from $\mathbf{dA}^2$ (3×3) the pooling rule
# expands to $\mathbf{dA}^1$ (6×6, constant 2×2 blocks scaled by $w$), the Hadamard product with
# $\dot{\mathbf F}$ gives $\mathbf{dN}^1 = \mathbf{dZ}^1$, and the full correlation with the rotated
# kernel spreads it back over the 8×8 input (both maps summed). Red is positive, blue negative.

# %%
panels = [(dA2[0], "dA² (map 0)"), (dA1[0], "dA¹ = w ⊠ dZ²"), (F_dot[0], "Ḟ = 1 − (A¹)²"),
          (dN1[0], "dN¹ = Ḟ ∘ dA¹ = dZ¹"), (dW1[0, 0], "dW¹ = dZ¹ ⋆ V"),
          (dA0, "dA⁰ = Σ rot180(W) ⋆ dZ¹")]
fig, axes = plt.subplots(1, 6, figsize=(15, 3))
for ax, (m, title) in zip(axes, panels):
    if title.startswith("Ḟ"):  # the derivative of tanh lies in (0, 1]: no sign to show
        im = show(ax, m, title, 0, m.max(), cmap="viridis", grid=False)
    else:
        im = show_signed(ax, m, title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 2.5 The graph, and the rules `backward()` applied
#
# Every operation on tensors records the `Function` that made its output; those records are the
# graph `backward()` walks. `viz.draw` pictures it — here the convolution–pooling layer, from the
# input and the parameters (named after the layer they belong to) up to $\mathbf A^2$. Each box is
# an op with the lecture's symbol and its output shape.

# %%
names = {"conv.weight": W1, "conv.bias": b1, "pool.weight": w2, "linear.weight": W3, "linear.bias": b3}
fresh = [leaf(a) for a in (V_np[None, None], W1_np, b1_np, w2_np, W3_np, b3_np)]
fresh_names = dict(zip(names, fresh[1:]))
A2_layer = F.avg_pool2d(F.tansig(F.conv2d(fresh[0], fresh[1], fresh[2])), 2, weight=fresh[3])
viz.draw(A2_layer, params=fresh_names)  # a matplotlib Figure, shown by the notebook

# %% [markdown]
# `explain(loss)` runs the same `backward()` and says, one line per rule, what each op's backward
# computed, in the lecture's notation with the shapes — the rules derived by hand in §2.3, in the
# order the engine applies them. Beside each line: the numpy of §2.3 that computes the same thing.
# (The linear layer multiplies by $\mathbf W^T$, so its weight gradient arrives transposed, as
# $\mathbf{dB}$ for $\mathbf B = \mathbf W^T$, and the transpose op turns it back.)

# %%
loss_fresh = F.mse_loss(net(*fresh), target)
lines = explain(loss_fresh, params=fresh_names)
by_hand = {
    "mse_loss: dp": "dn3 = 2 / S · (a3 − t)",
    "add linear: dA": "(dn3 passes through the sum)",
    "add linear: dB": "db3 = dn3",
    "matmul linear: dW": "dW3 = np.outer(dn3, p)   (here transposed)",
    "matmul linear: dp": "dp = W3.T @ dn3",
    "vec: dA": "dA2 = unvec(dp)",
    "avg_pool2d pool: dw": "dw2 = Σ dZ2 ∘ box_sum(A1)",
    "avg_pool2d pool: dA": "dA1 = w2 · np.kron(dZ2, ones(2, 2))",
    "tanh conv: dN": "dN1 = (1 − A1²) ∘ dA1",
    "conv2d conv: db": "db1 = dN1.sum()",
    "conv2d conv: dW": "dW1 = correlate(dZ1, V)",
    "conv2d conv: dA": "dA0 = Σ correlate(rot180(W1), pad(dZ1, 2))",
    "transpose linear: dX": "dW3 = (dW3ᵀ)ᵀ",
}
for line in lines:
    head, rule = line.split(": ", 1)
    print(f"{line:<76} ← {by_hand[head + ': ' + rule[:2]]}")
for t, mine in zip(fresh, params):  # explain left exactly the gradients of backward()
    assert np.array_equal(t.grad, mine.grad)


# %% [markdown]
# ## 2.6 The same with cross-entropy
#
# Only the first step changes. For logits $\mathbf n^3$ and a class label $y$, cross-entropy
# $\hat F = -\log \operatorname{softmax}(\mathbf n^3)_y$ has
# $\mathbf{dn}^3 = \operatorname{softmax}(\mathbf n^3) - \mathbf e_y$; everything below the linear
# layer is the chain of §2.3, collected here in one function.

# %%
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


# %% [markdown]
# ## 2.7 `gradcheck` on the whole network
#
# Finally an independent check that needs no formula at all: `gradcheck` perturbs every element of
# every input by $\pm\varepsilon$ ($\varepsilon = 10^{-6}$) and compares the central difference
# $(\hat F(x+\varepsilon) - \hat F(x-\varepsilon))/2\varepsilon$ with the analytic gradient —
# here for all 64 + 18 + 2 + 2 + 54 + 3 = 143 numbers of the network, with both losses.

# %%
def mse_of_net(*xs):
    return F.mse_loss(net(*xs), target)


def ce_of_net(*xs):
    return F.cross_entropy(net(*xs), np.array([label]))


print("elements checked:", sum(t.data.size for t in params))
print("mse:", gradcheck(mse_of_net, params))
print("cross-entropy:", gradcheck(ce_of_net, params))

# %% [markdown]
# ## 2.8 Your own op: a `Function` with its backward rule
#
# Every op of the framework is a small `Function` subclass: `forward` computes with numpy arrays
# and keeps what backward needs (`ctx.save_for_backward`), `backward` receives $\partial\hat F/\partial$
# output and returns one gradient per input. A new op is written the same way. Here LeCun's
# squashing function as one op, $a = A\tanh(S n)$ with $\dot f(n) = A S\,(1 - \tanh^2(Sn))$, so
# $\mathbf{dN} = \dot{\mathbf F} \circ \mathbf{dA}$. The class attribute `rule` states the rule for
# `explain` (`{x}` and `{g}` become the shapes); `gradcheck` then compares `backward` with central
# differences.

# %%
class Squash(Function):
    """a = A·tanh(S·n), A = 1.7159, S = 2/3; dN = Ḟ ∘ dA with Ḟ = A·S·(1 − tanh²(S·n))."""

    A, S = 1.7159, 2.0 / 3.0

    @staticmethod
    def forward(ctx, n):
        t = np.tanh(Squash.S * n)
        ctx.save_for_backward(t)
        return Squash.A * t

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = A·S·(1 − tanh²(S·n))"

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * (Squash.A * Squash.S * (1 - t * t))


n = leaf(rng.standard_normal((2, 3, 4, 4)))
print("gradcheck:", gradcheck(lambda n: Squash.apply(n), [n]))
upstream = Tensor(rng.standard_normal((2, 3, 4, 4)))
print(*explain((Squash.apply(n) * upstream).sum()), sep="\n")

# %% [markdown]
# **Summary.**
#
# | across | rule | numpy |
# |---|---|---|
# | linear layer | $\mathbf{dW} = \mathbf{dn}\,\mathbf p^T$, $\mathbf{dp} = \mathbf W^T \mathbf{dn}$ | `np.outer`, `W.T @ dn` |
# | vec | $\mathbf{dA} = \operatorname{vec}^{-1}(\mathbf{dp})$ | `reshape(..., order="F")` |
# | average pooling | $\mathbf{dA} = w \boxtimes \mathbf{dZ}$, $dw = \boxplus(\mathbf{dZ} \circ \boxplus \mathbf A)$ | `np.kron`, block sums |
# | transfer function | $\mathbf{dN} = \dot{\mathbf F} \circ \mathbf{dA}$ | `(1 - A**2) * dA` |
# | summation | $\mathbf{dZ} = \mathbf{dN}$, $db = \sum \mathbf{dN}$ | `dN.sum()` |
# | convolution | $\mathbf{dW} = \mathbf{dZ} \star \mathbf V$, $\mathbf{dA}^{m-1} = \sum_h \operatorname{rot180}(\mathbf W) \star \mathbf{dZ}$ (full) | `correlate`, `np.pad` |
#
# `tinygrad_cnn` implements exactly these rules (see `tinygrad_cnn/ops/` and the loops in
# `tinygrad_cnn/kernels/*_reference.py`), compiled with Numba and batched. Next:
# [03_lenet5_digits.ipynb](03_lenet5_digits.ipynb) — a real network trained with them.
