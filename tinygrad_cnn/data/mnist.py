"""MNIST: the IDX file format (raw or gzip-compressed) and the four standard files."""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["load_mnist", "read_idx", "MNIST_MEAN", "MNIST_STD"]

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


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
