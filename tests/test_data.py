"""Tests for tinygrad_cnn.data: digits, MNIST IDX reading, resize, mini-batching, augmentation."""

import gzip
import os
import struct

import numpy as np
import pytest

from tinygrad_cnn import data
from tinygrad_cnn.data import (batches, load_digits, load_mnist, random_affine, random_shift,
                               read_idx, resize_bilinear)


# --------------------------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits8():
    return load_digits()


@pytest.fixture(scope="module")
def digits32():
    return load_digits(size=32)


def test_digits_shapes_and_dtypes(digits8, digits32):
    for size, (xtr, ytr, xte, yte) in ((8, digits8), (32, digits32)):
        assert xtr.dtype == np.float32 and xte.dtype == np.float32
        assert ytr.dtype == np.int64 and yte.dtype == np.int64
        assert xtr.shape[1:] == (1, size, size) and xte.shape[1:] == (1, size, size)
        assert len(xtr) == len(ytr) and len(xte) == len(yte)
        assert len(xtr) + len(xte) == 1797
        assert abs(len(xte) / 1797 - 0.2) < 0.01
        assert set(np.unique(ytr)) == set(range(10)) == set(np.unique(yte))
        assert np.isfinite(xtr).all() and np.isfinite(xte).all()


def test_digits_stratified(digits8):
    from sklearn.datasets import load_digits as sk_load

    target = sk_load().target
    _, ytr, _, yte = digits8
    for c in range(10):
        n = int((target == c).sum())
        n_test = int((yte == c).sum())
        assert n_test + int((ytr == c).sum()) == n
        assert n_test == round(n * 0.2)


def test_digits_size8_is_original_and_split_is_a_partition(digits8):
    # size 8 keeps the original pixels up to one shared affine map (the standardisation);
    # the raw images span exactly [0, 16], so min/max undo it. Train + test must then be
    # exactly the 1,797 (image, label) pairs, each used once.
    from sklearn.datasets import load_digits as sk_load

    sk = sk_load()
    xtr, ytr, xte, yte = digits8
    allx = np.concatenate([xtr, xte]).reshape(1797, -1).astype(np.float64)
    ally = np.concatenate([ytr, yte])
    recovered = (allx - allx.min()) / (allx.max() - allx.min()) * 16
    np.testing.assert_allclose(recovered, np.round(recovered), atol=1e-3)
    ours = sorted((r.astype(np.int64).tobytes(), int(c))
                  for r, c in zip(np.round(recovered), ally))
    ref = sorted((r.astype(np.int64).tobytes(), int(c))
                 for r, c in zip(sk.images.reshape(1797, -1), sk.target))
    assert ours == ref


def test_digits_deterministic_and_seed_dependent(digits8):
    again = load_digits(seed=0)
    for a, b in zip(digits8, again):
        np.testing.assert_array_equal(a, b)
    other = load_digits(seed=1)
    assert not np.array_equal(digits8[1], other[1])


def test_digits_normalisation(digits8, digits32):
    for xtr, _, xte, _ in (digits8, digits32):
        assert abs(float(xtr.mean(dtype=np.float64))) < 1e-4
        assert abs(float(xtr.std(dtype=np.float64)) - 1.0) < 1e-4
        assert abs(float(xte.mean())) < 0.1  # same transform, similar distribution


def test_digits_test_fraction():
    xtr, _, xte, _ = load_digits(test_fraction=0.5, seed=3)
    assert abs(len(xte) - 1797 / 2) <= 10


@pytest.mark.parametrize("bad", [0, -3, 2.5, "32", None, True])
def test_digits_bad_size(bad):
    with pytest.raises(ValueError, match="size"):
        load_digits(size=bad)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, "0.2"])
def test_digits_bad_test_fraction(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=bad)


# --------------------------------------------------------------------------------------------
# bilinear resize
# --------------------------------------------------------------------------------------------

def test_resize_constant_stays_constant():
    img = np.full((3, 8, 8), 0.7)
    for size in (1, 3, 8, 13, 32):
        out = resize_bilinear(img, size)
        assert out.shape == (3, size, size)
        np.testing.assert_allclose(out, 0.7, rtol=1e-6)


def test_resize_identity():
    img = np.random.default_rng(0).random((2, 8, 8))
    np.testing.assert_allclose(resize_bilinear(img, 8), img, rtol=1e-12)


def test_resize_known_case():
    # half-pixel centres (align_corners=False), same as torch.nn.functional.interpolate
    img = np.array([[0.0, 1.0], [2.0, 3.0]])
    expected = np.array([[0.0, 0.25, 0.75, 1.0],
                         [0.5, 0.75, 1.25, 1.5],
                         [1.5, 1.75, 2.25, 2.5],
                         [2.0, 2.25, 2.75, 3.0]])
    np.testing.assert_allclose(resize_bilinear(img, 4), expected)
    # shrinking by 2 averages pixel pairs
    np.testing.assert_allclose(resize_bilinear(np.arange(4.0)[None, :], (1, 2)), [[0.5, 2.5]])


def test_resize_linear_ramp_and_range():
    # a linear ramp stays linear inside the image; values stay within the input range
    img = np.tile(np.arange(8.0), (8, 1))
    out = resize_bilinear(img, 32)
    assert out.min() >= 0.0 and out.max() <= 7.0
    j = np.arange(2, 30)
    np.testing.assert_allclose(out[:, 2:-2], np.broadcast_to((j + 0.5) / 4 - 0.5, (32, 28)),
                               atol=1e-6)
    np.testing.assert_allclose(out[:, :2], 0.0)
    np.testing.assert_allclose(out[:, -2:], 7.0)


def test_digits32_is_smooth_upscale(digits32, digits8):
    xtr32 = digits32[0]
    # neighbouring pixels of the upscaled image differ far less than in the original
    d32 = np.abs(np.diff(xtr32, axis=-1)).mean()
    d8 = np.abs(np.diff(digits8[0], axis=-1)).mean()
    assert d32 < d8 / 2


# --------------------------------------------------------------------------------------------
# MNIST / IDX
# --------------------------------------------------------------------------------------------

def idx_bytes(arr, code=0x08, ndim=None):
    arr = np.asarray(arr)
    nd = arr.ndim if ndim is None else ndim
    header = bytes([0, 0, code, nd]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def write(path, payload, gz=False):
    if gz:
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def make_mnist(tmp_path, gz=False, dotted=False, n_train=5, n_test=3, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        if dotted:
            name = name.replace("-idx", ".idx")
        write(tmp_path / (name + (".gz" if gz else "")), idx_bytes(arr), gz=gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_roundtrip(tmp_path, gz):
    imgs = np.random.default_rng(1).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 7], dtype=np.uint8)
    p1 = write(tmp_path / ("im" + (".gz" if gz else "")), idx_bytes(imgs), gz)
    p2 = write(tmp_path / ("lb" + (".gz" if gz else "")), idx_bytes(labels), gz)
    out = read_idx(p1)
    assert out.dtype == np.uint8 and out.shape == (5, 28, 28)
    np.testing.assert_array_equal(out, imgs)
    np.testing.assert_array_equal(read_idx(str(p2), ndim=1), labels)


def test_read_idx_other_dtypes(tmp_path):
    a = (np.arange(6).reshape(2, 3) - 3).astype(">i4")
    p = write(tmp_path / "i32", bytes([0, 0, 0x0C, 2]) + struct.pack(">II", 2, 3) + a.tobytes())
    out = read_idx(p)
    np.testing.assert_array_equal(out, a)
    assert out.dtype == np.int32


def test_read_idx_errors(tmp_path):
    imgs = np.zeros((5, 28, 28), dtype=np.uint8)
    good = idx_bytes(imgs)
    trunc = write(tmp_path / "trunc", good[:-10])
    with pytest.raises(ValueError) as e:
        read_idx(trunc)
    msg = str(e.value)
    assert str(trunc) in msg and "truncated" in msg and "3920" in msg and "3910" in msg

    big = write(tmp_path / "big", good + b"\x00")
    with pytest.raises(ValueError, match="oversized.*3920.*3921"):
        read_idx(big)

    bad_magic = write(tmp_path / "magic", b"\x01\x00" + good[2:])
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad_magic)

    bad_code = write(tmp_path / "code", b"\x00\x00\x07" + good[3:])
    with pytest.raises(ValueError, match="dtype code"):
        read_idx(bad_code)

    with pytest.raises(ValueError, match="expected an IDX file with 1 dimension"):
        read_idx(write(tmp_path / "nd", good), ndim=1)

    with pytest.raises(ValueError, match="header"):
        read_idx(write(tmp_path / "short", b"\x00\x00"))
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(write(tmp_path / "shorthdr", good[:9]))

    bad_gz = write(tmp_path / "bad.gz", gzip.compress(good)[:-20])
    with pytest.raises(ValueError, match="gzip"):
        read_idx(bad_gz)

    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize("gz,dotted", [(False, False), (True, False), (False, True),
                                       (True, True)])
def test_load_mnist(tmp_path, gz, dotted):
    arrays = make_mnist(tmp_path, gz=gz, dotted=dotted)
    xtr, ytr, xte, yte = load_mnist(tmp_path, normalize=False)
    assert xtr.shape == (5, 1, 28, 28) and xte.shape == (3, 1, 28, 28)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64 and yte.dtype == np.int64
    np.testing.assert_allclose(xtr[:, 0] * 255, arrays["train-images-idx3-ubyte"], atol=1e-4)
    np.testing.assert_allclose(xte[:, 0] * 255, arrays["t10k-images-idx3-ubyte"], atol=1e-4)
    np.testing.assert_array_equal(ytr, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_normalize_and_pad(tmp_path):
    arrays = make_mnist(tmp_path)
    raw = arrays["train-images-idx3-ubyte"]
    xtr, _, _, _ = load_mnist(tmp_path)
    np.testing.assert_allclose(xtr[:, 0], (raw / 255 - 0.1307) / 0.3081, rtol=1e-5, atol=1e-5)

    x32, y32, xte32, _ = load_mnist(tmp_path, size=32)
    assert x32.shape == (5, 1, 32, 32) and xte32.shape == (3, 1, 32, 32)
    np.testing.assert_array_equal(x32[:, :, 2:30, 2:30], xtr)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    bg = (0 - 0.1307) / 0.3081
    np.testing.assert_allclose(x32[:, 0][:, border], bg, rtol=1e-6)
    # a zero pixel inside the image and the padding are the same value exactly
    zero_pix = xtr[:, 0][raw == 0]
    if zero_pix.size:
        assert np.all(zero_pix == x32[0, 0, 0, 0])

    x32u, *_ = load_mnist(tmp_path, normalize=False, size=32)
    assert np.all(x32u[:, 0][:, border] == 0)


@pytest.mark.parametrize("bad", [27, 0, 31, "32", None, True])
def test_load_mnist_bad_size(tmp_path, bad):
    make_mnist(tmp_path)
    with pytest.raises(ValueError, match="size"):
        load_mnist(tmp_path, size=bad)


def test_load_mnist_missing_file(tmp_path):
    make_mnist(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte")
    with pytest.raises(FileNotFoundError) as e:
        load_mnist(tmp_path)
    msg = str(e.value)
    assert str(tmp_path) in msg
    for name in ("t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz",
                 "t10k-labels.idx1-ubyte"):
        assert name in msg
    with pytest.raises(FileNotFoundError, match="directory"):
        load_mnist(tmp_path / "absent")


def test_load_mnist_count_mismatch(tmp_path):
    make_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"5 images.*4 labels"):
        load_mnist(tmp_path)


def test_load_mnist_label_out_of_range(tmp_path):
    make_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.array([1, 10, 2], np.uint8)))
    with pytest.raises(ValueError, match=r"0\.\.9.*label 1 is 10"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_ndim_and_shape(tmp_path):
    make_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((5, 28 * 28), np.uint8)))
    with pytest.raises(ValueError, match="3 dimension"):
        load_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((5, 27, 28), np.uint8)))
    with pytest.raises(ValueError, match="28x28"):
        load_mnist(tmp_path)


def test_load_mnist_truncated(tmp_path):
    make_mnist(tmp_path, gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-1]))
    with pytest.raises(ValueError, match="truncated.*3920 bytes.*3919"):
        load_mnist(tmp_path)


# --------------------------------------------------------------------------------------------
# batches
# --------------------------------------------------------------------------------------------

def test_batches_cover_all_once_with_partial_last():
    x = np.arange(23 * 2).reshape(23, 2).astype(np.float32)
    y = np.arange(23)
    got = list(batches(x, y, 5, seed=0))
    assert [len(b[1]) for b in got] == [5, 5, 5, 5, 3]
    ys = np.concatenate([b[1] for b in got])
    assert sorted(ys.tolist()) == list(range(23))
    assert not np.array_equal(ys, y)  # shuffled
    for xb, yb in got:
        np.testing.assert_array_equal(xb, x[yb])  # pairs stay aligned


def test_batches_no_shuffle_in_order():
    x = np.arange(10)
    got = list(batches(x, x * 2, 4, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), x)
    assert [len(b[0]) for b in got] == [4, 4, 2]
    assert len(list(batches(x, x, 100))) == 1


def test_batches_reproducible():
    x = np.arange(50)
    a = [yb.tolist() for _, yb in batches(x, x, 7, seed=42)]
    b = [yb.tolist() for _, yb in batches(x, x, 7, seed=42)]
    c = [yb.tolist() for _, yb in batches(x, x, 7, seed=43)]
    assert a == b and a != c
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    d = [yb.tolist() for _, yb in batches(x, x, 7, rng=g1)]
    e = [yb.tolist() for _, yb in batches(x, x, 7, rng=g2)]
    assert d == e
    # a shared generator gives a new order each epoch
    f = [yb.tolist() for _, yb in batches(x, x, 7, rng=g1)]
    assert f != d


def test_batches_validation_is_eager():
    x = np.zeros((4, 3))
    for bad in (0, -1, 2.0, None, True):
        with pytest.raises(ValueError, match="batch_size"):
            batches(x, np.zeros(4), bad)  # raises without iterating
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        batches(x, np.zeros(5), 2)
    with pytest.raises(ValueError, match="seed or rng"):
        batches(x, np.zeros(4), 2, seed=1, rng=np.random.default_rng())
    with pytest.raises(TypeError, match="Generator"):
        batches(x, np.zeros(4), 2, rng=np.random.RandomState(0))


def test_batches_empty():
    assert list(batches(np.zeros((0, 3)), np.zeros(0), 4)) == []


def test_module_exports():
    for name in ("load_digits", "load_mnist", "read_idx", "batches"):
        assert callable(getattr(data, name))


# --------------------------------------------------------------------------------------------
# augmentation
# --------------------------------------------------------------------------------------------

def test_random_shift_matches_a_loop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 5, 7)).astype(np.float32)
    out = random_shift(2)(x, np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    r = np.random.default_rng(1)
    dy, dx = r.integers(0, 5, size=6), r.integers(0, 5, size=6)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
    for i in range(6):
        np.testing.assert_array_equal(out[i], padded[i, :, dy[i]:dy[i] + 5, dx[i]:dx[i] + 7])
    assert random_shift(0)(x, rng) is x
    # a single shifted pixel moves by at most max_shift
    img = np.zeros((50, 1, 9, 9))
    img[:, 0, 4, 4] = 1.0
    moved = random_shift(1)(img, np.random.default_rng(2))
    pos = np.argwhere(moved[:, 0] == 1.0)[:, 1:]
    assert len(pos) == 50 and np.abs(pos - 4).max() == 1


@pytest.mark.parametrize("shape, dtype, ranges", [
    ((6, 1, 32, 32), np.float32, (10, 0.1, 2)),
    ((4, 3, 9, 13), np.float64, (45, 0.5, 6)),     # channels, a non-square image
    ((3, 2, 1, 7), np.float32, (180, 0.9, 20)),    # one row; points far outside clip to the edge
])
def test_affine_resample_matches_the_pixel_by_pixel_reference(shape, dtype, ranges):
    from tinygrad_cnn.data.augment import _affine_resample, affine_resample_reference

    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype)
    n = shape[0]
    angle = np.deg2rad(rng.uniform(-ranges[0], ranges[0], n))
    scale = rng.uniform(1 - ranges[1], 1 + ranges[1], n)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    ty, tx = rng.uniform(-ranges[2], ranges[2], n), rng.uniform(-ranges[2], ranges[2], n)
    out = np.empty_like(x)
    _affine_resample(x, cos, sin, ty, tx, out)
    expected = affine_resample_reference(x, cos, sin, ty, tx)
    assert np.array_equal(out.view(np.uint8), expected.view(np.uint8))  # the same bits
    # negative control: the reference notices a shift of a tenth of a pixel
    moved = affine_resample_reference(x, cos, sin, ty + 0.1, tx + 0.1)
    assert not np.array_equal(moved, expected)


def test_random_affine_properties():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 12, 12)).astype(np.float32)
    aug = random_affine(10, 0.1, 2)
    out = aug(x, np.random.default_rng(3))
    assert out.shape == x.shape and out.dtype == x.dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, aug(x, np.random.default_rng(3)))  # reproducible
    assert not np.array_equal(out, x)
    assert random_affine(0, 0, 0)(x, rng) is x
    # a constant image stays constant; values stay within the input's range (bilinear)
    const = np.full((3, 1, 8, 8), 0.25, dtype=np.float64)
    np.testing.assert_allclose(random_affine(30, 0.2, 3)(const, rng), 0.25, rtol=1e-12)
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6
    # a blob at the centre moves by at most the shift (rotation and scale keep the centre)
    img = np.zeros((40, 1, 21, 21))
    img[:, 0, 9:12, 9:12] = 1.0
    moved = random_affine(15, 0.1, 1.5)(img, np.random.default_rng(4))
    yy, xx = np.mgrid[:21, :21]
    mass = moved[:, 0].sum(axis=(1, 2))
    cy = (moved[:, 0] * yy).sum(axis=(1, 2)) / mass
    cx = (moved[:, 0] * xx).sum(axis=(1, 2)) / mass
    assert np.abs(cy - 10).max() <= 2.0 and np.abs(cx - 10).max() <= 2.0  # 1.5 + resampling
    assert np.abs(cy - 10).max() > 0.3  # it does move
    # channels of one image get the same transform
    two = np.repeat(x[:, :1], 2, axis=1)
    out2 = aug(two, np.random.default_rng(1))
    np.testing.assert_array_equal(out2[:, 0], out2[:, 1])
    with pytest.raises(ValueError, match="max_scale"):
        random_affine(10, 1.0, 2)
    with pytest.raises(ValueError, match="max_rotation"):
        random_affine(-1, 0.1, 2)


def test_augment_keeps_its_old_import_path():
    import tinygrad_cnn.train as train

    assert train.random_shift is random_shift and train.random_affine is random_affine
    assert data.random_affine is random_affine


def test_digits_read_from_the_file_equal_sklearns_and_the_fallback_too(monkeypatch, tmp_path):
    """The digits are read from scikit-learn's CSV without importing it; the arrays are exactly
    ``sklearn.datasets.load_digits``'s, and without the file it falls back to that function."""
    from sklearn.datasets import load_digits as sk_load

    from tinygrad_cnn.data import digits as D

    sk = sk_load()
    images, labels = D._digits_arrays()
    np.testing.assert_array_equal(images, sk.images)
    np.testing.assert_array_equal(labels, sk.target)
    assert images.dtype == np.float64 and labels.dtype == np.int64

    class NoFile:  # a scikit-learn whose package folder lacks the data file
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(D.importlib.util, "find_spec", lambda name: NoFile())
    images2, labels2 = D._digits_arrays()
    np.testing.assert_array_equal(images2, sk.images)
    np.testing.assert_array_equal(labels2, sk.target)

    monkeypatch.setattr(D.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="scikit-learn"):
        D._digits_arrays()


def test_training_start_does_not_import_sklearn():
    """Loading the digits must not pay scikit-learn's slow import (checked in a fresh process)."""
    import subprocess
    import sys

    code = ("import sys, tinygrad_cnn.data as d; d.load_digits(size=32); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
