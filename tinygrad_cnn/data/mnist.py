"""MNIST: the IDX file format (raw or gzip-compressed) and the four standard files."""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

from .. import _checks

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


#: the largest IDX payload read unless ``max_bytes`` says otherwise: MNIST's largest file
#: holds 47,040,000 bytes; EMNIST's digits 188,160,000
MAX_IDX_BYTES = 1 << 28
_GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 1 << 20


def _read_fully(stream, buffer) -> int:
    """Fill ``buffer`` (a writable memoryview) from ``stream``; returns the bytes read."""
    done = 0
    while done < len(buffer):
        n = stream.readinto(buffer[done:done + _READ_CHUNK])
        if not n:
            break
        done += n
    return done


def _count_rest(stream, limit=1 << 16) -> tuple:
    """``(n, exact)``: how many bytes remain in ``stream``, counting at most ``limit`` of them
    (a gzip stream is not inflated further than that)."""
    n = 0
    while n <= limit:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - n))
        if not chunk:
            return n, True
        n += len(chunk)
    return n, False


def _read_idx_header(stream, path, ndim):
    """``(dtype, dims, header_bytes)`` from the start of an IDX stream; ``ValueError`` if bad."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(magic)} bytes, header needs 4)")
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(f"{path}: bad IDX magic number {magic.hex()} "
                         f"(must start with two zero bytes)")
    code, nd = magic[2], magic[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02x} (magic {magic.hex()}; "
                         f"expected one of {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    if ndim is not None and nd != ndim:
        raise ValueError(f"{path}: expected an IDX file with {ndim} dimension(s), "
                         f"header says {nd}")
    header = 4 + 4 * nd
    raw_dims = stream.read(4 * nd)
    if len(raw_dims) < 4 * nd:
        raise ValueError(f"{path}: truncated IDX header: expected {header} bytes for {nd} "
                         f"dimension(s), file has {4 + len(raw_dims)}")
    dims = tuple(int.from_bytes(raw_dims[i:i + 4], "big") for i in range(0, 4 * nd, 4))
    return _IDX_DTYPES[code], dims, header


def _load_idx(path, ndim=None, max_bytes=MAX_IDX_BYTES, check=None):
    """Read an IDX file, validating its header (and ``check(dtype, dims)``) before its body.

    The body is streamed, gunzipped on the fly when the file starts with the gzip magic,
    into an array of exactly the size the header gives: a file whose body is shorter or
    longer is refused, and a longer one (a gzip "bomb") is not inflated beyond that size.
    """
    path = _checks.path_like(path, "path")
    with _checks.open_regular_file(path, "IDX file") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            dtype, dims, header = _read_idx_header(stream, path, ndim)
            expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
            if expected > max_bytes:
                raise ValueError(f"{path}: IDX header claims dims {dims} ({expected} bytes), "
                                 f"more than the {max_bytes} read at most (max_bytes)")
            if check is not None:
                check(dtype, dims)
            body = np.empty(expected, dtype=np.uint8)
            got = _read_fully(stream, memoryview(body))
            if got < expected:
                raise ValueError(f"{path}: truncated IDX payload: dims {dims} need {expected} "
                                 f"bytes, file has {got} bytes after the {header}-byte header")
            extra, exact = _count_rest(stream)
        except (OSError, EOFError, zlib.error) as exc:
            if not compressed:
                raise
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
        finally:
            if compressed:
                stream.close()
    if extra:
        size = f"{expected + extra} bytes" if exact else f"more than {expected + extra} bytes"
        raise ValueError(f"{path}: oversized IDX payload: dims {dims} need {expected} bytes, "
                         f"file has {size} after the {header}-byte header")
    return body.view(dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def read_idx(path, ndim=None, max_bytes=MAX_IDX_BYTES):
    """Read one IDX file (raw or gzip-compressed) into a numpy array.

    Header: two zero bytes, a dtype code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then one big-endian uint32 per
    dimension. The payload must hold exactly the product of the dims elements.

    ``ndim``: if given, the required number of dimensions. ``max_bytes``: the largest payload
    accepted (default :data:`MAX_IDX_BYTES`, 256 MiB); the header is checked against it
    before anything more is read or inflated. Raises ``FileNotFoundError`` for a missing
    file, ``TypeError`` if ``path`` is not a path, and ``ValueError`` (naming the path) for a
    file that is not a regular file or any malformed content.
    """
    max_bytes = _checks.nonneg_int(max_bytes, "max_bytes")
    return _load_idx(path, ndim, max_bytes)


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
        if os.path.exists(p):  # a FIFO or directory of that name is found, then refused
            return p
    raise FileNotFoundError(
        2, f"MNIST file not found in {directory!r}: looked for {', '.join(candidates)}",
        os.path.join(directory, base))


def _mnist_check(path, shape):
    """A ``check`` for :func:`_load_idx`: unsigned bytes, at least one item, items of ``shape``."""
    def check(dtype, dims):
        if dtype != np.uint8:
            raise ValueError(f"{path}: MNIST files must hold unsigned bytes (code 0x08), "
                             f"got dtype {dtype}")
        if dims[1:] != shape:
            raise ValueError(f"{path}: MNIST images must be 28x28, got shape {dims}")
        if dims[0] == 0:
            raise ValueError(f"{path}: holds 0 {'images' if shape else 'labels'}; an MNIST "
                             f"split needs at least one")
    return check


def _mnist_split(directory, which):
    img_path = _find_mnist_file(directory, _MNIST_FILES[f"{which}_images"])
    lbl_path = _find_mnist_file(directory, _MNIST_FILES[f"{which}_labels"])
    images = _load_idx(img_path, ndim=3, check=_mnist_check(img_path, (28, 28)))
    labels = _load_idx(lbl_path, ndim=1, check=_mnist_check(lbl_path, ()))
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

    Every file's header is checked (unsigned bytes, 28x28 images, at least one image, at
    most :data:`MAX_IDX_BYTES`) before its body is read or inflated. Raises ``TypeError`` if
    ``directory`` is not a path, ``FileNotFoundError`` for a missing directory or file and
    ``ValueError`` naming the file for malformed content.
    """
    directory = _checks.path_like(directory, "directory")
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
