"""Commands that train: fit, evaluate, compare, sweep."""

from __future__ import annotations

from pathlib import Path

import typer

from archspec.cli import choices
from archspec.cli.app import BackendOption, SetOption, _use_backend, app
from archspec.cli.choices import Backend, chosen

STRATEGY_HELP = "mirrored: all local devices; multiworker: the cluster in TF_CONFIG."


@app.command()
def fit(
    spec: Path | None = typer.Argument(None, help="A spec file (.yaml); omit with --resume."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs (total, with --resume)."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1),
    subset: int | None = typer.Option(None, "--subset", min=1, help="Use the first N train and test examples."),
    out: Path | None = typer.Option(None, "--out", help="Run folder (default runs/<spec>-<time>)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for weights, shuffling and noise."),
    task: choices.Task | None = typer.Option(None, "--task", help="The task (default: the spec's train: task)."),
    noise: str | None = typer.Option(None, "--noise", help="KIND:AMOUNT, e.g. gaussian:0.5 or salt_pepper:0.2."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Folder of the IDX files (else $ARCHSPEC_DATA_DIR, else download)."),
    data: Path | None = typer.Option(
        None, "--data", help="Your own data: a folder of class folders, .npz, .npy folder or .csv (docs/data.md)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip unusable files and rows (listed in data.json)."),
    strategy: choices.Strategy = typer.Option("default", "--strategy", help=STRATEGY_HELP),
    resume: Path | None = typer.Option(None, "--resume", help="Continue this run folder from its last complete epoch."),
    overrides: list[str] = SetOption,
    worker_timeout: float | None = typer.Option(
        None, "--worker-timeout", min=1, help="multiworker: seconds to wait for the peers (default 120)."),
    init_weights: Path | None = typer.Option(
        None, "--init-weights", help="Start from these weights (a .weights.h5 file, e.g. from `archspec import`)."),
    backend: Backend | None = BackendOption,
) -> None:
    """Train a spec on its dataset and task; write a run folder (checkpoints, history, metrics, plots)."""
    noise_setting = _parse_noise(noise)  # a wrong command line is refused before TensorFlow loads
    _use_backend(backend)
    if resume is not None:
        ignored = [name for name, value in (("SPEC", spec), ("--set", overrides), ("--batch-size", batch_size),
                                            ("--subset", subset), ("--out", out), ("--seed", seed), ("--task", task),
                                            ("--noise", noise), ("--worker-timeout", worker_timeout),
                                            ("--skip-bad", skip_bad or None), ("--init-weights", init_weights))
                   if value not in (None, [])] + (["--strategy"] if chosen(strategy) != "default" else [])
        if ignored:
            raise typer.BadParameter(f"a resumed run keeps the spec and settings of its config.json, so "
                                     f"{', '.join(ignored)} would be ignored; give --resume RUN_DIR alone "
                                     "(with --epochs, --data-dir, or --data for its moved data)", param_hint="--resume")
    elif spec is None:
        raise typer.BadParameter("give a SPEC to train, or --resume RUN_DIR", param_hint="SPEC")
    from archspec.train import runner as train  # TensorFlow: after the command line is known to be right
    from archspec.train.config import RunOptions

    if resume is not None:
        from archspec.train.resume import resume_run

        run_dir = resume_run(resume, epochs=epochs, data_dir=data_dir, data=data)
    else:
        options = RunOptions(epochs=epochs, batch_size=batch_size, subset=subset, seed=seed, task=chosen(task),
                             noise=noise_setting, data_dir=data_dir, data=data, skip_bad=skip_bad,
                             strategy=chosen(strategy),
                             worker_timeout_s=worker_timeout, init_weights=init_weights)
        run_dir = train.fit_spec(spec, spec_overrides=overrides, out=out, options=options)
    if run_dir is None:  # a multi-worker run's other workers: the chief writes the run folder
        typer.echo("trained as a worker of a multi-worker run; the chief (worker 0) writes the run folder")
        return
    typer.echo(f"run folder: {run_dir}")
    typer.echo((run_dir / "metrics.json").read_text().rstrip())


def _parse_noise(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    from archspec.train.data import NOISES

    kind, _, amount = text.partition(":")
    if kind not in NOISES:
        raise typer.BadParameter(f"the noise kind {kind!r} is not one of {', '.join(map(repr, NOISES))}",
                                 param_hint="--noise")
    try:
        return {kind: float(amount)}
    except ValueError:
        raise typer.BadParameter(f"expected KIND:AMOUNT such as gaussian:0.5, got {text!r}",
                                 param_hint="--noise") from None


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run folder of `archspec fit`."),
    data_dir: Path | None = typer.Option(None, "--data-dir"),
    data: Path | None = typer.Option(None, "--data", help="Where the run's own data is now, if it moved."),
    backend: Backend | None = BackendOption,
) -> None:
    """Evaluate a run's final model on its test set (the same fixed noisy copy when denoising)."""
    _use_backend(backend)
    from archspec.train.runner import evaluate_run

    for name, value in evaluate_run(run_dir, data_dir, data).items():
        typer.echo(f"{name}: {value:.4f}")


@app.command()
def compare(
    run_dirs: list[Path] = typer.Argument(..., help="Run folders to compare."),
    out: Path = typer.Option(Path("runs/compare"), "--out", help="Where the two comparison images go."),
) -> None:
    """Print a table of finished runs; write their curves overlaid and their samples side by side."""
    from archspec.train.compare import compare_runs, own_outputs

    for skipped in own_outputs(run_dirs, out):
        typer.echo(f"left out {skipped}: archspec's own output, not a run", err=True)
    typer.echo(compare_runs(run_dirs, out))
    typer.echo(f"wrote {out / 'compare_curves.png'} and {out / 'compare_samples.png'}")


@app.command()
def sweep(
    sweep_file: Path | None = typer.Argument(None, help="A sweep file (.yaml); see docs/sweeps.md."),
    trials: int | None = typer.Option(None, "--trials", min=1,
                                      help="Trials the study should have (default: the file's, or the grid)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Trials trained at once on this machine."),
    threads: int | None = typer.Option(None, "--threads", min=1,
                                       help="CPU threads per worker (default: an equal share of the cores)."),
    storage: str | None = typer.Option(
        None, "--storage", help="Optuna storage: a database URL or a journal file (default OUT/study.journal)."),
    out: Path | None = typer.Option(None, "--out", help="Sweep folder (default runs/sweeps/<name>)."),
    pin: bool = typer.Option(False, "--pin", help="Also bind each worker to its CPUs (for a machine of your own)."),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of sweep files and exit."),
) -> None:
    """Train variants of a spec (topology, ops, settings) as an Optuna study; resumable, shareable."""
    if schema:
        import json

        from archspec.train.sweep_file import sweep_schema

        typer.echo(json.dumps(sweep_schema(), indent=2))
        return
    if sweep_file is None:
        raise typer.BadParameter("give a SWEEP file (or --schema)", param_hint="SWEEP_FILE")
    from archspec.train.sweep import run_sweep

    result = run_sweep(sweep_file, trials=trials, workers=workers, threads=threads, storage=storage, out=out,
                       pin=pin, progress=typer.echo)
    counts = ", ".join(f"{count} {state}" for state, count in sorted(result.counts.items()))
    typer.echo(f"ran {len(result.ran)} trial(s) here; the study has {counts}")
    typer.echo(f"report: {result.report}")


