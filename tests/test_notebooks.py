"""Every notebook in ``notebooks/`` runs top to bottom in a fresh kernel without an error.

Each notebook is copied into a temporary folder and executed there with nbclient (the repo's
files are never rewritten), with the quick settings the notebooks read from the environment:
``TINYGRAD_CNN_NOTEBOOK_EPOCHS=2`` (LeNet-5 training) and ``TINYGRAD_CNN_NOTEBOOK_QUICK=1``
(a smaller benchmark selection).

The kernel is the ``python3`` kernelspec, pinned to the interpreter running the tests: a
kernelspec whose ``argv`` starts with ``sys.executable`` is put first on ``JUPYTER_PATH``, and
a cell appended to the copy checks that the kernel's ``sys.prefix`` is ours (so a ``python3``
kernel of another environment, e.g. one in ``~/.local/share/jupyter``, can never be picked up).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = [
    "01_convolution_and_pooling.ipynb",
    "02_backprop_by_hand.ipynb",
    "03_lenet5_digits.ipynb",
    "04_speed.ipynb",
]
CELL_TIMEOUT_S = 600
MARKER = "TINYGRAD_CNN_KERNEL_CHECK "


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


@pytest.mark.parametrize("name", NOTEBOOKS, ids=[n.split("_")[0] for n in NOTEBOOKS])
def test_notebook_runs(name, tmp_path, monkeypatch, python3_kernel):
    source = NOTEBOOK_DIR / name
    assert source.exists(), f"missing notebook {source}"
    work = tmp_path / "run"
    work.mkdir()
    copy = work / name
    shutil.copyfile(source, copy)

    monkeypatch.setenv("TINYGRAD_CNN_NOTEBOOK_EPOCHS", "2")
    monkeypatch.setenv("TINYGRAD_CNN_NOTEBOOK_QUICK", "1")

    nb = nbformat.read(str(copy), as_version=4)
    for cell in nb.cells:  # start from a clean slate: no stale outputs in what we check
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import json as _json, sys as _sys\nprint({MARKER!r} + _json.dumps({{'prefix': _sys.prefix}}))"))

    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=python3_kernel,
                                     resources={"metadata": {"path": str(work)}})
    t0 = time.perf_counter()
    try:
        client.execute()  # raises CellExecutionError on the first cell that fails
    finally:
        nbformat.write(nb, str(copy))  # the executed copy, for inspection after a failure
    seconds = time.perf_counter() - t0

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    check = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert MARKER in check, f"kernel check cell printed nothing: {nb.cells[-1].outputs}"
    kernel = json.loads(check.split(MARKER, 1)[1])
    assert Path(kernel["prefix"]).resolve() == Path(sys.prefix).resolve(), (
        f"the notebook ran in {kernel['prefix']}, not in this environment ({sys.prefix})")
    print(f"{name}: {seconds:.1f} s")
