"""Tests for the training loop (tinygrad_cnn.train: fit, evaluate), the plots and the recipe."""

from __future__ import annotations

import contextlib
import gc
import re
import sys

import numpy as np
import pytest

from tinygrad_cnn import Function, Tensor, nn, optim
from tinygrad_cnn import functional as F
from tinygrad_cnn import recipe as recipe_module
from tinygrad_cnn.data import load_digits, random_shift
from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR, cosine_schedule
from tinygrad_cnn.plots import plot_history
from tinygrad_cnn.recipe import COMPILE_NOTICE, OPTIMIZER_DEFAULTS, TrainingRecipe
from tinygrad_cnn.train import HISTORY_KEYS, evaluate, fit

LINE = re.compile(r"^epoch +(\d+)/(\d+)  loss \d+\.\d{4}  train acc [01]\.\d{4}"
                  r"(  test acc [01]\.\d{4})?  \d+\.\ds$")


@pytest.fixture(scope="module")
def digits8():
    """A small subset of the 8x8 digits: 300 training and 100 test images."""
    x_train, y_train, x_test, y_test = load_digits(size=8)
    return x_train[:300], y_train[:300], x_test[:100], y_test[:100]


def small_cnn(seed=0):
    nn.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 4, 4, 4)
        nn.Vec(), nn.Linear(64, 10),
    )


def params_of(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def run(data, seed=0, epochs=3, lr=1e-2, **kw):
    model = small_cnn(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    kw.setdefault("progress", False)
    kw.setdefault("log", None)
    history = fit(model, opt, *data, epochs=epochs, batch_size=32, seed=seed, **kw)
    return model, opt, history


# ------------------------------------------------------------------------------------ fit

def test_fit_lowers_the_loss_and_learns(digits8):
    lines = []
    _, _, h = run(digits8, epochs=4, log=lines.append)
    assert set(h) == set(HISTORY_KEYS)
    assert all(len(h[k]) == 4 for k in HISTORY_KEYS)
    assert h["epoch"] == [1, 2, 3, 4]
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["train_acc"][-1] > h["train_acc"][0]
    assert h["test_acc"][-1] > 0.7  # 10 classes: chance is 0.1
    assert all(s >= 0 for s in h["seconds"])
    assert len(lines) == 4
    for i, line in enumerate(lines, 1):
        m = LINE.match(line)
        assert m, line
        assert (int(m.group(1)), int(m.group(2))) == (i, 4)
        assert m.group(3), "test accuracy missing from the summary line"


def test_fit_same_seed_is_bit_identical(digits8):
    m1, o1, h1 = run(digits8, seed=3, epochs=2)
    m2, o2, h2 = run(digits8, seed=3, epochs=2)
    for key in HISTORY_KEYS:
        if key != "seconds":
            assert h1[key] == h2[key], key
    p1, p2 = params_of(m1), params_of(m2)
    assert p1.keys() == p2.keys()
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k], err_msg=k)
    _, _, h3 = run(digits8, seed=4, epochs=2)
    assert h3["loss"] != h1["loss"]


def test_fit_in_two_calls_equals_one_call(digits8):
    """Shuffling depends only on (seed, epoch): resuming with start_epoch continues exactly."""
    m_full, _, h_full = run(digits8, seed=1, epochs=2)
    model = small_cnn(1)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    h_a = fit(model, opt, *digits8, epochs=1, batch_size=32, seed=1, progress=False, log=None)
    h_b = fit(model, opt, *digits8, epochs=1, batch_size=32, seed=1, start_epoch=1,
              progress=False, log=None)
    assert h_b["epoch"] == [2]
    assert h_a["loss"] + h_b["loss"] == h_full["loss"]
    for k, v in params_of(m_full).items():
        np.testing.assert_array_equal(model.state_dict()[k], v, err_msg=k)


def test_fit_without_test_set(digits8):
    lines = []
    _, _, h = run(digits8[:2], epochs=1, log=lines.append)
    assert np.isnan(h["test_acc"][0]) and np.isnan(h["test_loss"][0])
    assert "test acc" not in lines[0] and LINE.match(lines[0])


def test_fit_progress_bar_on_stderr_summary_on_stdout(digits8, capsys):
    run(digits8, epochs=1, progress=True, log=print)
    out, err = capsys.readouterr()
    assert LINE.match(out.strip().splitlines()[-1])
    assert "epoch 1/1" in err and "/10" in err and "batch" in err  # the tqdm bar: 10 batches
    assert "batch" not in out


def test_fit_without_progress_bar_does_not_import_tqdm():
    """tqdm.auto imports asyncio (25 ms of a short training run): only a visible bar pays for it."""
    import subprocess

    code = ("import sys, numpy as np\n"
            "from tinygrad_cnn import nn, optim\n"
            "from tinygrad_cnn.train import fit\n"
            "model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))\n"
            "x = np.zeros((6, 1, 2, 2), np.float32); y = np.array([0, 1] * 3)\n"
            "fit(model, optim.SGD(model.parameters(), lr=0.1), x, y, epochs=1, batch_size=4, progress=False, log=None)\n"
            "assert not any(m.startswith('tqdm') for m in sys.modules), 'tqdm imported'\n"
            "fit(model, optim.SGD(model.parameters(), lr=0.1), x, y, epochs=1, batch_size=4, progress=True, log=None)\n"
            "assert 'tqdm.auto' in sys.modules  # negative control: a bar imports it\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]


def test_fit_leaves_no_graph_alive(digits8):
    model, opt, _ = run(digits8, epochs=1)
    gc.collect()
    alive = [o for o in gc.get_objects() if issubclass(type(o), Function)]  # no __class__ lookups
    assert alive == []
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_fit_on_epoch_can_stop(digits8):
    seen = []

    def on_epoch(epoch, history):
        seen.append((epoch, len(history["loss"])))
        return epoch == 2

    _, _, h = run(digits8, epochs=5, on_epoch=on_epoch)
    assert seen == [(1, 1), (2, 2)]
    assert h["epoch"] == [1, 2]


def test_fit_stops_on_nan(digits8):
    model = small_cnn()
    model.parameters()[0].data[...] = np.nan
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1/"):
        fit(model, opt, *digits8, epochs=1, batch_size=32, progress=False, log=None)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(epochs=0), ValueError, "epochs"),
    (dict(epochs=1.5), TypeError, "epochs"),  # the wrong type: TypeError, by the one policy
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(start_epoch=-1), ValueError, "start_epoch"),
])
def test_fit_rejects_bad_arguments(digits8, kw, exc, match):
    model = small_cnn()
    opt = optim.SGD(model.parameters(), lr=0.1)
    args = dict(epochs=1, batch_size=8, seed=0, progress=False, log=None)
    args.update(kw)
    with pytest.raises(exc, match=match):
        fit(model, opt, *digits8, **args)


def test_fit_rejects_bad_data(digits8):
    model = small_cnn()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y, xt, yt = digits8
    with pytest.raises(ValueError, match="same number of samples"):
        fit(model, opt, x, y[:-1], epochs=1, progress=False, log=None)
    with pytest.raises(ValueError, match="both x_test and y_test"):
        fit(model, opt, x, y, xt, None, epochs=1, progress=False, log=None)
    with pytest.raises(TypeError, match="integer class indices"):
        fit(model, opt, x, y.astype(np.float32), epochs=1, progress=False, log=None)


def test_fit_lr_schedule_and_augment(digits8):
    calls = []

    def augment(xb, rng):
        calls.append(len(xb))
        return random_shift(1)(xb, rng)

    model, opt, h = run(digits8, epochs=3, lr=0.1, lr_schedule=cosine_schedule(0.1, 3),
                        augment=augment)
    assert h["lr"] == pytest.approx([0.1, 0.075, 0.025])
    assert opt.lr == pytest.approx(0.025)
    assert sum(calls) == 3 * 300 and max(calls) == 32
    # reproducible with augmentation too
    _, _, h2 = run(digits8, epochs=3, lr=0.1, lr_schedule=cosine_schedule(0.1, 3),
                   augment=random_shift(1))
    assert h2["loss"] == h["loss"]
    with pytest.raises(TypeError, match="augment"):
        run(digits8, epochs=1, augment=3)


# ------------------------------------------------------------------------------- evaluate

class Fixed(nn.Module):
    """logits = x @ W + b with fixed weights."""

    def __init__(self, w, b):
        super().__init__()
        self.w = nn.Parameter(np.asarray(w, dtype=np.float64))
        self.b = nn.Parameter(np.asarray(b, dtype=np.float64))

    def forward(self, x):
        return x @ self.w + self.b


def test_evaluate_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 3))
    y = np.array([0, 1, 2, 3, 0, 1, 2], dtype=np.int64)
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    z = x @ w + b
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    want_loss = -log_p[np.arange(7), y].mean()
    want_acc = float((z.argmax(1) == y).mean())
    model = Fixed(w, b)
    for bs in (1, 2, 3, 7, 100):
        loss, acc = evaluate(model, x, y, batch_size=bs)
        assert isinstance(loss, float) and isinstance(acc, float)
        assert loss == pytest.approx(want_loss, rel=1e-12)
        assert acc == want_acc
    assert all(p.grad is None for p in model.parameters())


def test_evaluate_exact_accuracy_and_restores_mode():
    # identity logits: prediction = argmax of the row
    x = np.eye(4)[[0, 1, 2, 3, 0]]
    y = np.array([0, 1, 2, 0, 1])  # 3 of 5 right
    model = Fixed(np.eye(4), np.zeros(4))
    model.train()
    assert evaluate(model, x, y, batch_size=2)[1] == pytest.approx(0.6)
    assert model.training
    model.eval()
    evaluate(model, x, y)
    assert not model.training


def test_evaluate_rejects_bad_input():
    model = Fixed(np.eye(4), np.zeros(4))
    with pytest.raises(ValueError, match="same number of samples"):
        evaluate(model, np.zeros((3, 4)), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="no samples"):
        evaluate(model, np.zeros((0, 4)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="batch_size"):
        evaluate(model, np.zeros((3, 4)), np.zeros(3, dtype=np.int64), batch_size=0)


# ------------------------------------------------------------------------------- plotting

def test_plot_history_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = {"epoch": [1, 2, 3], "loss": [1.0, 0.5, 0.3], "train_acc": [0.6, 0.8, 0.9],
               "test_loss": [1.1, 0.7, 0.5], "test_acc": [0.5, 0.7, 0.85],
               "seconds": [1.0, 1.0, 1.0]}
    path = tmp_path / "curves.png"
    fig = plot_history(history, path, title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 2
    # without a test set (NaN curves) it still plots
    history.update(test_loss=[float("nan")] * 3, test_acc=[float("nan")] * 3)
    plot_history(history, tmp_path / "no_test")
    assert (tmp_path / "no_test.png").exists() or (tmp_path / "no_test").exists()


def test_plot_history_rejects_empty(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="history"):
        plot_history({"loss": []}, tmp_path / "x.png")


def test_plot_history_without_matplotlib(monkeypatch, tmp_path):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(ImportError, match=r'pip install -e "\.\[plot\]".*pip install matplotlib'):
        plot_history({"loss": [1.0]}, tmp_path / "x.png")


# ------------------------------------------------------------------------------- schedulers

def test_fit_with_a_scheduler_equals_the_lr_schedule(digits8):
    _, _, h_fn = run(digits8, epochs=3, lr=0.1, lr_schedule=cosine_schedule(0.1, 3))
    model = small_cnn(0)
    opt = optim.Adam(model.parameters(), lr=0.1)
    h = fit(model, opt, *digits8, epochs=3, batch_size=32, seed=0, progress=False, log=None,
            scheduler=CosineAnnealingLR(opt, T_max=3))
    for key in HISTORY_KEYS:
        if key != "seconds":
            assert h[key] == h_fn[key], key
    assert opt.lr == pytest.approx(0.0, abs=1e-15)  # stepped after the last epoch too
    with pytest.raises(ValueError, match="not both"):
        fit(model, opt, *digits8, epochs=1, progress=False, log=None,
            scheduler=CosineAnnealingLR(opt, T_max=3), lr_schedule=cosine_schedule(0.1, 3))
    with pytest.raises(TypeError, match="scheduler"):
        fit(model, opt, *digits8, epochs=1, progress=False, log=None, scheduler=0.1)


def test_old_import_paths_of_train():
    import tinygrad_cnn.train as train

    assert train.plot_history is plot_history and train.cosine_schedule is cosine_schedule


# ----------------------------------------------------------------------------------- recipe

def test_recipe_defaults_and_optimizer_defaults():
    r = TrainingRecipe()
    assert (r.dataset, r.size, r.epochs, r.batch_size, r.optimizer, r.seed) == \
        ("digits", 32, 25, 32, "sgd", 0)
    assert (r.lr, r.momentum, r.weight_decay) == (0.05, 0.9, 5e-4)
    assert (r.schedule, r.augment) == ("cosine", "affine")
    assert (r.max_rotation, r.max_scale, r.max_shift) == (10.0, 0.1, 2.0)
    a = TrainingRecipe(optimizer="adam")
    assert (a.lr, a.momentum, a.weight_decay) == (OPTIMIZER_DEFAULTS["adam"]["lr"], None, 0.0)
    assert TrainingRecipe(lr=0.01).lr == 0.01
    assert "rotation <= 10 degrees, scale 0.9-1.1 and shift <= 2 px" in r.describe_augmentation()
    assert r.augmentation().params == (10.0, 0.1, 2.0)
    assert TrainingRecipe(augment="shift").augmentation().max_shift == 2
    assert TrainingRecipe(augment="none").augmentation() is None


@pytest.mark.parametrize("kw, exc, match", [
    (dict(epochs=0), ValueError, "epochs"),
    (dict(epochs=2.5), TypeError, "epochs"),
    (dict(optimizer="rmsprop"), ValueError, "optimizer"),
    (dict(optimizer="adam", momentum=0.9), ValueError, "sgd only"),
    (dict(lr=0.0), ValueError, "lr"),
    (dict(momentum=1.0), ValueError, "momentum"),
    (dict(schedule="step"), ValueError, "schedule"),
    (dict(augment=None), TypeError, "augment"),
    (dict(dataset="mnist"), ValueError, "data_dir"),
    (dict(seed=-1), ValueError, "seed"),
])
def test_recipe_rejects_bad_settings(kw, exc, match):
    with pytest.raises(exc, match=match):
        TrainingRecipe(**kw)


def test_recipe_run_and_resume(tmp_path, monkeypatch):
    # no first-run notice among the lines counted here, whatever is compiled already
    monkeypatch.setattr(recipe_module, "_compile_notice", lambda say: contextlib.nullcontext())
    lines = []
    recipe = TrainingRecipe(limit=48, epochs=2, batch_size=16, augment="shift", seed=2)
    result = recipe.run(progress=False, log=lines.append)
    assert lines[0].startswith("LeNet-5") and "48 train / 48 test" in lines[0]
    assert len(lines) == 3 and result.history["epoch"] == [1, 2]
    assert result.test_accuracy == result.history["test_acc"][-1]
    # one epoch, saved, then one more resumed: the same weights as two in one go
    ck = tmp_path / "ck.npz"
    TrainingRecipe(limit=48, epochs=1, batch_size=16, augment="shift", seed=2,
                   schedule="constant").run(progress=False, log=None, save=ck)
    again = TrainingRecipe(limit=48, epochs=1, batch_size=16, augment="shift", seed=2,
                           schedule="constant").run(progress=False, log=lines.append, resume=ck)
    assert any(line == f"resumed from {ck} after epoch 1" for line in lines)
    whole = TrainingRecipe(limit=48, epochs=2, batch_size=16, augment="shift", seed=2,
                           schedule="constant").run(progress=False, log=None)
    assert again.history["epoch"] == [1, 2]
    for k, v in params_of(whole.model).items():
        np.testing.assert_array_equal(again.model.state_dict()[k], v, err_msg=k)


def _compiling_warm_up(monkeypatch):
    """Make the recipe's warm-up compile a new function first, as on a first run."""
    import numba

    warm_up = recipe_module._warm_up

    def compiling(*args):
        numba.njit(lambda a: a + 1)(1)  # a function no cache holds: Numba compiles it
        warm_up(*args)

    monkeypatch.setattr(recipe_module, "_warm_up", compiling)


@pytest.mark.parametrize("compiles", [True, False])
def test_first_run_notice_before_the_first_epoch(monkeypatch, compiles):
    recipe = TrainingRecipe(limit=16, epochs=1)
    if compiles:
        _compiling_warm_up(monkeypatch)
    else:
        recipe.run(progress=False, log=None)  # every kernel of the run compiled (or loaded) now
    lines = []
    recipe.run(progress=False, log=lines.append)
    notices = [line for line in lines if "compiling kernels" in line]
    assert notices == ([COMPILE_NOTICE] if compiles else [])
    if compiles:
        assert lines.index(notices[0]) == 1 and lines[2].startswith("epoch")


def test_warm_up_leaves_the_model_and_its_optimiser_as_they_were():
    recipe = TrainingRecipe(limit=40, epochs=1)
    x, y = recipe.load_data()[:2]
    model, opt = recipe.build()
    weights = {k: v.copy() for k, v in model.state_dict().items()}
    state = opt.state_dict()
    recipe_module._warm_up(model, opt, x[:32], y[:32], recipe.augmentation())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, weights[k], err_msg=k)
    assert opt.state_dict()["state"] == state["state"] == {} and opt.step_count == 0
    assert all(p.grad is None for p in model.parameters()) and model.training
    # negative control: the same two steps on the model itself do change it
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(Tensor(x[:32])), y[:32]).backward()
        opt.step()
    assert any(not np.array_equal(v, weights[k]) for k, v in model.state_dict().items())


def test_warm_up_of_a_model_that_cannot_be_copied_steps_nothing(monkeypatch):
    import copy

    recipe = TrainingRecipe(limit=40, epochs=1)
    x, y = recipe.load_data()[:2]
    model, opt = recipe.build()
    model.eval()
    weights = {k: v.copy() for k, v in model.state_dict().items()}

    def refuse(*args, **kwargs):
        raise TypeError("cannot pickle '_io.TextIOWrapper' object")

    monkeypatch.setattr(copy, "deepcopy", refuse)
    recipe_module._warm_up(model, opt, x[:32], y[:32], recipe.augmentation())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, weights[k], err_msg=k)
    assert opt.step_count == 0 and all(p.grad is None for p in model.parameters())
    assert not model.training  # its mode as it was


def test_compile_notice_once_when_numba_compiles_and_never_otherwise():
    import numba

    said = []
    add_one = numba.njit(lambda a: a + 1)
    with recipe_module._compile_notice(said.append):
        assert add_one(1) == 2 and add_one(1.5) == 2.5  # two compilations (int, float): one notice
    assert said == [COMPILE_NOTICE]
    said.clear()
    with recipe_module._compile_notice(said.append):
        assert add_one(2) == 3  # compiled already: a call, no compilation
    assert said == []
    add_one(3.5)
    assert said == []  # outside the block nothing is said


def test_a_second_training_run_does_not_announce_compiling():
    """The train command's notice says "first run only": once a run has compiled its kernels
    into Numba's on-disk cache, the next run, in a new process, loads them and says nothing."""
    import subprocess

    cmd = [sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", "1", "--limit", "64",
           "--no-progress"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "test accuracy" in second.stdout and COMPILE_NOTICE not in second.stdout, second.stdout
