"""The benchmark suite: its baselines compute what tinygrad_cnn computes, the harness times every
contender in a process of its own and writes only where asked, and the published figures agree.

No timing assertions: the machine is shared and noisy.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.kernels import conv_reference as RC
from tinygrad_cnn.kernels import pool_reference as RP
from tinygrad_cnn.bench import baseline as B
from tinygrad_cnn.bench import busy, cli, contenders, harness, report
from tinygrad_cnn.bench.cases import c3_table
from tinygrad_cnn.models import LeNet5

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TINY = ["--tiny", "--quick", "--threads", "1", "--repeats", "2", "--calls", "1", "--warmup", "0",
        "--naive-budget", "0.5", "--pause", "0"]


# ------------------------------------------------------------------ the NumPy baseline
@pytest.mark.parametrize("N, C, H, W, O, k, padding, table", [
    (2, 3, 7, 8, 4, 3, 0, False), (2, 3, 9, 8, 4, 3, 1, True), (1, 2, 6, 7, 3, 2, (2, 1), True),
    (2, 1, 5, 5, 2, 5, 0, False)])
def test_numpy_conv_matches_reference(N, C, H, W, O, k, padding, table):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C, k, k)), rng.standard_normal(O)
    conn = (rng.random((O, C)) > 0.4).astype(np.float64) if table else None
    z, cache = B.conv2d(x, w, b, padding, conn)
    np.testing.assert_allclose(z, RC.conv2d_reference(x, w, b, 1, padding, conn), atol=1e-10)
    dz = rng.standard_normal(z.shape)
    for got, want in zip(B.conv2d_backward(dz, cache), RC.conv2d_backward_reference(x, w, dz, 1, padding, conn)):
        np.testing.assert_allclose(got, want, atol=1e-10)
    if table:
        assert np.all(B.conv2d_backward(dz, cache)[1][conn == 0] == 0)


@pytest.mark.parametrize("k", [2, 3])
def test_numpy_pooling_matches_reference(k):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 12))
    x[0, 0, :3, :3] = 0.5  # ties: the first maximum in row-major order wins
    z, idx = B.max_pool2d(x, k)
    np.testing.assert_array_equal(z, RP.max_pool2d_reference(x, k))
    dz = rng.standard_normal(z.shape)
    np.testing.assert_array_equal(B.max_pool2d_backward(dz, idx, k), RP.max_pool2d_backward_reference(x, dz, k))
    np.testing.assert_allclose(B.window_sum(x, k) / k**2, RP.avg_pool2d_reference(x, k), atol=1e-12)
    np.testing.assert_allclose(B.window_sum_backward(dz / k**2, k), RP.avg_pool2d_backward_reference(x, dz, k), atol=1e-12)
    with pytest.raises(ValueError, match="must divide"):
        B.window_sum(x[:, :, :5], 2)


def test_lenet_baselines_match_tinygrad_cnn():
    """The hand-written LeNet-5 (NumPy and naive loops) and the PyTorch one do our model's work."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=2)
    model = LeNet5()
    state = {k: np.asarray(v, np.float32) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    loss = F.cross_entropy(model(Tensor(x)), Tensor(y))
    loss.backward()
    grads = {name: np.asarray(p.grad) for name, p in model.named_parameters()}
    for ops in (B.NumpyOps, contenders.NaiveOps):
        net = B.LeNet5(state, c3_table(), ops=ops)
        assert net.loss_and_grads(x, y) == pytest.approx(float(loss.data), rel=1e-5)
        assert set(net.grads) == set(grads)
        for name, g in grads.items():
            np.testing.assert_allclose(net.grads[name], g, rtol=1e-3, atol=1e-5, err_msg=name)
        assert np.all(net.grads["c3.weight"][c3_table() == 0] == 0)
    torch = pytest.importorskip("torch")
    tnet = contenders._torch_lenet(state)
    tl = torch.nn.functional.cross_entropy(tnet(torch.tensor(x)), torch.tensor(y))
    tl.backward()
    assert float(tl.detach()) == pytest.approx(float(loss.data), rel=1e-5)
    for name, g in grads.items():
        np.testing.assert_allclose(getattr(tnet, name.replace(".", "_")).grad.numpy(), g, rtol=1e-3, atol=1e-5)


def test_check_flags_a_mismatch():
    a = np.ones((2, 3), np.float32)
    assert harness.check([a], [a]).startswith("ok")
    assert harness.check([a * 1.01], [a]).startswith("MISMATCH")
    assert harness.check([a[:1]], [a]).startswith("MISMATCH")


# ------------------------------------------------------------------ the harness and the command line
def test_tiny_run_times_each_contender_in_its_own_process(tmp_path, capsys):
    out = tmp_path / "deep" / "results"
    assert cli.main(TINY + ["--only", "conv_c3,lenet", "--out", str(out)]) == 0
    rep = json.loads((out / "results.json").read_text())
    assert [c["key"] for c in rep["cases"]] == ["conv_c3", "lenet_step"]
    names = ["naive", "numpy", "tinygrad_cnn"] + (["torch"] if rep["machine"]["torch"] else [])
    pids = set()
    for case in rep["cases"]:
        assert list(case["contenders"]) == names
        for name, r in case["contenders"].items():
            assert r["median_ms"] > 0 and r["p90_ms"] >= r["median_ms"] and r["repeats"] >= 1, name
            assert name == "tinygrad_cnn" or r["check"].startswith("ok"), (name, r["check"])
            assert r["threads"]["blas"] == [1]
            pids.add(r["pid"])
        assert case["contenders"]["tinygrad_cnn"]["threads"]["tinygrad_cnn"] == 1
        assert "extrapolated from N=1" in case["contenders"]["naive"]["label"]
        assert case["contenders"]["numpy"]["repeats"] == 2  # rounds × calls
        if "torch" in names:
            assert case["contenders"]["torch"]["threads"]["torch"] == 1 and case["ours_over_torch"] > 0
    assert len(pids) == 2 * len(names) and os.getpid() not in pids  # a fresh process each
    for key in ("run_id", "date", "cpu_model", "cpu_count", "loadavg_start", "loadavg_end", "numpy", "numba",
                "python"):
        assert rep["machine"][key] is not None, key
    assert rep["peak"]["gflops"] > 0 and rep["settings"]["threads"] == 1 and rep["settings"]["tiny"]
    md = (out / "results.md").read_text()
    assert md.startswith(report.MARKER.format(rep["run_id"])) and "| conv C3 |" in md
    assert "LeNet-5 training step" in capsys.readouterr().out


def test_default_run_writes_nothing(tmp_path, monkeypatch, capsys):
    before = {p.name: p.stat().st_mtime_ns for p in RESULTS.iterdir()}
    monkeypatch.chdir(tmp_path)
    assert cli.main(TINY + ["--only", "maxpool", "--no-naive", "--no-torch"]) == 0
    assert list(tmp_path.iterdir()) == []
    assert {p.name: p.stat().st_mtime_ns for p in RESULTS.iterdir()} == before
    assert "| max pool |" in capsys.readouterr().out


def _no_timing(*args, **kwargs):
    raise AssertionError("timing started before the arguments were checked")


@pytest.mark.parametrize("entry", [cli.main, busy.main])
def test_unwritable_output_fails_at_once(entry, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(harness, "run_case", _no_timing)
    monkeypatch.setattr(busy, "run", _no_timing)
    (tmp_path / "afile").write_text("")
    with pytest.raises(SystemExit) as exc:
        entry(["--out", str(tmp_path / "afile" / "sub")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out: cannot create directory") and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--only", "nosuchcase"], "matches no case"), (["--repeats", "0"], "--repeats"),
    (["--threads", "x"], "--threads"), (["--out", "a", "--publish"], "not allowed with")])
def test_bad_arguments_are_one_line_errors(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(harness, "run_case", _no_timing)
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_only_publish_writes_to_the_published_results():
    assert cli.parse(["--quick"]).out is None
    assert Path(cli.parse(["--publish"]).out) == RESULTS
    from tinygrad_cnn import benchmark

    assert benchmark.main is cli.main  # what `python -m tinygrad_cnn bench` calls


def test_busy_benchmark_kills_its_burners(tmp_path, monkeypatch):
    started = []
    real = busy._burner
    monkeypatch.setattr(busy, "_burner", lambda s: started.append(real(s)) or started[-1])
    rep = busy.run(repeats=2, burners=2, timeout=30, command=[sys.executable, "-c", "pass"], log=lambda s: None)
    assert len(started) == 4 and all(p.poll() is not None for p in started)
    assert [len(v) for v in rep["seconds"].values()] == [2, 2, 2]
    assert rep["busy_over_idle"] > 0 and rep["default_threads_over_1_thread"] > 0
    text = busy.markdown(rep)
    assert text.startswith(report.MARKER.format(rep["run_id"])) and "busy / idle" in text


# ------------------------------------------------------------------ the published figures agree
def published_problems(rep: dict, md: str, readme: str) -> list:
    """How results.md and README.md fail to quote the run of results.json (empty: they agree)."""
    problems = []
    if rep["machine"]["date"] not in md:
        problems.append(f"results.md does not carry the date {rep['machine']['date']}")
    gm = rep.get("geomean_ours_over_torch")
    for name, text in (("results.md", md), ("README.md", readme)):
        if report.MARKER.format(rep["run_id"]) not in text:
            problems.append(f"{name} does not quote run {rep['run_id']} (no '{report.MARKER.format(rep['run_id'])}')")
        rows = [[c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines() if line.startswith("|")]
        for case in rep["cases"]:
            want = case.get("ours_over_torch") and report.fmt_x(case["ours_over_torch"])
            if want and not any(r[0] == case["title"] and want in r for r in rows):
                problems.append(f"{name}: no '{case['title']}' row with ours/torch {want}")
        if gm and f"{gm:.2f}×" not in text:
            problems.append(f"{name}: the geometric mean {gm:.2f}× is not quoted")
    return problems


def test_published_results_and_readme_quote_the_same_run():
    rep = json.loads((RESULTS / "results.json").read_text())
    if "run_id" not in rep:
        pytest.skip("benchmarks/results/results.json is in the old format (no run_id): publish a run "
                    "with 'python -m tinygrad_cnn bench --publish' and quote it in README.md")
    problems = published_problems(rep, (RESULTS / "results.md").read_text(), (ROOT / "README.md").read_text())
    assert not problems, "\n".join(problems)


def _fake_report():
    case = {"key": "conv_c1", "title": "conv C1", "detail": "d", "flops": 1.0, "flops_note": "n",
            "contenders": {"tinygrad_cnn": {"median_ms": 2.0, "p90_ms": 2.5},
                           "torch": {"median_ms": 4.0, "p90_ms": 4.4}}, "ours_over_torch": 0.5}
    info = {"run_id": "20260101T000000-abcd", "date": "2026-01-01T00:00:00+00:00", "cpu_model": "cpu",
            "cpus_usable": 2, "cpu_count": 2, "python": "3", "numpy": "2", "numba": "0", "torch": "2",
            "loadavg_start": None, "loadavg_end": None}
    settings = {"threads": 2, "repeats": 15, "warmup": 3, "calls": 5, "quick": False}
    return report.build([case], {"detail": "m", "gflops": 1.0}, settings, info, [])


def test_published_check_catches_a_readme_quoting_another_run(tmp_path):
    """Negative control: files written the way a real run writes them agree, a README that quotes
    another run (or another ratio) does not."""
    rep = _fake_report()
    report.write(rep, str(tmp_path))
    rep = json.loads((tmp_path / "results.json").read_text())
    md = (tmp_path / "results.md").read_text()
    readme = f"## Speed\n\n{report.MARKER.format(rep['run_id'])}\n\n{rep['table']}\n\nmean **0.50×**\n"
    assert published_problems(rep, md, readme) == []
    stale = readme.replace(rep["run_id"], "20250101T000000-0000")
    assert any("does not quote run" in p for p in published_problems(rep, md, stale))
    other_ratio = readme.replace("| 0.50× |", "| 0.76× |")
    assert any("ours/torch 0.50×" in p for p in published_problems(rep, md, other_ratio))
    other_md = md.replace(rep["run_id"], "20250101T000000-0000")
    assert any(p.startswith("results.md does not quote") for p in published_problems(rep, other_md, readme))
