"""scikit-learn's bundled 8x8 handwritten digits (no download), resized and split."""

from __future__ import annotations

import gzip
import importlib.util
import numbers
import os

import numpy as np

from .resize import _check_int, resize_bilinear

__all__ = ["load_digits"]


def _digits_arrays():
    """scikit-learn's digits as ``(images (1797, 8, 8) float64 in 0..16, labels int64)``.

    Read straight from the CSV file that scikit-learn ships (``datasets/data/digits.csv.gz``,
    the file its ``load_digits`` parses), found without importing scikit-learn: that import
    takes about a second, most of a short training run's start-up.  Falls back to
    ``sklearn.datasets.load_digits`` if the file is not where it is expected.
    """
    spec = importlib.util.find_spec("sklearn")
    roots = list(spec.submodule_search_locations or ()) if spec is not None else []
    for root in roots:
        path = os.path.join(root, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            with gzip.open(path, "rt") as f:
                data = np.loadtxt(f, delimiter=",")
            if data.ndim == 2 and data.shape[1] == 65:
                return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(np.int64)
    if spec is None:
        raise ModuleNotFoundError("load_digits needs scikit-learn, which holds the digits: pip install scikit-learn")
    from sklearn.datasets import load_digits as _sk_load_digits  # slow import

    bunch = _sk_load_digits()
    return np.asarray(bunch.images, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def _stratified_split(labels, test_fraction, rng):
    """Indices (train, test): each class split in proportion, both orders shuffled."""
    train_parts, test_parts = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(len(idx) * test_fraction))
        if len(idx) >= 2:  # keep every class on both sides when possible
            n_test = min(max(n_test, 1), len(idx) - 1)
        test_parts.append(idx[:n_test])
        train_parts.append(idx[n_test:])
    train = np.concatenate(train_parts)
    test = np.concatenate(test_parts)
    return train[rng.permutation(len(train))], test[rng.permutation(len(test))]


def load_digits(size=8, test_fraction=0.2, seed=0):
    """Load scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download).

    Parameters
    ----------
    size : int >= 1
        Output side length; images are bilinearly resized from 8x8 (e.g. ``size=32`` for
        LeNet-5). ``size=8`` returns the original pixels.
    test_fraction : float in (0, 1)
        Fraction of each class put in the test split.
    seed : int
        Seed of the ``numpy.random.default_rng`` used for the stratified split.

    Returns
    -------
    x_train, y_train, x_test, y_test
        Images float32 ``(N, 1, size, size)``, scaled to [0, 1] (``/16``) and then standardised
        with the training split's mean and std (the same transform applied to the test split);
        labels int64.
    """
    size = _check_int("size", size)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) \
            or not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    test_fraction = float(test_fraction)

    images, labels = _digits_arrays()
    images = images / 16.0  # (1797, 8, 8) in [0, 1]

    if size != 8:
        images = resize_bilinear(images, size).astype(np.float64)
    images = images[:, None, :, :]

    rng = np.random.default_rng(seed)
    train_idx, test_idx = _stratified_split(labels, test_fraction, rng)
    x_train, x_test = images[train_idx], images[test_idx]
    mean = x_train.mean()
    std = x_train.std()
    if std == 0:
        std = 1.0
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    return x_train, labels[train_idx].copy(), x_test, labels[test_idx].copy()
