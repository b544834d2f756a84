"""archspec in Jupyter: specs from cells, their diagrams, runs from Python, and docs/lecture.ipynb executed."""

from __future__ import annotations

import json
import os

import pytest

import archspec
from archspec.errors import RunError, SpecError
from archspec.notebook import metrics_table, open_run, spec_svg
from tests.conftest import ROOT, needs_mnist

MLP = """\
archspec: 1
name: cell_mlp
inputs:
  image: {shape: [28, 28]}
nodes:
  flat: {op: flatten}
  hidden: {op: dense, units: 32, activation: relu}
  probs: {op: dense, units: 10, activation: softmax}
edges:
  - image -> flat -> hidden -> probs
outputs: [probs]
"""


def test_loads_validates_cell_text_and_errors_point_into_it():
    spec = archspec.loads(MLP)
    assert (spec.name, list(spec.nodes)) == ("cell_mlp", ["flat", "hidden", "probs"])
    with pytest.raises(SpecError) as error:
        archspec.loads(MLP.replace("units: 32", "unit: 32"))
    assert str(error.value).startswith("<cell>:7:")
    assert "unknown parameter 'unit' for op dense" in str(error.value)


def test_a_spec_shows_itself_as_its_diagram_without_a_framework():
    import subprocess
    import sys

    code = ("import sys, archspec\n"
            f"svg = archspec.loads({MLP!r})._repr_svg_()\n"
            "print(svg.count('<svg'), 'hidden' in svg, '25,450' in svg)\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.splitlines() == ["1 True True", "[]"], result.stderr
    spec = archspec.loads(MLP)
    assert spec._repr_svg_() == spec_svg(spec)


def test_the_diagram_hook_is_installed_by_the_notebook_module_not_by_the_spec():
    import subprocess
    import sys

    code = ("import sys\nfrom archspec.spec.frontend import loads_spec\n"
            f"print(loads_spec({MLP!r})._repr_svg_(), 'archspec.notebook' in sys.modules)\n"
            "import IPython, archspec\narchspec.load\n"  # the facade, under IPython: notebook installs it
            f"print(loads_spec({MLP!r})._repr_svg_().count('<svg'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.splitlines() == ["None False", "1"], result.stderr


def test_metrics_table_has_a_row_per_metric_and_a_column_per_split():
    table = metrics_table({"train": {"loss": 0.5, "accuracy": 0.75}, "validation": {"loss": 0.625},
                           "test": {"loss": 0.25, "accuracy": 1.0}})
    assert table == ("<table><tr><th></th><th>train</th><th>validation</th><th>test</th></tr>"
                     "<tr><td>loss</td><td>0.5000</td><td>0.6250</td><td>0.2500</td></tr>"
                     "<tr><td>accuracy</td><td>0.7500</td><td></td><td>1.0000</td></tr></table>")


def test_open_run_refuses_a_folder_that_is_not_a_finished_run(tmp_path):
    with pytest.raises(RunError) as error:
        open_run(tmp_path)
    assert str(error.value) == f"{tmp_path}: no metrics.json; is it a finished run folder of `archspec fit`?"


SUBSET = 64
"""Examples the notebook trains and tests on here: its cells must run and show their results, not learn."""


@pytest.mark.notebook
@pytest.mark.slow
@needs_mnist
def test_the_lecture_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    import nbclient
    import nbformat

    notebook = nbformat.read(ROOT / "docs" / "lecture.ipynb", as_version=4)
    (parameters,) = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert "SUBSET = 1000" in parameters.source
    parameters.source = parameters.source.replace("SUBSET = 1000", f"SUBSET = {SUBSET}")  # the suite's CPU budget
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = {index: cell.outputs for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    shown = [next(iter(o["data"])) if "data" in o else o["output_type"] for index in outputs
             for o in outputs[index]]
    assert "error" not in shown
    diagrams = [o["data"]["image/svg+xml"] for cell in outputs.values() for o in cell
                if "image/svg+xml" in o.get("data", {})]
    skip = "concat&#45;skip"  # the edge kind's label, as graphviz escapes it in SVG
    assert len(diagrams) == 2 and skip not in diagrams[0] and skip in diagrams[1]

    monkeypatch.chdir(tmp_path)
    run_dirs = sorted((tmp_path / "runs").glob("mnist_denoise_*"))
    assert [path.name.rsplit("-", 2)[0] for path in run_dirs] == ["mnist_denoise_ae", "mnist_denoise_unet"]
    pages = [o["data"]["text/html"] for cell in outputs.values() for o in cell if "text/html" in o.get("data", {})]
    assert len(pages) == 2
    for run_dir, page in zip(run_dirs, pages):
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["epochs"] == 1 and metrics["train_samples"] < SUBSET
        assert page == open_run(run_dir.relative_to(tmp_path))._repr_html_()  # the kernel's paths are relative
        assert f"<td>psnr</td><td></td><td></td><td>{metrics['test']['psnr']:.4f}</td>" in page
        assert page.count('src="data:image/png;base64,') == 2
    texts = "".join(o.get("text", "") for cell in outputs.values() for o in cell)
    assert "U-Net minus autoencoder: " in texts
