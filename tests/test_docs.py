"""The documentation says what the code does: the API page carries the contract verbatim, and the
README's example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACT = os.path.join(os.path.dirname(ROOT), "shared", "API.md")


@pytest.mark.skipif(not os.path.exists(CONTRACT), reason="the API contract is not beside this checkout")
def test_api_page_starts_with_the_contract_verbatim():
    with open(CONTRACT, encoding="utf-8") as f:
        contract = f.read().rstrip("\n")
    with open(os.path.join(ROOT, "docs", "API.md"), encoding="utf-8") as f:
        page = f.read()
    assert page.startswith(contract), "docs/API.md must begin with the contract, unchanged"
    assert "## Additions in this repository" in page[len(contract):]


def test_readme_example_runs_and_explains_the_backward_pass(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        code = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)[0]
    script = tmp_path / "example.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "dW (4, 1, 3, 3) = dZ (8, 4, 12, 12) ⋆ V (8, 1, 12, 12)" in proc.stdout
