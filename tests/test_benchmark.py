"""The benchmark suite: its NumPy baseline must be correct, and a tiny run must write its reports.

No timing assertions: the machine is shared and noisy.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn import benchmark as B
from tinygrad_cnn import reference as R

CONV_CASES = [
    # (N, C, H, W, O, k, stride, padding, with connection)
    (2, 3, 7, 8, 4, 3, 1, 0, False),
    (2, 3, 9, 8, 4, 3, 2, 1, True),
    (1, 2, 6, 7, 3, 2, (1, 2), (2, 1), True),
    (2, 1, 5, 5, 2, 5, 1, 0, False),
]
POOL_CASES = [
    # (H, W, kernel, stride)
    (6, 6, 2, None),
    (7, 9, 2, None),  # sizes that do not divide: floor
    (7, 9, 3, 2),  # overlapping windows
    (8, 8, 3, 1),
    (6, 6, (2, 3), (2, 3)),
]


def _conn(rng, O, C):
    m = (rng.random((O, C)) > 0.4).astype(np.uint8)
    m[:, 0] = 1
    return m


@pytest.mark.parametrize("case", CONV_CASES)
def test_numpy_conv_matches_reference(case):
    N, C, H, W, O, k, stride, padding, with_conn = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((O, C, k, k))
    b = rng.standard_normal(O)
    conn = _conn(rng, O, C) if with_conn else None
    z = B.numpy_conv2d(x, w, b, stride, padding, conn)
    z_ref = R.conv2d(x, w, b, stride, padding, conn)
    np.testing.assert_allclose(z, z_ref, rtol=1e-10, atol=1e-10)
    dz = rng.standard_normal(z.shape)
    dx, dw, db = B.numpy_conv2d_backward(x, w, dz, stride, padding, conn)
    dx_ref, dw_ref, db_ref = R.conv2d_backward(x, w, dz, stride, padding, conn)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-10)
    if conn is not None:
        assert np.all(dw[conn == 0] == 0)


@pytest.mark.parametrize("case", POOL_CASES)
def test_numpy_pooling_matches_reference(case):
    H, W, k, s = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, H, W))
    x[0, 0, :3, :3] = 0.5  # ties: the first maximum in row-major order wins
    z = B.numpy_max_pool2d(x, k, s)
    np.testing.assert_array_equal(z, R.max_pool2d(x, k, s))
    dz = rng.standard_normal(z.shape)
    np.testing.assert_allclose(B.numpy_max_pool2d_backward(x, dz, k, s), R.max_pool2d_backward(x, dz, k, s), atol=1e-12)
    np.testing.assert_allclose(B.numpy_avg_pool2d(x, k, s), R.avg_pool2d(x, k, s), atol=1e-12)
    np.testing.assert_allclose(B.numpy_avg_pool2d_backward(x, dz, k, s), R.avg_pool2d_backward(x, dz, k, s), atol=1e-12)
    wt = rng.uniform(0.1, 1.0, size=3)
    np.testing.assert_allclose(B.numpy_avg_pool2d(x, k, s, wt), R.avg_pool2d(x, k, s, wt), atol=1e-12)
    dx, dwt = B.numpy_avg_pool2d_backward(x, dz, k, s, wt)
    dx_ref, dwt_ref = R.avg_pool2d_backward(x, dz, k, s, wt)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    np.testing.assert_allclose(dwt, dwt_ref, atol=1e-12)


def test_numpy_baseline_matches_tinygrad_cnn_float32():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    conn = B.LENET_C3_TABLE
    tx, tw, tb = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    z = F.conv2d(tx, tw, tb, padding=1, connection=conn)
    dz = rng.standard_normal(z.shape).astype(np.float32)
    z.backward(dz)
    np.testing.assert_allclose(B.numpy_conv2d(x, w, b, 1, 1, conn), z.data, rtol=1e-4, atol=1e-4)
    dx, dw, db = B.numpy_conv2d_backward(x, w, dz, 1, 1, conn)
    np.testing.assert_allclose(dx, np.asarray(tx.grad), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, np.asarray(tw.grad), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db, np.asarray(tb.grad), rtol=1e-4, atol=1e-3)

    p = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    for op, np_fwd, np_bwd in ((F.max_pool2d, B.numpy_max_pool2d, B.numpy_max_pool2d_backward),
                               (F.avg_pool2d, B.numpy_avg_pool2d, B.numpy_avg_pool2d_backward)):
        tp = Tensor(p, requires_grad=True)
        zp = op(tp, 2)
        g = rng.standard_normal(zp.shape).astype(np.float32)
        zp.backward(g)
        np.testing.assert_allclose(np_fwd(p, 2), zp.data, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np_bwd(p, g, 2), np.asarray(tp.grad), rtol=1e-6, atol=1e-6)


def _lenet_grads_ours(state, x, y):
    from tinygrad_cnn.models import LeNet5

    model = LeNet5()
    model.load_state_dict(state)
    loss = F.cross_entropy(model(Tensor(x)), Tensor(y))
    loss.backward()
    return float(loss.data), {name: np.asarray(p.grad) for name, p in model.named_parameters()}, model


def test_lenet_baselines_match_tinygrad_cnn():
    """The hand-written NumPy LeNet-5 (and the torch one, when installed) do the same work as ours."""
    from tinygrad_cnn.models import LeNet5

    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=4)
    state = {k: np.asarray(v, dtype=np.float32) for k, v in LeNet5().state_dict().items()}
    loss, grads, _ = _lenet_grads_ours(state, x, y)
    net = B.NumpyLeNet5(state)
    assert net.loss_and_grads(x, y) == pytest.approx(loss, rel=1e-5)
    assert set(net.grads) == set(grads)
    for name, g in grads.items():
        np.testing.assert_allclose(net.grads[name], g, rtol=1e-3, atol=1e-5, err_msg=name)
    assert np.all(net.grads["c3.weight"][B.LENET_C3_TABLE == 0] == 0)

    torch = pytest.importorskip("torch")
    tnet = B.TorchLeNet5(state)
    tl = torch.nn.functional.cross_entropy(tnet(torch.tensor(x)), torch.tensor(y))
    tl.backward()
    assert float(tl.detach()) == pytest.approx(loss, rel=1e-5)
    for name, g in grads.items():
        tg = getattr(tnet, name.replace(".", "_")).grad.numpy()
        np.testing.assert_allclose(tg, g, rtol=1e-3, atol=1e-5, err_msg=name)


def test_naive_lenet_prims_match_numpy():
    """The naive LeNet step (reference loops) computes the same gradients as the NumPy one."""
    from tinygrad_cnn.models import LeNet5

    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 1, 32, 32)).astype(np.float32)
    y = np.array([3])
    state = {k: np.asarray(v, dtype=np.float32) for k, v in LeNet5().state_dict().items()}
    a, b = B.NumpyLeNet5(state), B.NumpyLeNet5(state, prims=B._NaivePrims(R))
    assert a.loss_and_grads(x, y) == pytest.approx(b.loss_and_grads(x, y), rel=1e-5)
    for name in a.grads:
        np.testing.assert_allclose(b.grads[name], a.grads[name], rtol=1e-3, atol=1e-6, err_msg=name)


def test_tiny_run_writes_reports(tmp_path, capsys):
    out = tmp_path / "results"
    rc = B.main(["--quick", "--repeats", "1", "--warmup", "0", "--only", "maxpool", "--out", str(out)])
    assert rc == 0
    report = json.loads((out / "results.json").read_text())
    assert [c["key"] for c in report["cases"]] == ["maxpool"]
    case = report["cases"][0]
    for name in ("naive", "numpy", "tinygrad_cnn"):
        assert case["contenders"][name]["median_ms"] > 0
    assert case["contenders"]["numpy"]["check"].startswith("ok")
    assert case["contenders"]["naive"]["check"].startswith("ok")
    assert "extrapolated from N=" in case["contenders"]["naive"]["label"]
    for key in ("cpu_model", "cpu_count", "numpy", "numba", "torch", "date"):
        assert key in report["machine"]
    assert report["peak"]["gflops"] > 0
    md = (out / "results.md").read_text()
    assert "| max pool |" in md and "ours/torch" in md
    if report["machine"]["torch"]:
        assert case["contenders"]["torch"]["check"].startswith("ok")
        assert case["ours_over_torch"] > 0
    printed = capsys.readouterr().out
    assert "max pool" in printed


def test_bad_only_filter_is_an_argument_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        B.main(["--only", "nosuchcase", "--out", str(tmp_path)])
    assert exc.value.code == 2
