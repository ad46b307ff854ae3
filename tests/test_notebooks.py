"""The notebooks of ``notebooks/``: each ``.py`` source agrees with its ``.ipynb``, the saved
``.ipynb`` carry outputs of a run without errors, and every notebook runs top to bottom in a
fresh kernel within its time budget.

A notebook is the pair ``NAME.py`` (jupytext's percent format: the reviewed source) and
``NAME.ipynb`` (the same cells with their outputs, for reading). The sync check compares the
cells of the two through ``jupytext.read``; the run executes the ``.py`` with nbclient.

The run uses the quick setting the notebooks read from the environment,
``TINYGRAD_CNN_NOTEBOOK_EPOCHS=2`` (LeNet-5 training), and starts the kernel in ``notebooks/``,
as Jupyter does, so that the notebooks' shared ``_setup.py`` is found; nothing is written there
(``PYTHONDONTWRITEBYTECODE``). The kernel is the ``python3`` kernelspec, pinned to the
interpreter running the tests: a kernelspec whose ``argv`` starts with ``sys.executable`` is put
first on ``JUPYTER_PATH``, and a cell appended to the notebook checks that the kernel's
``sys.prefix`` is ours (so a ``python3`` kernel of another environment, e.g. one in
``~/.local/share/jupyter``, can never be picked up) and that it imported this checkout's package.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = [
    "01_convolution_and_pooling",
    "02_backprop_by_hand",
    "03_lenet5_digits",
    "04_speed",
    "05_export",
]
IDS = [n.split("_")[0] for n in NOTEBOOKS]
PAIRING = "ipynb,py:percent"
# one notebook's whole run (kernel start included) on a busy 2-core machine; each takes a few
# tens of seconds
NOTEBOOK_TIMEOUT_S = 240
MARKER = "TINYGRAD_CNN_KERNEL_CHECK "
RESYNC = "jupytext --sync notebooks/*.py"


def cells(nb) -> list[tuple[str, str]]:
    """What the pairing keeps equal: each cell's type and source, in order."""
    return [(c.cell_type, c.source) for c in nb.cells]


def sync_problems(py_path: Path, ipynb_path: Path) -> list[str]:
    """Every way the .py source and the .ipynb differ (empty when they are in sync)."""
    problems = []
    if not py_path.exists() or not ipynb_path.exists():
        return [f"missing {py_path.name if not py_path.exists() else ipynb_path.name}"]
    py, ipynb = jupytext.read(py_path), jupytext.read(ipynb_path)
    for path, nb in ((py_path, py), (ipynb_path, ipynb)):
        formats = nb.metadata.get("jupytext", {}).get("formats")
        if formats != PAIRING:
            problems.append(f"{path.name}: jupytext formats {formats!r}, not {PAIRING!r}")
    a, b = cells(py), cells(ipynb)
    if len(a) != len(b):
        problems.append(f"{py_path.name} has {len(a)} cells, {ipynb_path.name} {len(b)}")
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            problems.append(f"cell {k} differs: {py_path.name} {x[0]} {x[1][:60]!r} ... "
                            f"vs {ipynb_path.name} {y[0]} {y[1][:60]!r} ...")
            break
    return problems


# --------------------------------------------------------------------------------------------
# the .py sources and the .ipynb agree
# --------------------------------------------------------------------------------------------

def test_every_notebook_is_listed():
    """A notebook added to the folder is checked too (and no stray generator or source is left)."""
    ipynbs = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))
    sources = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.py") if not p.name.startswith("_"))
    assert ipynbs == NOTEBOOKS
    assert sources == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS, ids=IDS)
def test_source_and_notebook_in_sync(name):
    problems = sync_problems(NOTEBOOK_DIR / f"{name}.py", NOTEBOOK_DIR / f"{name}.ipynb")
    assert not problems, "\n".join(problems) + f"\n(after editing one side: {RESYNC})"


def test_sync_check_catches_a_changed_cell(tmp_path):
    """Negative control: on copies, the check fails when one side's cell changes or goes."""
    name = NOTEBOOKS[0]
    py, ipynb = tmp_path / f"{name}.py", tmp_path / f"{name}.ipynb"

    def fresh_copies():
        shutil.copyfile(NOTEBOOK_DIR / f"{name}.py", py)
        shutil.copyfile(NOTEBOOK_DIR / f"{name}.ipynb", ipynb)

    fresh_copies()
    assert sync_problems(py, ipynb) == []

    # a code cell edited in Jupyter (the .ipynb) and not synced to the .py
    nb = nbformat.read(ipynb, as_version=4)
    k = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "padding=1" in c.source)
    nb.cells[k].source = nb.cells[k].source.replace("padding=1", "padding=2", 1)
    nbformat.write(nb, ipynb)
    assert any(f"cell {k} differs" in p for p in sync_problems(py, ipynb))

    # a markdown line edited in the .py and not synced to the .ipynb
    fresh_copies()
    text = py.read_text(encoding="utf-8")
    assert "# ## 1.1 The lecture's example convolution" in text
    py.write_text(text.replace("# ## 1.1 The lecture's example", "# ## 1.1 A lecture example"),
                  encoding="utf-8")
    assert any("differs" in p for p in sync_problems(py, ipynb))

    # a cell deleted from the .ipynb
    fresh_copies()
    nb = nbformat.read(ipynb, as_version=4)
    del nb.cells[-1]
    nbformat.write(nb, ipynb)
    assert any("cells" in p for p in sync_problems(py, ipynb))

    # the pairing metadata removed
    fresh_copies()
    nb = nbformat.read(ipynb, as_version=4)
    del nb.metadata["jupytext"]
    nbformat.write(nb, ipynb)
    assert any("formats" in p for p in sync_problems(py, ipynb))


# --------------------------------------------------------------------------------------------
# the saved outputs
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NOTEBOOKS, ids=IDS)
def test_saved_notebook_was_run(name):
    """The committed .ipynb holds the outputs of one clean run: every code cell executed, in
    order, no error, and at least one figure."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{name}.ipynb: execution counts {counts}; run it again: "
        f"jupyter execute --inplace notebooks/{name}.ipynb")
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}.ipynb: no figure saved"


def load_setup():
    """notebooks/_setup.py as a module (it is found by the notebooks, not installed)."""
    spec = importlib.util.spec_from_file_location("notebook_setup", NOTEBOOK_DIR / "_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_speed_notebook_shows_the_published_run():
    """Notebook 04's saved table is the one in benchmarks/results/results.json (the README's):
    after a new published run, the notebook must be run again."""
    published = json.loads((ROOT / "benchmarks" / "results" / "results.json").read_text())
    table = load_setup().load_benchmark(ROOT / "benchmarks" / "results" / "results.json")["table"]
    if isinstance(published.get("table"), str):
        assert table == published["table"]
    nb = nbformat.read(NOTEBOOK_DIR / "04_speed.ipynb", as_version=4)
    shown = [o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
             for o in c.outputs if "text/markdown" in o.get("data", {})]
    assert table in shown, ("notebooks/04_speed.ipynb shows another benchmark run than "
                            "benchmarks/results/results.json; run it again: "
                            "jupyter execute --inplace notebooks/04_speed.ipynb")


# --------------------------------------------------------------------------------------------
# reading benchmark results, old and new
# --------------------------------------------------------------------------------------------

def test_load_benchmark_reads_the_published_format():
    setup = load_setup()
    path = ROOT / "benchmarks" / "results" / "results.json"
    raw = json.loads(path.read_text())
    bench = setup.load_benchmark(path)
    assert [c["key"] for c in bench["cases"]] == [c["key"] for c in raw["cases"]]
    for case, raw_case in zip(bench["cases"], raw["cases"]):
        for name, entry in raw_case["contenders"].items():
            if entry.get("median_ms") is not None:
                assert case["contenders"][name]["median_ms"] == entry["median_ms"]
        if raw_case.get("ours_over_torch") is not None:
            assert case["ratio"] == raw_case["ours_over_torch"]
    if "machine" in raw:
        assert bench["run"]["date"] == raw["machine"]["date"][:10]
        assert bench["run"]["versions"]["numpy"] == raw["machine"]["numpy"]


def test_load_benchmark_reads_a_run_block_and_per_contender_p90(tmp_path):
    """The newer layout: a ``run`` block and per-case ``median_ms``/``p90_ms`` and ``ratio``."""
    setup = load_setup()
    newer = {
        "run": {"id": "r42", "date": "2027-01-02T03:04:05+00:00", "machine": "2-core test box",
                "versions": {"numpy": "9.9", "torch": None}, "threads": 2, "repeats": 11},
        "cases": [
            {"key": "conv_c1", "title": "conv C1",
             "contenders": {"tinygrad_cnn": {"median_ms": 2.0, "p90_ms": 2.5},
                            "torch": {"median_ms": 4.0, "p90_ms": 4.4}, "naive": {"median_ms": None}},
             "ratio": 0.5},
            {"key": "maxpool", "title": "max pool",      # no ratio given: from the medians
             "contenders": {"tinygrad_cnn": {"median_ms": 3.0}, "torch": {"median_ms": 2.0}}},
            {"key": "numpy_only", "contenders": {"numpy": {"median_ms": 7.0}}},
        ],
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(newer))
    bench = setup.load_benchmark(path)
    assert bench["run"]["id"] == "r42" and bench["run"]["date"] == "2027-01-02"
    assert bench["run"]["machine"] == "2-core test box" and bench["run"]["repeats"] == 11
    assert bench["run"]["versions"] == {"numpy": "9.9"}
    c1, pool, only = bench["cases"]
    assert c1["contenders"]["tinygrad_cnn"] == {"median_ms": 2.0, "p90_ms": 2.5, "samples_ms": [],
                                                "scale": 1.0, "label": None, "error": None}
    assert c1["contenders"]["naive"]["median_ms"] is None
    assert c1["ratio"] == 0.5 and pool["ratio"] == 1.5 and only["ratio"] is None
    assert only["title"] == "numpy_only"
    assert bench["geomean"] == pytest.approx((0.5 * 1.5) ** 0.5)
    table = bench["table"].splitlines()
    assert table[0] == "| case | numpy ms | tinygrad_cnn ms | torch ms | ours/torch |"
    assert table[2] == "| conv C1 | — | 2 (p90 2.5) | 4 (p90 4.4) | 0.50× |"
    assert table[4] == "| numpy_only | 7 | — | — | — |"

    # cases keyed by name, contenders directly in the case, the ratio as a mapping
    path.write_text(json.dumps({"cases": {"conv_c3": {"tinygrad_cnn": {"median_ms": 1.0},
                                                      "torch": {"median_ms": 4.0},
                                                      "ratio": {"ours_over_torch": 0.25}}}}))
    bench = setup.load_benchmark(path)
    (case,) = bench["cases"]
    assert case["key"] == "conv_c3" and case["ratio"] == 0.25
    assert bench["run"]["machine"] == "unknown machine"


# --------------------------------------------------------------------------------------------
# every notebook runs
# --------------------------------------------------------------------------------------------

@pytest.fixture
def python3_kernel(tmp_path, monkeypatch):
    """A ``python3`` kernelspec that runs this interpreter, first on the Jupyter path."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "python3"


@pytest.mark.parametrize("name", NOTEBOOKS, ids=IDS)
def test_notebook_runs(name, tmp_path, monkeypatch, python3_kernel):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("TINYGRAD_CNN_NOTEBOOK_EPOCHS", "2")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")   # no __pycache__ left in notebooks/

    nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")      # the source, without saved outputs
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json as _json, sys as _sys\n"
        f"print({MARKER!r} + _json.dumps({{'prefix': _sys.prefix, "
        "'package': _sys.modules['tinygrad_cnn'].__file__}))"))

    client = nbclient.NotebookClient(nb, timeout=NOTEBOOK_TIMEOUT_S, kernel_name=python3_kernel,
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    t0 = time.perf_counter()
    try:
        client.execute()  # raises CellExecutionError on the first cell that fails
    finally:
        nbformat.write(nb, str(tmp_path / f"{name}.ipynb"))  # the executed copy, for a failure
    seconds = time.perf_counter() - t0

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    check = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert MARKER in check, f"kernel check cell printed nothing: {nb.cells[-1].outputs}"
    kernel = json.loads(check.split(MARKER, 1)[1])
    assert Path(kernel["prefix"]).resolve() == Path(sys.prefix).resolve(), (
        f"the notebook ran in {kernel['prefix']}, not in this environment ({sys.prefix})")
    assert Path(kernel["package"]).resolve() == (ROOT / "tinygrad_cnn" / "__init__.py").resolve(), (
        f"the notebook imported {kernel['package']}, not this checkout's package")
    assert seconds < NOTEBOOK_TIMEOUT_S, f"{name} took {seconds:.0f} s (budget {NOTEBOOK_TIMEOUT_S} s)"
    print(f"{name}: {seconds:.1f} s")
