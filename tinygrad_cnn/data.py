"""Datasets and mini-batching.

- :func:`load_digits`: scikit-learn's bundled 8x8 handwritten digits (no download), optionally
  resized by bilinear interpolation (e.g. to 32x32 for LeNet-5), with a fixed seeded
  stratified train/test split.
- :func:`load_mnist`: the standard MNIST IDX files (raw or ``.gz``) from a directory.
- :func:`read_idx`: parser for a single IDX file.
- :func:`batches`: mini-batch generator with reproducible shuffling.
- :func:`resize_bilinear`: numpy bilinear resize (``align_corners=False``).

Images are float32 ``(N, 1, H, W)``; labels are int64.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import zlib

import numpy as np

__all__ = ["load_digits", "load_mnist", "read_idx", "batches", "resize_bilinear",
           "MNIST_MEAN", "MNIST_STD"]

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _check_int(name, value, minimum=1):
    """Return ``value`` as int if it is an integer >= minimum, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r} "
                         f"({type(value).__name__})")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def _interp_matrix(n_in, n_out):
    """(n_out, n_in) bilinear interpolation weights, align_corners=False (half-pixel centres).

    Output pixel ``i`` samples input coordinate ``(i + 0.5) * n_in / n_out - 0.5``, clamped to
    the valid range (edge pixels are replicated), as PyTorch / OpenCV / PIL bilinear resize.
    Every row sums to 1, so a constant image stays constant.
    """
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


def resize_bilinear(images, size):
    """Bilinearly resize the last two axes of ``images`` to ``size`` (int or ``(h, w)``).

    Uses half-pixel centres (``align_corners=False``), like ``torch.nn.functional.interpolate``
    with ``mode='bilinear'`` (no antialiasing when shrinking). Returns float32 unless the input
    is float64.
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"images must have at least 2 dimensions (..., H, W), "
                         f"got shape {images.shape}")
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"size must be an int or a pair (h, w), got {size!r}")
        out_h, out_w = (_check_int("size", s) for s in size)
    else:
        out_h = out_w = _check_int("size", size)
    in_h, in_w = images.shape[-2:]
    if in_h < 1 or in_w < 1:
        raise ValueError(f"images must have non-empty spatial dimensions, got shape "
                         f"{images.shape}")
    dtype = np.float64 if images.dtype == np.float64 else np.float32
    rh = _interp_matrix(in_h, out_h)
    rw = _interp_matrix(in_w, out_w)
    # out[..., i, j] = sum_{k,l} rh[i, k] * img[..., k, l] * rw[j, l]
    out = np.einsum("ik,...kl,jl->...ij", rh, images.astype(np.float64), rw, optimize=True)
    return np.ascontiguousarray(out, dtype=dtype)


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


# --------------------------------------------------------------------------------------------
# scikit-learn digits
# --------------------------------------------------------------------------------------------

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

    from sklearn.datasets import load_digits as _sk_load_digits  # lazy: slow import

    bunch = _sk_load_digits()
    images = np.asarray(bunch.images, dtype=np.float64) / 16.0  # (1797, 8, 8) in [0, 1]
    labels = np.asarray(bunch.target, dtype=np.int64)

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


# --------------------------------------------------------------------------------------------
# MNIST / IDX
# --------------------------------------------------------------------------------------------

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path):
    """All bytes of ``path``, transparently gunzipped if it is gzip-compressed."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the suffix
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
    return raw


def read_idx(path, ndim=None):
    """Read one IDX file (raw or gzip-compressed) into a numpy array.

    Header: two zero bytes, a dtype code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then one big-endian uint32 per
    dimension. The payload must hold exactly the product of the dims elements.

    ``ndim``: if given, the required number of dimensions. Raises ``FileNotFoundError`` for a
    missing file and ``ValueError`` (naming the path) for any malformed content.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(2, f"IDX file not found: {path}", path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(data)} bytes, header needs 4)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: bad IDX magic number {data[:4].hex()} "
                         f"(must start with two zero bytes)")
    code, nd = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02x} (magic {data[:4].hex()}; "
                         f"expected one of {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    if ndim is not None and nd != ndim:
        raise ValueError(f"{path}: expected an IDX file with {ndim} dimension(s), "
                         f"header says {nd}")
    header = 4 + 4 * nd
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header: expected {header} bytes for {nd} "
                         f"dimension(s), file has {len(data)}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=nd, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    actual = len(data) - header
    if actual != expected:
        kind = "truncated" if actual < expected else "oversized"
        raise ValueError(f"{path}: {kind} IDX payload: dims {dims} need {expected} bytes, "
                         f"file has {actual} bytes after the {header}-byte header")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _find_mnist_file(directory, base):
    """Path of ``base`` in ``directory``: raw, ``.gz``, or the ``name.idxN-ubyte`` variant."""
    stem, _, rest = base.partition("-idx")  # 'train-images', '3-ubyte'
    dotted = f"{stem}.idx{rest}"
    candidates = [base, base + ".gz", dotted, dotted + ".gz"]
    for name in candidates:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(
        2, f"MNIST file not found in {directory!r}: looked for {', '.join(candidates)}",
        os.path.join(directory, base))


def _mnist_split(directory, which):
    img_path = _find_mnist_file(directory, _MNIST_FILES[f"{which}_images"])
    lbl_path = _find_mnist_file(directory, _MNIST_FILES[f"{which}_labels"])
    images = read_idx(img_path, ndim=3)
    labels = read_idx(lbl_path, ndim=1)
    for p, a in ((img_path, images), (lbl_path, labels)):
        if a.dtype != np.uint8:
            raise ValueError(f"{p}: MNIST files must hold unsigned bytes (code 0x08), "
                             f"got dtype {a.dtype}")
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{img_path}: MNIST images must be 28x28, got shape {images.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{which} split: {images.shape[0]} images in {img_path} but "
                         f"{labels.shape[0]} labels in {lbl_path}")
    if labels.size and labels.max() > 9:
        bad = int(np.flatnonzero(labels > 9)[0])
        raise ValueError(f"{lbl_path}: labels must be in 0..9, label {bad} is {labels[bad]}")
    return images, labels.astype(np.int64)


def load_mnist(directory, normalize=True, size=28):
    """Load MNIST from the four standard IDX files in ``directory``.

    Files: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each raw or with ``.gz``; the dotted variants
    (``train-images.idx3-ubyte``) are also accepted.

    Images: float32 ``(N, 1, size, size)`` scaled to [0, 1] and, if ``normalize``,
    standardised with MNIST's mean 0.1307 and std 0.3081. ``size`` is 28 (as stored) or 32
    (2 pixels of background on each side, the input LeNet-5 expects). Labels: int64.
    """
    directory = os.fspath(directory)
    if isinstance(size, bool) or size not in (28, 32):
        raise ValueError(f"size must be 28 or 32, got {size!r}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(2, f"MNIST directory not found: {directory}", directory)
    out = []
    for which in ("train", "test"):
        images, labels = _mnist_split(directory, which)
        x = images.astype(np.float32)[:, None, :, :]
        x /= np.float32(255.0)
        background = np.zeros(1, dtype=np.float32)  # a 0 pixel, transformed like x
        if normalize:
            for a in (x, background):
                a -= np.float32(MNIST_MEAN)
                a /= np.float32(MNIST_STD)
        if size == 32:
            x = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="constant",
                       constant_values=background[0])
        out += [x, labels]
    return tuple(out)


# --------------------------------------------------------------------------------------------
# mini-batches
# --------------------------------------------------------------------------------------------

def batches(x, y, batch_size, shuffle=True, seed=None, rng=None):
    """Iterate over ``(xb, yb)`` mini-batches of numpy arrays.

    Every sample appears exactly once per pass; the last batch may be smaller. With
    ``shuffle`` the order is a permutation drawn from ``rng`` (a ``numpy.random.Generator``)
    or, if not given, from ``numpy.random.default_rng(seed)`` (reproducible for a fixed seed).
    Arguments are validated immediately, not on the first ``next()``.
    """
    x = np.asarray(getattr(x, "data", x)) if not isinstance(x, np.ndarray) else x
    y = np.asarray(getattr(y, "data", y)) if not isinstance(y, np.ndarray) else y
    batch_size = _check_int("batch_size", batch_size)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must have a leading sample axis, got shapes x {x.shape} "
                         f"and y {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, got shapes "
                         f"x {x.shape} and y {y.shape}")
    if rng is not None and seed is not None:
        raise ValueError("pass either seed or rng, not both")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n = len(x)
    if shuffle:
        gen = rng if rng is not None else np.random.default_rng(seed)
        order = gen.permutation(n)
    else:
        order = None

    def _gen():
        for start in range(0, n, batch_size):
            if order is None:
                sl = slice(start, start + batch_size)
                yield x[sl], y[sl]
            else:
                idx = order[start:start + batch_size]
                yield x[idx], y[idx]

    return _gen()
