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
# # 5. Taking a model to PyTorch and ONNX, and back
#
# A network built here is not locked in. `tinygrad_cnn.export` moves it out:
#
# | function | what it does | needs |
# |---|---|---|
# | `to_torch(module)` | an equivalent `torch.nn.Module`, same weights, same outputs | torch |
# | `from_torch(torch_module)` | a `tinygrad_cnn` `Sequential` from a `torch.nn.Sequential` | torch |
# | `to_onnx(module, example_input, path)` | an ONNX file (batch axis dynamic) that onnxruntime runs | onnx (+ onnxruntime to run it) |
#
# Two lecture ideas that PyTorch lacks travel as small modules: LeNet-5's connection matrix
# becomes a fixed mask on the C3 weight, and vec (which stacks COLUMNS) a transpose before
# flattening. None of these packages is needed to train: they are the optional extra `export`
# (`pip install -e ".[export]"`). Where one is missing, its cell shows a note instead of a result.

# %%
from _setup import np, plt  # the package, numpy and matplotlib settings

import importlib.util
import os
import tempfile

from IPython.display import Markdown, display

from tinygrad_cnn import Tensor, export, nn, no_grad
from tinygrad_cnn.models import LeNet5

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))
exported = {}  # where LeNet-5's logits were computed -> those logits, for the picture at the end


def note(text):
    """A markdown note in place of a result (a package is missing)."""
    display(Markdown(f"> **Skipped:** {text}"))


def compare(name, ours, theirs):
    diff = np.max(np.abs(ours - theirs))
    print(f"{name:<34} max |difference| = {diff:.2e}   same predictions: "
          f"{np.array_equal(ours.argmax(1), theirs.argmax(1))}")
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-5), name


nn.manual_seed(0)
model = LeNet5()
x = np.random.default_rng(0).standard_normal((8, 1, 32, 32)).astype(np.float32)
with no_grad():
    ours = model(Tensor(x)).numpy()
print("LeNet-5 logits here:", ours.shape)

# %% [markdown]
# ## 5.1 `to_torch`: the same LeNet-5 in PyTorch
#
# The weights are copied; the outputs agree to float32 rounding (the two libraries sum in different
# orders).

# %%
if not HAVE_TORCH:
    note('PyTorch is not installed (`pip install torch`, or the extra `pip install -e ".[export]"`).')
else:
    import torch

    torch_model = export.to_torch(model)
    print(torch_model)
    with torch.no_grad():
        theirs = torch_model(torch.from_numpy(x)).numpy()
    compare("to_torch(LeNet5) vs LeNet5", ours, theirs)
    exported["PyTorch (to_torch)"] = theirs

# %% [markdown]
# ## 5.2 `from_torch`: a PyTorch `Sequential` brought here
#
# A small network written in PyTorch — max pooling, ReLU, PyTorch's row-major `Flatten` — becomes a
# `tinygrad_cnn` `Sequential` with the same weights (its `Flatten` stays row-major: it is not the
# lecture's vec).

# %%
if not HAVE_TORCH:
    note("PyTorch is not installed, so there is no PyTorch model to bring over.")
else:
    torch.manual_seed(0)
    torch_net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 5 * 5, 10),
    )
    ours_net = export.from_torch(torch_net)
    print(ours_net)
    with torch.no_grad():
        theirs = torch_net(torch.from_numpy(x)).numpy()
    with no_grad():
        ours_seq = ours_net(Tensor(x)).numpy()
    compare("from_torch(Sequential) vs PyTorch", ours_seq, theirs)

# %% [markdown]
# ## 5.3 `to_onnx`: a file any ONNX runtime can run
#
# `to_onnx` builds the ONNX graph from the layers directly (no PyTorch involved): the connection
# matrix is folded into the stored C3 weight and trainable average pooling becomes a grouped
# convolution. onnxruntime then runs the file, here on a batch of another size than the example
# (the batch axis is dynamic).

# %%
if not HAVE_ONNX:
    note('onnx and onnxruntime are not installed (`pip install onnx onnxruntime`, or the extra '
         '`pip install -e ".[export]"`).')
else:
    import onnxruntime

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lenet5.onnx")
        export.to_onnx(model, x, path)
        print(f"wrote {os.path.getsize(path):,} bytes")
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x})
        compare("onnxruntime vs LeNet5 (batch 8)", ours, onnx_out)
        exported["onnxruntime (to_onnx)"] = onnx_out
        x3 = x[:3]
        (onnx_out3,) = session.run(None, {session.get_inputs()[0].name: x3})
        with no_grad():
            compare("onnxruntime vs LeNet5 (batch 3)", model(Tensor(x3)).numpy(), onnx_out3)

# %% [markdown]
# Every logit of the 8 images, computed elsewhere, against the same logit computed here: the points
# lie on the diagonal.

# %%
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for (where, logits), marker in zip(exported.items(), "o+"):
    ax.scatter(ours.ravel(), logits.ravel(), marker=marker, s=30, label=where)
lo, hi = ours.min() - 0.1, ours.max() + 0.1
ax.plot([lo, hi], [lo, hi], color="gray", linewidth=0.8, zorder=0)
ax.set_xlabel("logit in tinygrad_cnn")
ax.set_ylabel("logit elsewhere")
ax.set_title("LeNet-5 exported" if exported else "nothing to compare (see the notes above)")
if exported:
    ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# The exported models compute what the model computes here, so a network trained with the
# lecture's rules can be served by PyTorch or any ONNX runtime, and a PyTorch model can be brought
# here to read its backward pass with `tinygrad_cnn.explain`.
