"""Tests for the command line (python -m tinygrad_cnn), run in-process through main()."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import tinygrad_cnn
from tinygrad_cnn import load
from tinygrad_cnn.__main__ import main

FINAL = re.compile(r"^test accuracy: [01]\.\d{4}$")
EPOCH = re.compile(r"^epoch +(\d+)/(\d+)  loss \d+\.\d{4}  train acc [01]\.\d{4}  "
                   r"test acc [01]\.\d{4}  \d+\.\ds$")
QUICK = ["train", "--limit", "64", "--no-progress"]

ALL_OPTIONS = ["--dataset", "--data-dir", "--limit", "--epochs", "--batch-size", "--optimizer",
               "--lr", "--schedule", "--momentum", "--weight-decay", "--augment", "--seed",
               "--save", "--resume", "--plot", "--no-progress", "--threads"]


def run_ok(capsys, *args):
    rc = main(QUICK + list(args))
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert FINAL.match(lines[-1]), lines[-1]
    return lines, err


def run_error(capsys, *args, quick=True):
    with pytest.raises(SystemExit) as info:
        main((QUICK if quick else []) + list(args))
    out, err = capsys.readouterr()
    assert info.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert "epoch" not in out  # no training happened
    return lines[0]


def model_params(ckpt):
    return {k: v for k, v in ckpt.items() if k.startswith("model.")}


# ------------------------------------------------------------------------------ training

def test_train_smoke(capsys):
    lines, err = run_ok(capsys, "--epochs", "2", "--batch-size", "16")
    epochs = [EPOCH.match(line) for line in lines if line.startswith("epoch")]
    assert len(epochs) == 2 and all(epochs), lines
    assert [(int(m.group(1)), int(m.group(2))) for m in epochs] == [(1, 2), (2, 2)]
    assert lines[0].startswith("LeNet-5") and "64 train / 64 test" in lines[0]
    assert "batch" not in err  # --no-progress


def test_train_shows_progress_bar_on_stderr(capsys):
    rc = main(["train", "--limit", "40", "--epochs", "1", "--batch-size", "8"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "epoch 1/1" in err and "/5" in err  # tqdm bar over 5 batches
    assert FINAL.match(out.strip().splitlines()[-1])


def test_train_default_settings(capsys):
    lines, _ = run_ok(capsys, "--epochs", "1")
    assert ("sgd lr 0.05 (cosine), momentum 0.9, weight decay 0.0005, batch 32, "
            "affine augmentation, seed 0") in lines[0]


def test_train_sgd(capsys):
    lines, _ = run_ok(capsys, "--epochs", "1", "--optimizer", "sgd", "--lr", "0.01",
                      "--momentum", "0.5", "--weight-decay", "1e-4", "--threads", "1")
    assert "sgd lr 0.01 (cosine), momentum 0.5, weight decay 0.0001" in lines[0]
    assert "1 thread" in lines[0]


def test_train_adam_constant_no_augmentation(capsys):
    lines, _ = run_ok(capsys, "--epochs", "1", "--optimizer", "adam", "--schedule", "constant",
                      "--augment", "none")
    assert "adam lr 0.002 (constant)" in lines[0] and "no augmentation" in lines[0]


def test_save_then_resume_continues(tmp_path, capsys):
    ck1, ck2, ck_full = (str(tmp_path / n) for n in ("ck1.npz", "ck2.npz", "full.npz"))
    run_ok(capsys, "--epochs", "1", "--seed", "5", "--batch-size", "16", "--augment", "shift",
           "--save", ck1)
    state = load(ck1)
    assert int(state["meta.epoch"]) == 1
    assert int(state["meta.seed"]) == 5
    assert str(state["meta.optimizer"]) == "sgd"
    assert float(state["meta.lr"]) == 0.05
    assert str(state["meta.schedule"]) == "cosine"
    assert str(state["meta.augment"]) == "shift"
    assert int(state["meta.batch_size"]) == 16
    assert any(k.startswith("model.c1.") for k in state)
    assert "optim.step" in state and any(k.startswith("optim.state.") for k in state)
    assert state["meta.history.loss"].shape == (1,)

    lines, _ = run_ok(capsys, "--resume", ck1, "--epochs", "2", "--save", ck2)
    assert any(line.startswith("resumed from") and "after epoch 1" in line for line in lines)
    epochs = [EPOCH.match(line) for line in lines if line.startswith("epoch")]
    assert [(int(m.group(1)), int(m.group(2))) for m in epochs] == [(2, 3), (3, 3)]
    resumed = load(ck2)
    assert int(resumed["meta.epoch"]) == 3
    for key in ("meta.seed", "meta.lr", "meta.augment", "meta.batch_size"):
        assert resumed[key] == state[key], key  # taken from the checkpoint
    assert resumed["meta.history.loss"].shape == (3,)
    np.testing.assert_array_equal(resumed["meta.history.loss"][:1], state["meta.history.loss"])
    assert int(resumed["optim.step"]) == 3 * int(state["optim.step"])

    # resuming is exact: 1 + 2 epochs == 3 epochs in one go
    run_ok(capsys, "--epochs", "3", "--seed", "5", "--batch-size", "16", "--augment", "shift",
           "--save", ck_full)
    full = load(ck_full)
    assert model_params(full).keys() == model_params(resumed).keys()
    for k, v in model_params(full).items():
        np.testing.assert_array_equal(resumed[k], v, err_msg=k)


def test_plot_writes_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    lines, _ = run_ok(capsys, "--epochs", "2", "--plot", str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"saved plot to {path}" in lines


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.tobytes())


def test_train_on_mnist_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n))
    lines, _ = run_ok(capsys, "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "1")
    assert "on mnist: 40 train / 20 test images" in lines[0]


# ---------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("args, match", [
    (["--epochs", "-1"], "--epochs"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "two"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--momentum", "1.5", "--optimizer", "sgd"], "--momentum"),
    (["--momentum", "0.9", "--optimizer", "adam"], "sgd only"),
    (["--schedule", "step"], "--schedule"),
    (["--augment", "-1"], "--augment"),
    (["--augment", "rotate"], "--augment"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--seed", "-3"], "--seed"),
    (["--threads", "0"], "--threads"),
    (["--threads", "100000"], "--threads"),
    (["--limit", "0"], "--limit"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--dataset", "foo"], "--dataset"),
    (["--dataset", "mnist"], "--data-dir"),
    (["--data-dir", "."], "only used with --dataset mnist"),
    (["--save", "/nonexistent-dir-xyz/ck.npz"], "does not exist"),
    (["--plot", "/nonexistent-dir-xyz/p.png"], "does not exist"),
    (["--resume", "/nonexistent-dir-xyz/ck.npz"], "checkpoint not found"),
    (["--bogus"], "unrecognized"),
    (["--seed", str(10**20)], "--seed"),
    (["--seed", str(2**63)], "--seed"),
    (["--batch-size", str(10**20)], "--batch-size"),
    (["--batch-size", str(2**20 + 1)], "--batch-size"),
    (["--epochs", str(10**6 + 1)], "--epochs"),
    (["--seed", "1" * 5000], "expected an integer"),
])
def test_bad_values_exit_2_with_one_line(capsys, args, match):
    line = run_error(capsys, *args)
    assert match in line


def test_mnist_directory_without_files(tmp_path, capsys):
    line = run_error(capsys, "--dataset", "mnist", "--data-dir", str(tmp_path))
    assert "cannot load mnist" in line and "not found" in line


def test_resume_garbage_file(tmp_path, capsys):
    bad = tmp_path / "garbage.npz"
    bad.write_bytes(b"this is not a checkpoint\n" * 10)
    line = run_error(capsys, "--resume", str(bad))
    assert "--resume" in line and "not a valid checkpoint" in line


def test_resume_npz_that_is_not_a_training_checkpoint(tmp_path, capsys):
    path = tmp_path / "weights.npz"
    tinygrad_cnn.save({"w": np.zeros(3)}, path)
    line = run_error(capsys, "--resume", str(path))
    assert "not a training checkpoint" in line


def test_resume_with_other_optimizer_or_model(tmp_path, capsys):
    path = str(tmp_path / "ck.npz")
    run_ok(capsys, "--epochs", "1", "--save", path)
    assert "trained with sgd" in run_error(capsys, "--resume", path, "--optimizer", "adam")
    state = load(path)
    state["model.c1.weight"] = np.zeros((3, 3), dtype=np.float32)
    tinygrad_cnn.save(state, path)
    assert "does not fit LeNet-5" in run_error(capsys, "--resume", path)


def test_no_command(capsys):
    run_error(capsys, quick=False)


# ---------------------------------------------------------------------------------- help

def test_train_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ALL_OPTIONS:
        assert option in out, option
    assert "test accuracy" in out


def test_module_help_subprocess():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_cnn.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "--help"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "train" in proc.stdout and "bench" in proc.stdout


def test_module_exit_keeps_output_and_status(tmp_path):
    """``python -m tinygrad_cnn`` leaves without finalization's garbage collections
    (``__main__._exit``): its printed lines, its checkpoint and its exit status are whole."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_cnn.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    ckpt = tmp_path / "run.npz"
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", "2",
                           "--limit", "64", "--no-progress", "--save", str(ckpt)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("test accuracy: ") and len(lines[-1]) == len("test accuracy: 0.0000")
    assert sum(line.startswith("epoch ") for line in lines) == 2
    state = tinygrad_cnn.checkpoint.read_training_checkpoint(str(ckpt))
    assert state.epoch == 2
    bad = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", "0"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error:")


# ----------------------------------------------------------------------------------- bench

def test_bench_delegates_remaining_arguments(monkeypatch):
    calls = []
    fake = types.ModuleType("tinygrad_cnn.benchmark")
    fake.main = lambda argv: calls.append(argv) or 3
    monkeypatch.setitem(sys.modules, "tinygrad_cnn.benchmark", fake)
    monkeypatch.setattr(tinygrad_cnn, "benchmark", fake, raising=False)
    assert main(["bench", "--quick", "--out", "x"]) == 3
    assert main(["bench", "--help"]) == 3
    assert calls == [["--quick", "--out", "x"], ["--help"]]


# ------------------------------------------------------------------------------- first run

@pytest.mark.parametrize("compiles", [True, False])
def test_first_run_notice_comes_before_training(monkeypatch, capsys, compiles):
    import numba

    from tinygrad_cnn import recipe

    if compiles:  # as on a first run: the warm-up meets a function no cache holds
        warm_up = recipe._warm_up
        monkeypatch.setattr(recipe, "_warm_up",
                            lambda *args: (numba.njit(lambda a: a + 1)(1), warm_up(*args)))
    else:
        run_ok(capsys, "--epochs", "1")  # this run's kernels are compiled (or loaded) now
    lines, _ = run_ok(capsys, "--epochs", "1")
    notice = "compiling kernels (first run only, about 30 s)..."
    assert (notice in lines) is compiles
    if compiles:
        assert lines.index(notice) < min(i for i, line in enumerate(lines)
                                         if line.startswith("epoch"))


def test_plot_without_matplotlib_names_a_working_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    line = run_error(capsys, "--plot", str(tmp_path / "p.png"))
    assert 'pip install -e ".[plot]"' in line and "pip install matplotlib" in line
    assert "tinygrad-cnn[plot]" not in line


def test_defaults_come_from_the_recipe(capsys):
    from tinygrad_cnn.recipe import TrainingRecipe

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    r = TrainingRecipe()
    assert f"(default: {r.epochs})" in out and f"(default: {r.lr:g} for sgd" in out
    assert r.describe_augmentation() in out


# ------------------------------------------------------------------- hostile files and paths

@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory):
    """The state of a one-epoch training checkpoint, to be altered by the tests below."""
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    assert main(QUICK + ["--epochs", "1", "--save", str(path)]) == 0
    return load(path)


@pytest.mark.parametrize("key, value", [
    ("optim.momentum", np.array(np.nan)),
    ("optim.lr", np.array(np.inf)),
    ("optim.state.0.momentum_buffer", np.full((6, 1, 5, 5), np.nan, np.float32)),
    ("model.c1.bias", np.full(6, np.inf, np.float32)),
    ("meta.history.loss", np.array(["a"])),
    ("meta.seed", np.array(-5)),
])
def test_resume_validates_every_value_before_training(tmp_path, capsys, trained_checkpoint,
                                                      key, value):
    state = dict(trained_checkpoint)
    assert key in state
    state[key] = value
    path = tmp_path / "bad.npz"
    tinygrad_cnn.save(state, path)
    line = run_error(capsys, "--resume", str(path), "--epochs", "1")
    assert key in line and "--resume" in line


def test_resume_with_optimiser_state_of_wrong_shape(tmp_path, capsys, trained_checkpoint):
    state = dict(trained_checkpoint)
    state["optim.state.0.momentum_buffer"] = np.zeros((2, 2), np.float32)
    path = tmp_path / "shape.npz"
    tinygrad_cnn.save(state, path)
    line = run_error(capsys, "--resume", str(path), "--epochs", "1")
    assert "does not fit" in line and "state.0.momentum_buffer" in line


def test_resume_of_a_fifo_exits_2_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "ck.npz"
    os.mkfifo(fifo)
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_cnn.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--resume", str(fifo)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "FIFO" in lines[0]


def test_output_paths_are_checked_before_training(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "does not exist" in run_error(capsys, "--save", str(afile / "sub.npz"))
    assert "is a directory" in run_error(capsys, "--save", str(tmp_path))
    assert "bytes long" in run_error(capsys, "--save", str(tmp_path / ("n" * 300)))
    assert "same file" in run_error(capsys, "--save", str(tmp_path / "x"), "--plot",
                                    str(tmp_path / "x"))
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        for option in ("--save", "--plot"):
            line = run_error(capsys, option, str(tmp_path / "fifo"))
            assert option in line and "FIFO" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        sorted(["afile"] + (["fifo"] if hasattr(os, "mkfifo") else []))  # nothing written


def test_plot_suffix_is_checked_before_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    line = run_error(capsys, "--plot", str(tmp_path / "curves.xyz"))
    assert "--plot" in line and "'xyz'" in line and "png" in line


def test_long_save_name_works(tmp_path, capsys):
    path = tmp_path / ("c" * 250 + ".npz")
    run_ok(capsys, "--epochs", "1", "--save", str(path))
    assert int(load(path)["meta.epoch"]) == 1


@pytest.mark.parametrize("prefix", ["train", "t10k"])
def test_mnist_split_without_images_exits_2(tmp_path, capsys, prefix):
    rng = np.random.default_rng(0)
    for p, n in (("train", 40), ("t10k", 20)):
        n = 0 if p == prefix else n
        write_idx(tmp_path / f"{p}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{p}-labels-idx1-ubyte", rng.integers(0, 10, n))
    line = run_error(capsys, "--dataset", "mnist", "--data-dir", str(tmp_path))
    assert f"{prefix}-images-idx3-ubyte" in line and "holds 0 images" in line
