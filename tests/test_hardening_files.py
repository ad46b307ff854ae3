"""Hostile files: checkpoints and MNIST files built to hang, exhaust memory or crash a loader.

Every hostile file is made here, in a temporary directory. The cases that would block or
allocate gigabytes if a check were missing run in their own Python process with a timeout
(and, for the bombs, a bound on the child's peak memory), so a regression fails the test
instead of hanging or killing the suite. Good files must still load exactly as before.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np
import pytest

import tinygrad_cnn
from tinygrad_cnn import _checks, checkpoint
from tinygrad_cnn.checkpoint import load, read_training_checkpoint, save, training_state
from tinygrad_cnn.data import load_mnist, read_idx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_cnn.__file__)))
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


CATCH = """
import sys
RESULT = {}
def attempt(f, *args, **kwargs):
    try:
        f(*args, **kwargs)
        RESULT.update(kind=None, message="")
    except BaseException as exc:
        RESULT.update(kind=type(exc).__name__, message=str(exc))
"""


def run_isolated(code, timeout=60):
    """Run ``code`` in a fresh interpreter importing this checkout, after :data:`CATCH`;
    returns its ``RESULT`` with ``peak_mb``, the child's peak resident memory in MB."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    wrapper = CATCH + textwrap.dedent(code) + textwrap.dedent("""
        import json as _json, resource as _resource
        # VmHWM is this process's own peak; ru_maxrss can carry the parent's peak over
        # from fork/exec, which would make the figure depend on what ran before.
        try:
            with open("/proc/self/status") as _status:
                _hwm = [l for l in _status if l.startswith("VmHWM:")][0]
            RESULT["peak_mb"] = int(_hwm.split()[1]) / 1024
        except (OSError, IndexError):
            RESULT["peak_mb"] = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024
        print(_json.dumps(RESULT))
    """)
    proc = subprocess.run([sys.executable, "-c", wrapper], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])




# --------------------------------------------------------------------------------------------
# building archives by hand
# --------------------------------------------------------------------------------------------

def npy_bytes(header, data=b"", version=1):
    """A ``.npy`` stream with the header text ``header`` (any text at all) and ``data``."""
    text = header.encode("latin1")
    if version == 1:
        pad = -(10 + len(text) + 1) % 64
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) + pad + 1) + text + \
            b" " * pad + b"\n" + data
    pad = -(12 + len(text) + 1) % 64
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text) + pad + 1) + text + \
        b" " * pad + b"\n" + data


def npy_header(descr="'<f8'", shape="(3,)", fortran="False"):
    return f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"


def raw_zip(members):
    """A zip archive written field by field, so that any field can lie.

    ``members``: dicts with ``name``, ``data`` (the bytes stored) and optionally ``method``
    (0 stored, 8 deflate, other numbers), ``flags`` (both headers), ``local_flags``,
    ``file_size`` (the uncompressed size claimed), ``crc``.
    """
    out, central = io.BytesIO(), []
    for m in members:
        name, data = m["name"].encode(), m["data"]
        method, flags = m.get("method", 0), m.get("flags", 0)
        size = m.get("file_size", len(data))
        crc = m.get("crc", zlib.crc32(data) if method == 0 else 0)
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, m.get("local_flags", flags),
                              method, 0, 0x21, crc, len(data), size, len(name), 0))
        out.write(name + data)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0,
                                   0x21, crc, len(data), size, len(name), 0, 0, 0, 0, 0,
                                   offset) + name)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                          len(directory), start, 0))
    return out.getvalue()


def stored_member(name, header, data=b"", **fields):
    return dict(name=name, data=npy_bytes(header, data), **fields)


def assert_invalid(path, member, *fragments):
    """``load(path)`` raises one ValueError naming the file, the member and ``fragments``."""
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert f"{path} is not a valid checkpoint" in message, message
    if member is not None:
        assert f"member {member!r}" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def sample_state():
    rng = np.random.default_rng(1)
    return {"conv.weight": rng.standard_normal((6, 1, 5, 5)).astype(np.float32),
            "conv.bias": np.zeros(6, np.float32), "step": np.array(3, np.int64),
            "flags": np.array([True, False]), "name": np.array("sgd"),
            "fortran": np.asfortranarray(rng.standard_normal((3, 4)))}


# --------------------------------------------------------------------------------------------
# load: what is opened at all
# --------------------------------------------------------------------------------------------

@needs_fifo
def test_load_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "ck.npz"
    os.mkfifo(fifo)
    result = run_isolated(f"""
        from tinygrad_cnn import load
        attempt(load, {str(fifo)!r})
    """, timeout=180)  # a hang detector: generous for a loaded machine
    assert result["kind"] == "ValueError", result
    assert str(fifo) in result["message"] and "FIFO" in result["message"]


def test_load_refuses_a_device_without_reading_it():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    result = run_isolated("""
        from tinygrad_cnn import load
        attempt(load, "/dev/zero")
    """, timeout=180)  # a hang detector: generous for a loaded machine
    assert result["kind"] == "ValueError" and "/dev/zero" in result["message"], result
    assert "character device" in result["message"]


def test_load_refuses_a_directory_and_a_non_path(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        load(tmp_path)
    with pytest.raises(TypeError, match="path"):
        load(None)
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        load(tmp_path / "absent.npz")


# --------------------------------------------------------------------------------------------
# load: malformed members, each one ValueError naming the file and the member
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("label, member", [
    ("truncated header", dict(name="w.npy", data=npy_bytes(npy_header())[:30])),
    ("header cut mid-dict", stored_member("w.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,")),
    ("tokenizer error", stored_member("w.npy", "{'descr': '<f8', 'shape': (3, '''")),
    ("not a dict", stored_member("w.npy", "[1, 2, 3]")),
    ("shape 2**64", stored_member("w.npy", npy_header(shape=f"({2**64},)"))),
    ("negative shape", stored_member("w.npy", npy_header(shape="(-3,)"))),
    ("bool in shape", stored_member("w.npy", npy_header(shape="(True,)"))),
    ("10**12 elements", stored_member("w.npy", npy_header(shape=f"({10**12},)"))),
    ("10**12 elements, 2-D", stored_member("w.npy", npy_header(shape=f"({10**6}, {10**6})"))),
    ("object dtype", stored_member("w.npy", npy_header(descr="'|O'"), b"\0" * 24)),
    ("structured dtype", stored_member("w.npy", npy_header(descr="[('a', '<f8')]"), b"\0" * 24)),
    ("void dtype", stored_member("w.npy", npy_header(descr="'|V8'"), b"\0" * 24)),
    ("unknown dtype", stored_member("w.npy", npy_header(descr="'<q99'"), b"\0" * 24)),
    ("huge string dtype", stored_member("w.npy", npy_header(descr=f"'<U{2**40}'", shape="(1,)"))),
    ("too few data bytes", stored_member("w.npy", npy_header(), b"\0" * 16)),
    ("too many data bytes", stored_member("w.npy", npy_header(), b"\0" * 32)),
    ("bad version", dict(name="w.npy", data=b"\x93NUMPY\x09\x00" + b"\0" * 60)),
    ("not .npy", dict(name="w.npy", data=b"hello, world" * 10)),
    ("version 2 shape 2**64", dict(name="w.npy", data=npy_bytes(npy_header(shape=f"({2**64},)"), version=2))),
])
def test_malformed_member_is_one_value_error(tmp_path, label, member):
    path = tmp_path / "bad.npz"
    good = stored_member("ok.npy", npy_header(), np.arange(3.0).tobytes())
    path.write_bytes(raw_zip([good, member]))
    assert_invalid(path, "w.npy")


def test_raw_zip_writer_makes_loadable_archives(tmp_path):
    # the control for the test above: the same writer with honest fields loads
    path = tmp_path / "good.npz"
    a = np.arange(12.0).reshape(3, 4)
    path.write_bytes(raw_zip([
        stored_member("a.npy", npy_header(shape="(3, 4)"), a.tobytes()),
        stored_member("f.npy", npy_header(shape="(4, 3)", fortran="True"), a.tobytes()),
        stored_member("e.npy", npy_header(shape="(0, 5)")),
        dict(name="v2.npy", data=npy_bytes(npy_header(), a[0, :3].tobytes(), version=2)),
    ]))
    out = load(path)
    np.testing.assert_array_equal(out["a"], a)
    np.testing.assert_array_equal(out["f"], a.ravel().reshape((4, 3), order="F"))
    assert out["e"].shape == (0, 5) and out["v2"].tolist() == [0.0, 1.0, 2.0]


def patch_flags(data, bits, local=True, central=True):
    """Set general-purpose flag ``bits`` of every entry of a zip archive's headers."""
    data = bytearray(data)
    for sig, at, wanted in ((b"PK\x03\x04", 6, local), (b"PK\x01\x02", 8, central)):
        start = 0
        while wanted and (i := data.find(sig, start)) >= 0:
            flags = struct.unpack_from("<H", data, i + at)[0]
            struct.pack_into("<H", data, i + at, flags | bits)
            start = i + 4
    return bytes(data)


@pytest.mark.parametrize("local, central", [(True, True), (True, False), (False, True)])
def test_encrypted_members_are_refused(tmp_path, local, central):
    path = tmp_path / "enc.npz"
    save({"w": np.arange(4.0)}, path)
    path.write_bytes(patch_flags(path.read_bytes(), 0x1, local, central))
    assert_invalid(path, "w.npy", "encrypted")


def test_unsupported_compression_is_refused(tmp_path):
    path = tmp_path / "bz.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("w.npy", npy_bytes(npy_header(), np.zeros(3).tobytes()))
    assert_invalid(path, "w.npy", "compression method 12")
    path.write_bytes(raw_zip([stored_member("w.npy", npy_header(), b"\0" * 24, method=99)]))
    assert_invalid(path, "w.npy", "compression method 99")


def test_sizes_that_lie_are_refused_before_inflating(tmp_path):
    path = tmp_path / "lie.npz"
    body = npy_bytes(npy_header(), b"\0" * 24)
    deflated = zlib.compress(body)[2:-4]
    # 40 compressed bytes claiming 512 MiB: beyond what deflate can do
    path.write_bytes(raw_zip([dict(name="w.npy", data=deflated, method=8, file_size=2**29)]))
    assert_invalid(path, "w.npy", "inflate")
    # stored, but the sizes differ
    path.write_bytes(raw_zip([dict(name="w.npy", data=body, file_size=len(body) + 8)]))
    assert_invalid(path, "w.npy", "sizes differ")
    # two members of one name
    path.write_bytes(raw_zip([dict(name="w.npy", data=body), dict(name="w.npy", data=body)]))
    assert_invalid(path, "w.npy", "twice")


def test_deflate_bomb_is_refused_without_allocating(tmp_path):
    # a consistent zip entry whose header claims 2.4 GB of float32; its compressed size is
    # within deflate's ratio, so only the header's claim gives it away
    path = tmp_path / "bomb.npz"
    n = 600_000_000
    body_head = npy_bytes(npy_header(descr="'<f4'", shape=f"({n},)"))
    claimed = len(body_head) + 4 * n
    stream = zlib.compressobj(1, zlib.DEFLATED, -15)
    deflated = stream.compress(body_head + bytes(1 << 20)) + stream.flush(zlib.Z_SYNC_FLUSH)
    deflated += bytes(claimed // 1000 - len(deflated))  # pad up to a plausible size
    path.write_bytes(raw_zip([dict(name="big.npy", data=deflated, method=8, file_size=claimed)]))
    result = run_isolated(f"""
        from tinygrad_cnn import load
        attempt(load, {str(path)!r})
    """, timeout=180)  # a hang detector: generous for a loaded machine
    assert result["kind"] == "ValueError", result
    assert "'big.npy'" in result["message"] and str(path) in result["message"]
    assert result["peak_mb"] < 600, result


def test_long_corrupt_or_hostile_zip_directory(tmp_path):
    path = tmp_path / "dir.npz"
    good = raw_zip([stored_member("w.npy", npy_header(), b"\0" * 24)])
    # the end record points past the file
    broken = bytearray(good)
    struct.pack_into("<L", broken, len(broken) - 6, 10**9)
    path.write_bytes(bytes(broken))
    assert_invalid(path, None)
    # many members claiming 1 GiB each: refused from the directory alone
    members = [dict(name=f"m{i}.npy", data=b"\0" * 10**6, method=8, file_size=2**30)
               for i in range(5)]
    path.write_bytes(raw_zip(members))
    assert_invalid(path, None, "claim")


# --------------------------------------------------------------------------------------------
# load: good files still load identically
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_good_checkpoints_load_identically(tmp_path, compress):
    ref = sample_state()
    path = tmp_path / "ok.npz"
    save(ref, path, compress=compress)
    out = load(path)
    assert list(out) == list(ref)
    for key, value in ref.items():
        assert out[key].dtype == value.dtype and out[key].shape == value.shape
        np.testing.assert_array_equal(out[key], value)
        assert out[key].flags.writeable
    # what plain numpy writes loads the same way (and numpy reads what we write)
    np.savez_compressed(tmp_path / "np.npz", **ref)
    out = load(tmp_path / "np.npz")
    with np.load(path, allow_pickle=False) as npz:
        for key, value in ref.items():
            np.testing.assert_array_equal(out[key], value)
            np.testing.assert_array_equal(npz[key], value)


# --------------------------------------------------------------------------------------------
# save: long names
# --------------------------------------------------------------------------------------------

def test_save_takes_names_up_to_the_file_system_limit(tmp_path):
    limit = _checks.name_max(str(tmp_path)) or 255
    longest = tmp_path / ("c" * (limit - 4) + ".npz")
    save({"w": np.arange(3.0)}, longest)
    np.testing.assert_array_equal(load(longest)["w"], np.arange(3.0))
    save({"w": np.zeros(2)}, tmp_path / ("d" * 250))
    too_long = tmp_path / ("e" * (limit + 1))
    with pytest.raises(OSError) as info:
        save({"w": np.zeros(2)}, too_long)
    assert info.value.errno == errno.ENAMETOOLONG and "too long" not in str(too_long)
    assert f"{limit + 1} bytes long" in str(info.value)
    assert sorted(p.name[:1] for p in tmp_path.iterdir()) == ["c", "d"]  # no temporary left


# --------------------------------------------------------------------------------------------
# training checkpoints: every value validated before a run starts
# --------------------------------------------------------------------------------------------

def training_file(tmp_path, optimizer="sgd", **changes):
    from tinygrad_cnn import nn, optim

    nn.manual_seed(0)
    model = nn.Linear(3, 2)
    if optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    else:
        opt = optim.Adam(model.parameters(), lr=0.01)
    for p in model.parameters():  # one step, so that the state arrays exist
        p.grad = np.ones_like(p.data)
    opt.step()
    settings = dict(optimizer=optimizer, dataset="digits", seed=4, lr=0.1, schedule="cosine",
                    augment="none", batch_size=16)
    history = {"epoch": [1, 2], "loss": [0.5, 0.25], "lr": [float("nan"), 0.1]}
    state = training_state(model, opt, settings, 2, history)
    for key, value in changes.items():
        if value is None:
            del state[key]
        else:
            state[key] = value
    path = tmp_path / "ck.npz"
    save(state, path)
    return path


@pytest.mark.parametrize("key, value", [
    ("optim.momentum", np.array(np.nan)),
    ("optim.momentum", np.array(1.5)),
    ("optim.lr", np.array(-0.1)),
    ("optim.lr", np.array(np.inf)),
    ("optim.weight_decay", np.array(np.nan)),
    ("optim.dampening", np.array(-np.inf)),
    ("optim.nesterov", np.array(2.0)),
    ("optim.step", np.array(-1)),
    ("optim.step", np.array(1.5)),
    ("optim.state.0.momentum_buffer", np.full((2, 3), np.nan, np.float32)),
    ("optim.state.1.momentum_buffer", np.array(["x", "y"])),
    ("optim.param_groups.0.lr", np.array(-1.0)),  # keys of parameter groups, by their last part
    ("optim.param_groups.0.alpha", np.array(np.nan)),  # any hyperparameter: finite
    ("model.weight", np.full((2, 3), np.inf, np.float32)),
    ("meta.history.loss", np.array(["a", "b"])),
    ("meta.history.loss", np.zeros((2, 2))),
    ("meta.history.test_acc", np.array([0.5, np.inf])),
    ("meta.batch_size", np.array(2**40)),
    ("meta.epoch", np.array(10**12)),
    ("meta.seed", np.array(-1)),
    ("meta.lr", np.array(np.nan)),
])
def test_training_checkpoint_values_are_validated(tmp_path, key, value):
    path = training_file(tmp_path, **{key: value})
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        read_training_checkpoint(path)


@pytest.mark.parametrize("key, value", [
    ("optim.betas", np.array([0.9, np.nan])),
    ("optim.betas", np.array([1.0, 0.999])),
    ("optim.betas", np.array([0.9, 0.99, 0.999])),
    ("optim.eps", np.array(-1e-8)),
    ("optim.state.0.step", np.array(-2)),
    ("optim.state.0.exp_avg_sq", np.full((2, 3), np.inf, np.float32)),
])
def test_adam_checkpoint_values_are_validated(tmp_path, key, value):
    path = training_file(tmp_path, optimizer="adam", **{key: value})
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        read_training_checkpoint(path)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_good_training_checkpoints_still_read(tmp_path, optimizer):
    ck = read_training_checkpoint(training_file(tmp_path, optimizer=optimizer))
    assert ck.epoch == 2 and ck.settings["seed"] == 4 and ck.settings["optimizer"] == optimizer
    assert ck.history["loss"] == [0.5, 0.25]
    assert np.isnan(ck.history["lr"][0])  # NaN marks an unrecorded epoch (merge_history)


def test_recipe_bounds_seed_batch_and_epochs():
    from tinygrad_cnn.recipe import TrainingRecipe

    assert TrainingRecipe(seed=2**63 - 1, batch_size=2**20, epochs=10**6).seed == 2**63 - 1
    for name, value in (("seed", 2**63), ("seed", 10**20), ("batch_size", 2**20 + 1),
                        ("epochs", 10**6 + 1)):
        with pytest.raises(ValueError, match=name):
            TrainingRecipe(**{name: value})


def test_recipe_refuses_empty_splits():
    from tinygrad_cnn.recipe import TrainingRecipe

    x = np.zeros((4, 1, 32, 32), np.float32)
    y = np.zeros(4, np.int64)
    for data in ((x[:0], y[:0], x, y), (x, y, x[:0], y[:0])):
        with pytest.raises(ValueError, match="holds no images"):
            TrainingRecipe(epochs=1).run(data=data, progress=False, log=None)


# --------------------------------------------------------------------------------------------
# MNIST: headers checked before bodies, bodies streamed
# --------------------------------------------------------------------------------------------

def idx(shape, body=None):
    header = bytes([0, 0, 0x08, len(shape)]) + struct.pack(">" + "I" * len(shape), *shape)
    return header + (bytes(int(np.prod(shape))) if body is None else body)


def write_mnist(directory, n_train=4, n_test=3, gz=False):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8)}
    for name, arr in arrays.items():
        data = idx(arr.shape, arr.tobytes())
        (directory / (name + (".gz" if gz else ""))).write_bytes(
            gzip.compress(data) if gz else data)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_good_mnist_files_load_identically(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    x_train, y_train, x_test, y_test = load_mnist(tmp_path, normalize=False)
    np.testing.assert_array_equal(x_train[:, 0] * np.float32(255),
                                  arrays["train-images-idx3-ubyte"].astype(np.float32))
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    got = read_idx(tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else "")))
    assert got.dtype == np.uint8 and got.flags.writeable
    np.testing.assert_array_equal(got, arrays["train-images-idx3-ubyte"])


@pytest.mark.parametrize("which, name", [("train", "train-images-idx3-ubyte"),
                                         ("test", "t10k-images-idx3-ubyte")])
def test_mnist_with_no_images_names_the_file(tmp_path, which, name):
    write_mnist(tmp_path, **{f"n_{which}": 0})
    with pytest.raises(ValueError, match="holds 0 images") as info:
        load_mnist(tmp_path)
    assert str(tmp_path / name) in str(info.value)


def test_mnist_with_no_labels_names_the_file(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx((0,)))
    with pytest.raises(ValueError, match="holds 0 labels") as info:
        load_mnist(tmp_path)
    assert str(tmp_path / "train-labels-idx1-ubyte") in str(info.value)


def test_load_mnist_names_directory_for_a_non_path(tmp_path):
    for bad in (None, 3, 2.5, ["dir"], open):
        with pytest.raises(TypeError, match="directory"):
            load_mnist(bad)
    with pytest.raises(TypeError, match="path"):
        read_idx(None)


def test_idx_header_is_checked_before_the_body(tmp_path):
    # a header claiming 3,000,000 images (2.4 GB) and a tiny body: refused for its claim,
    # not for being truncated (which would mean the body was read first)
    path = tmp_path / "huge"
    path.write_bytes(idx((3_000_000, 28, 28), b"\0" * 100))
    with pytest.raises(ValueError, match="max_bytes"):
        read_idx(path)
    small = tmp_path / "small"
    small.write_bytes(idx((2, 28, 28)))
    with pytest.raises(ValueError, match="max_bytes"):
        read_idx(small, max_bytes=100)
    assert read_idx(small, max_bytes=2 * 28 * 28).shape == (2, 28, 28)
    # MNIST's rules apply before the body too: a header of 27x28 images and no body at all
    # is refused for its shape, not for being truncated
    write_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx((4, 27, 28), b""))
    with pytest.raises(ValueError, match="28x28"):
        load_mnist(tmp_path)


def test_gzip_with_trailing_garbage_or_truncated(tmp_path):
    good = idx((2, 3))
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(good) + b"garbage!")
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)
    path.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)


def gzip_bomb(path, header, inflated):
    """A gzip file of ``header`` followed by ``inflated`` zero bytes, written as repeated
    gzip members of one compressed block each (a few MB on disk, little memory to build)."""
    block = gzip.compress(bytes(1 << 24), compresslevel=9)
    with open(path, "wb") as f:
        f.write(gzip.compress(header))
        for _ in range(inflated >> 24):
            f.write(block)


def test_gzip_bomb_is_not_inflated(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    gzip_bomb(path, idx((5, 28, 28)), 2 << 30)  # 2 GiB behind a 3,920-byte image file
    assert path.stat().st_size < 4 << 20
    result = run_isolated(f"""
        import time
        from tinygrad_cnn.data import read_idx
        start = time.perf_counter()
        attempt(read_idx, {str(path)!r})
        RESULT["seconds"] = time.perf_counter() - start
    """, timeout=120)
    assert result["kind"] == "ValueError", result
    assert "oversized" in result["message"] and str(path) in result["message"]
    assert result["peak_mb"] < 400 and result["seconds"] < 10, result


@needs_fifo
def test_mnist_fifo_is_refused_without_blocking(tmp_path):
    write_mnist(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte")
    os.mkfifo(tmp_path / "t10k-labels-idx1-ubyte")
    result = run_isolated(f"""
        from tinygrad_cnn.data import load_mnist, read_idx
        attempt(load_mnist, {str(tmp_path)!r})
    """, timeout=180)  # a hang detector: generous for a loaded machine
    assert result["kind"] == "ValueError", result
    assert "FIFO" in result["message"] and "t10k-labels-idx1-ubyte" in result["message"]
