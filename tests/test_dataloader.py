"""tinygrad_cnn.data: Dataset, TensorDataset, Subset, random_split and DataLoader (batching,
shuffling, drop_last, collation, len, reproducible seeds)."""

from collections import namedtuple

import numpy as np
import pytest

import tinygrad_cnn
from tinygrad_cnn import Tensor
from tinygrad_cnn.data import (DataLoader, Dataset, Subset, TensorDataset, default_collate,
                               random_split)

X = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
Y = np.arange(23, dtype=np.int64)


class Squares(Dataset):
    """A plain map-style dataset: sample i is (i as a 2-vector, i², {'id': i})."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.array([i, -i], dtype=np.float32), i * i, {"id": i, "w": float(i) / 2}


def labels(loader):
    return [yb.data.tolist() for _, yb in loader]


@pytest.mark.parametrize("drop_last, sizes", [(False, [5, 5, 5, 5, 3]), (True, [5, 5, 5, 5])])
def test_batches_in_order_as_tensors(drop_last, sizes):
    ds = TensorDataset(X, Tensor(Y))
    loader = DataLoader(ds, batch_size=5, drop_last=drop_last)
    assert len(loader) == len(sizes) and len(loader.dataset) == 23
    got = list(loader)
    assert [len(yb.data) for _, yb in got] == sizes
    for xb, yb in got:
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.data, X[yb.data])
    assert sum(labels(loader), []) == list(range(sum(sizes)))


def test_shuffle_is_a_permutation_and_seed_reproduces_each_epoch():
    ds = TensorDataset(X, Y)
    a = DataLoader(ds, batch_size=4, shuffle=True, seed=7)
    b = DataLoader(ds, batch_size=4, shuffle=True, seed=7)
    a1, a2 = labels(a), labels(a)
    assert a1 == labels(b) and a2 == labels(b)  # epoch by epoch
    assert a1 != a2  # a new order each epoch
    assert sorted(sum(a1, [])) == list(range(23))
    expected = np.random.default_rng((7, 0)).permutation(23)
    assert sum(a1, []) == expected.tolist()
    assert labels(DataLoader(ds, batch_size=4, shuffle=True, seed=8)) != a1


def test_shuffle_uses_the_package_generator_or_a_given_one():
    ds = TensorDataset(X, Y)
    tinygrad_cnn.manual_seed(3)
    first = labels(DataLoader(ds, batch_size=6, shuffle=True))
    tinygrad_cnn.manual_seed(3)
    assert labels(DataLoader(ds, batch_size=6, shuffle=True)) == first
    g = np.random.default_rng(11)
    got = labels(DataLoader(ds, batch_size=6, shuffle=True, generator=g))
    assert sum(got, []) == np.random.default_rng(11).permutation(23).tolist()


def test_default_collate_of_a_plain_dataset():
    loader = DataLoader(Squares(), batch_size=4)
    vec, sq, info = next(iter(loader))
    assert vec.shape == (4, 2) and vec.dtype == np.float32
    assert sq.dtype == np.int64 and sq.data.tolist() == [0, 1, 4, 9]
    assert info["id"].data.tolist() == [0, 1, 2, 3] and info["w"].dtype == np.float64
    assert [len(b[1].data) for b in loader] == [4, 4, 2]
    Pair = namedtuple("Pair", "a b")
    out = default_collate([Pair(1, [2.0, 3.0]), Pair(4, [5.0, 6.0])])
    assert isinstance(out, Pair) and out.a.data.tolist() == [1, 4]
    assert isinstance(out.b, list) and out.b[1].data.tolist() == [3.0, 6.0]
    with pytest.raises(TypeError, match="object"):
        default_collate([object()])


def test_collate_fn_and_the_fast_path_agree():
    ds = TensorDataset(X, Y)
    slow = DataLoader(ds, batch_size=4, shuffle=True, seed=1, collate_fn=default_collate)
    fast = DataLoader(ds, batch_size=4, shuffle=True, seed=1)
    for (xs, ys), (xf, yf) in zip(slow, fast):
        np.testing.assert_array_equal(xs.data, xf.data)
        np.testing.assert_array_equal(ys.data, yf.data)
    custom = DataLoader(ds, batch_size=5, collate_fn=lambda samples: len(samples))
    assert list(custom) == [5, 5, 5, 5, 3]


def test_random_split_and_subset():
    ds = TensorDataset(X, Y)
    a, b = random_split(ds, [20, 3], generator=np.random.default_rng(0))
    assert len(a) == 20 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(23))
    assert b[0][1] == b.indices[0]
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [12, 7, 4]  # floors 11, 6, 4, remainder to the first two
    tinygrad_cnn.manual_seed(5)
    c = random_split(ds, [10, 13])
    tinygrad_cnn.manual_seed(5)
    assert random_split(ds, [10, 13])[0].indices == c[0].indices
    loader = DataLoader(Subset(ds, [4, 2, 9]), batch_size=2)
    assert labels(loader) == [[4, 2], [9]]
    assert labels(DataLoader(Subset(Subset(ds, [5, 6, 7, 8]), [3, 0]), batch_size=5)) == [[8, 5]]


def test_worker_and_pinning_arguments_are_accepted_and_change_nothing():
    """PyTorch code passes num_workers/pin_memory (d2l's loaders do); batches stay the same."""
    plain = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True, seed=3)
    workers = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True, seed=3, num_workers=4,
                         pin_memory=True, persistent_workers=True)
    assert labels(workers) == labels(plain)
    assert workers.num_workers == 4 and workers.pin_memory


@pytest.mark.parametrize("call, exc, word", [
    (lambda: TensorDataset(X, Y[:5]), ValueError, "first dimension"),
    (lambda: TensorDataset([1, 2]), TypeError, "Tensor or numpy"),
    (lambda: TensorDataset(), ValueError, "at least one"),
    (lambda: DataLoader(TensorDataset(X), batch_size=0), ValueError, "batch_size"),
    (lambda: DataLoader(TensorDataset(X), shuffle=1), TypeError, "shuffle"),
    (lambda: DataLoader(TensorDataset(X), seed=-1), ValueError, "seed"),
    (lambda: DataLoader(TensorDataset(X), seed=1, generator=np.random.default_rng()),
     ValueError, "not both"),
    (lambda: DataLoader(TensorDataset(X), collate_fn=3), TypeError, "collate_fn"),
    (lambda: DataLoader(5), TypeError, "dataset"),
    (lambda: DataLoader(TensorDataset(X), num_workers=-1), ValueError, "num_workers"),
    (lambda: DataLoader(TensorDataset(X), pin_memory=1), TypeError, "pin_memory"),
    (lambda: random_split(TensorDataset(X), [20, 2]), ValueError, "sum"),
    (lambda: random_split(TensorDataset(X), [0.5, 0.6]), ValueError, "sum to 1"),
    (lambda: random_split(TensorDataset(X), [-1, 24]), ValueError, "lengths"),
    (lambda: Subset(TensorDataset(X), [0, 30]), IndexError, "indices"),
])
def test_bad_arguments(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_fixed_attributes_cannot_change_after_the_loader_is_built():
    loader = DataLoader(TensorDataset(np.zeros((5, 2)), np.zeros(5, np.int64)), 2)
    for name, value in (("batch_size", -3), ("batch_size", 4), ("drop_last", True), ("dataset", None)):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(loader, name, value)
    with pytest.raises(TypeError, match="shuffle"):
        loader.shuffle = "yes"
    loader.shuffle = True  # what may change still does
    assert sorted(len(xb) for xb, _ in loader) == [1, 2, 2]
