"""archspec in Jupyter: a spec written in a cell, shown as its diagram; a run trained from Python, shown as its results.

    spec = archspec.loads('''...yaml...''')   # the cell's output is the diagram (Spec._repr_svg_)
    run = archspec.fit("specs/mnist_denoise_unet.yaml", epochs=1, subset=2000)
    run                                         # curves, samples and the metrics table (Run._repr_html_)

Nothing here imports a framework until `fit` trains: a spec's diagram needs
only graphviz, like `archspec render`. The run folder is the same one
`archspec fit` writes, so a run started in a notebook can be compared,
evaluated, resumed or exported from the command line, and the reverse.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archspec.draw.diagram import render
from archspec.errors import RunError
from archspec.keras.backend import use_backend
from archspec.spec.frontend import load_spec, loads_spec
from archspec.spec.models import Spec
from archspec.train import runs

NOTEBOOK_VERBOSE = 2
"""An epoch header and one line per epoch (train/progress.py): a stored notebook keeps a short log, not thousands
of progress-bar frames."""


def loads(text: str, name: str = "<cell>") -> Spec:
    """A validated spec from YAML text (a notebook cell); errors point at lines of the text."""
    return loads_spec(text, name)


def spec_svg(spec: Spec) -> str:
    """The spec's diagram as SVG text, with shapes and parameter counts (what Spec._repr_svg_ shows)."""
    return render(spec, params=True).pipe(format="svg").decode("utf-8")


Spec.display_svg = spec_svg  # Jupyter shows a spec as its diagram (Spec._repr_svg_)


@dataclass(frozen=True)
class Run:
    """A run folder of `archspec fit`, readable from Python and shown in Jupyter as its results."""

    path: Path

    @property
    def metrics(self) -> dict[str, Any]:
        return runs.read_json(self.path / runs.METRICS_FILE)

    @property
    def config(self) -> dict[str, Any]:
        return runs.read_json(self.path / runs.CONFIG_FILE)

    @property
    def history(self) -> list[dict[str, float]]:
        return runs.read_history(self.path / runs.HISTORY_FILE)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def _repr_html_(self) -> str:
        metrics = self.metrics
        title = (f"<h4>{html.escape(str(metrics['spec']))}: {html.escape(str(metrics['task']))}, "
                 f"{metrics['epochs']} epoch(s), {metrics['params']:,} parameters, "
                 f"{metrics['samples_per_s']:,} samples/s</h4>")
        images = "".join(_image(self.path / name) for name in (runs.CURVES_FILE, runs.SAMPLES_FILE))
        return f"<div>{title}{metrics_table(metrics)}{images}<p><code>{html.escape(str(self.path))}</code></p></div>"


def open_run(path: str | Path) -> Run:
    """The run folder at `path` (it must hold metrics.json, i.e. have finished)."""
    path = Path(path)
    if not (path / runs.METRICS_FILE).is_file():
        raise RunError(f"{path}: no {runs.METRICS_FILE}; is it a finished run folder of `archspec fit`?")
    return Run(path)


def metrics_table(metrics: dict[str, Any]) -> str:
    """An HTML table: one row per metric, one column per split (train, validation, test)."""
    splits = [split for split in ("train", "validation", "test") if metrics.get(split)]
    names: list[str] = []
    for split in splits:
        names.extend(name for name in metrics[split] if name not in names)
    head = "".join(f"<th>{split}</th>" for split in splits)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{_number(metrics[split].get(name))}</td>" for split in splits) + "</tr>"
        for name in names
    )
    return f"<table><tr><th></th>{head}</tr>{rows}</table>"


def fit(
    spec: str | Path | Spec,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    subset: int | None = None,
    seed: int | None = None,
    task: str | None = None,
    noise: dict[str, float] | None = None,
    data_dir: str | Path | None = None,
    data: str | Path | None = None,
    out: str | Path | None = None,
    runs_root: str | Path = "runs",
    backend: str | None = None,
    overrides: Sequence[str] = (),
    verbose: Any = NOTEBOOK_VERBOSE,
) -> Run:
    """Train a spec (a file, or one from `loads`) as `archspec fit` does, and return its Run.

    data: a dataset of one's own (a folder of class folders, a table, ...; docs/data.md), as `--data`.
    backend: tensorflow, jax or torch; Keras fixes it at its first import, so
    choose it in the first cell that trains (or set KERAS_BACKEND).
    """
    use_backend(backend)
    from archspec.train.runner import fit_spec  # imports the framework: only now that something trains

    settings = {"epochs": epochs, "batch_size": batch_size, "subset": subset, "seed": seed, "task": task,
                "noise": noise, "data_dir": data_dir, "data": data}
    with tempfile.TemporaryDirectory() as folder:
        path = _spec_file(spec, Path(folder))
        run_dir = fit_spec(path, runs_root=runs_root, out=out, verbose=verbose, spec_overrides=overrides,
                           **settings)
    return Run(run_dir)


def _spec_file(spec: str | Path | Spec, folder: Path) -> Path:
    """A file to train from: the given path, or a spec from a cell written out resolved (it has no file)."""
    if not isinstance(spec, Spec):
        load_spec(spec)  # errors now, pointing into the file, before anything is imported
        return Path(spec)
    path = folder / f"{spec.name}.yaml"
    path.write_text(spec.resolved_yaml())
    return path


def _image(path: Path) -> str:
    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.name)}" style="max-width:100%"/>'


def _number(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else html.escape(json.dumps(value))
