"""The notebook cell of docs/data.md ("In a notebook") runs as written: own data from Python, in a run folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED_MNIST, needs_mnist


def notebook_cell() -> str:
    page = (ROOT / "docs" / "data.md").read_text()
    return re.search(r"## In a notebook\n.*?```python\n(.*?)```", page, re.S).group(1)


def test_the_cell_fits_on_the_data_keyword():
    cell = notebook_cell()
    assert 'archspec.fit(spec, data="my_digits"' in cell and '"../shared/data/mnist"' in cell


@pytest.mark.slow
@needs_mnist
def test_the_notebook_cell_of_the_data_page_trains_on_its_own_folder(tmp_path):
    code = notebook_cell().replace('"../shared/data/mnist"', repr(str(SHARED_MNIST)))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[:2] == ["my_digits: image_folder (detected)", "examples: 600 (all 600)"]
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert lines[-1] == f"{json.loads((run_dir / 'metrics.json').read_text())['test']['accuracy']} " \
                        f"{run_dir.relative_to(tmp_path) / 'data.json'}"
    assert json.loads((run_dir / "data.json").read_text())["counts"] == {"train": 480, "val": 60, "test": 60}
