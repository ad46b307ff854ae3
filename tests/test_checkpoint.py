"""Tests for tinygrad_cnn.checkpoint: npz round trips, atomic writes, refusing pickle."""

import io
import os
import zipfile

import numpy as np
import pytest

from tinygrad_cnn import checkpoint
from tinygrad_cnn.checkpoint import load, save


def sample_state():
    rng = np.random.default_rng(0)
    return {
        "features.0.weight": rng.standard_normal((6, 1, 5, 5)).astype(np.float32),
        "features.0.bias": np.zeros(6, dtype=np.float32),
        "classifier.2.weight": rng.standard_normal((10, 84)),  # float64
        "step": np.array(7, dtype=np.int64),  # 0-d
        "mask": rng.integers(0, 2, (16, 6)).astype(np.int32),
        "flags": np.array([True, False]),
        "transposed": rng.standard_normal((3, 4)).astype(np.float32).T,  # non-contiguous
    }


def assert_same(loaded, ref):
    assert list(loaded) == list(ref)
    for k, v in ref.items():
        v = np.asarray(v)
        assert isinstance(loaded[k], np.ndarray)
        assert loaded[k].dtype == v.dtype, k
        assert loaded[k].shape == v.shape, k
        np.testing.assert_array_equal(loaded[k], v)


def tmp_files(directory):
    return [n for n in os.listdir(directory) if n.endswith(".tmp")]


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, compress):
    ref = sample_state()
    path = tmp_path / "model.npz"
    save(ref, path, compress=compress)
    assert path.exists() and not tmp_files(tmp_path)
    assert_same(load(path), ref)
    assert_same(load(str(path)), ref)
    # readable by plain numpy too, without pickle
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(ref)


def test_awkward_keys(tmp_path):
    # names that would clash with np.savez's own keyword arguments, or contain odd characters
    ref = {"file": np.ones(2), "allow_pickle": np.zeros(1), "a/b.c": np.arange(3),
           "x.npy": np.eye(2), "ünï": np.array(1.5), "": np.array([], dtype=np.float32)}
    save(ref, tmp_path / "k.npz")
    assert_same(load(tmp_path / "k.npz"), ref)


def test_empty_state_dict(tmp_path):
    save({}, tmp_path / "empty.npz")
    assert load(tmp_path / "empty.npz") == {}


def test_suffixless_path(tmp_path):
    path = tmp_path / "checkpoint"
    save(sample_state(), path)
    assert path.is_file()
    assert not (tmp_path / "checkpoint.npz").exists()
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"]
    assert_same(load(path), sample_state())


def test_overwrite(tmp_path):
    path = tmp_path / "m.npz"
    save({"a": np.zeros(3)}, path)
    save({"b": np.ones(2)}, path)
    assert_same(load(path), {"b": np.ones(2)})


class FakeTensor:
    def __init__(self, data):
        self.data = data


class FakeModule:
    def __init__(self):
        self.w = FakeTensor(np.arange(6, dtype=np.float32).reshape(2, 3))
        self.b = FakeTensor(np.ones(2, dtype=np.float32))

    def state_dict(self):
        return {"layer.weight": self.w, "layer.bias": self.b}


def test_save_module_and_tensor_values(tmp_path):
    save(FakeModule(), tmp_path / "m.npz")
    out = load(tmp_path / "m.npz")
    assert_same(out, {"layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                      "layer.bias": np.ones(2, dtype=np.float32)})
    # lists and numpy scalars are accepted; numpy arrays are not mistaken for ".data" holders
    save({"l": [1.0, 2.0], "s": np.float32(3.0), "dt": np.array(["2020-01-01"], "M8[D]")},
         tmp_path / "v.npz")
    out = load(tmp_path / "v.npz")
    np.testing.assert_array_equal(out["l"], [1.0, 2.0])
    assert out["s"].dtype == np.float32 and out["s"] == 3.0
    assert out["dt"].dtype == np.dtype("M8[D]")


def test_save_refuses_objects_and_bad_keys(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="'bad'.*object"):
        save({"ok": np.zeros(2), "bad": np.array([{"a": 1}, None], dtype=object)}, path)
    with pytest.raises(TypeError, match="keys must be str"):
        save({1: np.zeros(2)}, path)
    with pytest.raises(TypeError, match="state_dict"):
        save([np.zeros(2)], path)
    assert os.listdir(tmp_path) == []


def test_save_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({"a": np.zeros(1)}, tmp_path / "no" / "m.npz")


def test_atomic_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = {"w": np.arange(4.0)}
    save(old, path)
    before = path.read_bytes()

    real_write_array = np.lib.format.write_array
    calls = []

    def failing_write_array(fp, arr, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # first array already written: the temp file is half done
            raise OSError("disk full (simulated)")
        return real_write_array(fp, arr, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="simulated"):
        save({"a": np.ones(1000), "b": np.ones(1000)}, path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert_same(load(path), old)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]  # no temp file left


def test_atomic_write_failure_in_replace(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save({"w": np.arange(3)}, path)

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert_same(load(path), {"w": np.arange(3)})
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_load_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")


def test_load_not_a_zip(tmp_path):
    p = tmp_path / "junk.npz"
    p.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(ValueError, match="junk.npz is not a valid checkpoint"):
        load(p)
    p.write_bytes(b"")
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        load(p)
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        load(tmp_path / "single.npy")


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_load_truncated(tmp_path, cut):
    p = tmp_path / "m.npz"
    save(sample_state(), p)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ValueError, match="m.npz is not a valid checkpoint"):
        load(p)


def test_load_corrupt_payload(tmp_path):
    p = tmp_path / "m.npz"
    save({"w": np.zeros(100)}, p)
    data = bytearray(p.read_bytes())
    i = data.index(b"\x93NUMPY") + 200  # inside the array bytes: CRC no longer matches
    data[i] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        load(p)


def test_load_refuses_pickled_object_array(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, good=np.zeros(2), obj=np.array([{"x": 1}, "s"], dtype=object))
    with pytest.raises((ValueError, TypeError), match="evil.npz.*[Oo]bject arrays"):
        load(p)


def test_load_zip_with_non_array_member(tmp_path):
    p = tmp_path / "z.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="readme.txt"):
        load(p)


def test_load_returns_independent_arrays(tmp_path):
    p = tmp_path / "m.npz"
    save({"w": np.arange(5.0)}, p)
    out = load(p)
    os.remove(p)  # file closed, data fully read
    out["w"][0] = 42.0
    assert out["w"].flags.writeable and out["w"][0] == 42.0


def test_save_to_directory_path_fails_cleanly(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    with pytest.raises(OSError):
        save({"a": np.zeros(1)}, d)
    assert sorted(os.listdir(tmp_path)) == ["adir"]


def test_written_file_is_valid_zip(tmp_path):
    p = tmp_path / "m.npz"
    save(sample_state(), p)
    with zipfile.ZipFile(io.BytesIO(p.read_bytes())) as zf:
        assert zf.testzip() is None
        assert all(n.endswith(".npy") for n in zf.namelist())


# ------------------------------------------------------------------------- training format

def test_training_checkpoint_round_trip(tmp_path):
    from tinygrad_cnn import nn, optim

    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.8, weight_decay=1e-3)
    settings = dict(optimizer="sgd", dataset="digits", seed=4, lr=0.1, schedule="cosine",
                    augment="none", batch_size=16)
    history = {"epoch": [1, 2], "loss": [0.5, 0.25]}
    path = tmp_path / "ck.npz"
    save(checkpoint.training_state(model, opt, settings, 2, history), path)
    ck = checkpoint.read_training_checkpoint(path, choices={"augment": ("none", "affine")})
    assert ck.epoch == 2 and ck.path == str(path)
    assert ck.settings == {**settings, "momentum": 0.8, "weight_decay": 1e-3}
    assert ck.history == history
    assert ck.model_state.keys() == model.state_dict().keys()
    assert "lr" in ck.optim_state
    with pytest.raises(ValueError, match="meta.augment"):
        checkpoint.read_training_checkpoint(path, choices={"augment": ("affine",)})
    save({"w": np.zeros(2)}, tmp_path / "w.npz")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        checkpoint.read_training_checkpoint(tmp_path / "w.npz")


def test_merge_history_pads_incomplete_curves():
    previous = {"epoch": [1, 2], "loss": [1.0, 0.5], "test_acc": [0.3]}
    current = {"epoch": [3], "loss": [0.25], "test_acc": [0.9]}
    merged = checkpoint.merge_history(previous, current)
    assert merged["epoch"] == [1, 2, 3] and merged["loss"] == [1.0, 0.5, 0.25]
    assert np.isnan(merged["test_acc"][:2]).all() and merged["test_acc"][2] == 0.9
    assert checkpoint.merge_history({}, current) == current


# --------------------------------------------------------------- PyTorch's general checkpoint
def test_general_checkpoint_round_trips_its_structure_and_resumes_exactly(tmp_path):
    from tinygrad_cnn import Tensor, nn, optim

    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32))
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
    path = str(tmp_path / "general.pt")
    save({"epoch": 5, "model_state_dict": model.state_dict(),
                       "optimizer_state_dict": opt.state_dict(), "loss": 0.25, "note": None,
                       "sizes": (1, 2), "names": ["a", "b"]}, path)
    back = load(path)
    assert back["epoch"] == 5 and type(back["epoch"]) is int and back["loss"] == 0.25
    assert back["note"] is None and back["sizes"] == (1, 2) and back["names"] == ["a", "b"]
    assert list(back["optimizer_state_dict"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    nn.manual_seed(1)
    again = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    opt2 = optim.Adam(again.parameters(), lr=1e-2)
    again.load_state_dict(back["model_state_dict"])
    opt2.load_state_dict(back["optimizer_state_dict"])
    for m, o in ((model, opt), (again, opt2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("document, members, reason", [
    (b"{not json", {}, "not a JSON document"),
    (b'{"x": 1}', {}, "unexpected node"),
    (b'{"a": "tree.7"}', {"tree.0": np.zeros(2)}, "unexpected node"),        # no such member
    (b'{"d": [["w", {"a": "tree.0"}]]}', {"tree.0": np.zeros(2), "tree.1": np.ones(1)},
     "not part of the"),                                                      # a member left over
    (b'{"d": [["w", {"a": "tree.0"}], ["v", {"a": "tree.0"}]]}', {"tree.0": np.zeros(2)},
     "unexpected node"),                                                      # one member twice
    (b'{"l": [' * 5000 + b']}' * 5000, {}, "JSON|nested too deeply"),
])
def test_a_general_checkpoint_must_describe_exactly_its_arrays(tmp_path, document, members, reason):
    path = str(tmp_path / "bad.npz")
    np.savez(path, __tree__=np.frombuffer(document, dtype=np.uint8), **members)
    with pytest.raises(ValueError, match=reason):
        load(path)


def test_a_general_checkpoint_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="keys must be str or int"):
        save({"m": {(1, 2): np.zeros(1)}}, str(tmp_path / "a.npz"))
    with pytest.raises(TypeError, match="Python objects"):
        save({"m": [object()]}, str(tmp_path / "b.npz"))
