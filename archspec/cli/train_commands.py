"""Commands that train: fit, evaluate, compare, sweep."""

from __future__ import annotations

from pathlib import Path

import typer

from archspec.cli.app import BackendOption, SetOption, _use_backend, app

STRATEGY_HELP = "default (one device), mirrored (all local devices) or multiworker (TF_CONFIG)."


@app.command()
def fit(
    spec: Path | None = typer.Argument(None, help="A spec file (.yaml); omit with --resume."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs (total, with --resume)."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1),
    subset: int | None = typer.Option(None, "--subset", min=1, help="Use the first N train and test examples."),
    out: Path | None = typer.Option(None, "--out", help="Run folder (default runs/<spec>-<time>)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for weights, shuffling and noise."),
    task: str | None = typer.Option(None, "--task", help="classify, autoencode or denoise."),
    noise: str | None = typer.Option(None, "--noise", help="KIND:AMOUNT, e.g. gaussian:0.5 or salt_pepper:0.2."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Folder of the IDX files (else $ARCHSPEC_DATA_DIR, else download)."),
    strategy: str = typer.Option("default", "--strategy", help=STRATEGY_HELP),
    resume: Path | None = typer.Option(None, "--resume", help="Continue this run folder from its last complete epoch."),
    overrides: list[str] = SetOption,
    worker_timeout: float | None = typer.Option(
        None, "--worker-timeout", min=1, help="multiworker: seconds to wait for the peers (default 120)."),
    backend: str | None = BackendOption,
) -> None:
    """Train a spec on its dataset and task; write a run folder (checkpoints, history, metrics, plots)."""
    _use_backend(backend)
    from archspec.train import runner as train

    if resume is not None:
        if overrides or spec is not None:
            raise typer.BadParameter("a resumed run keeps its own spec; give --resume RUN_DIR alone "
                                     "(with --epochs or --data-dir)", param_hint="--resume")
        run_dir = train.resume_run(resume, epochs=epochs, data_dir=data_dir)
    elif spec is None:
        raise typer.BadParameter("give a SPEC to train, or --resume RUN_DIR", param_hint="SPEC")
    else:
        run_dir = train.fit_spec(
            spec, spec_overrides=overrides, out=out, epochs=epochs, batch_size=batch_size, subset=subset, seed=seed,
            task=task, noise=_parse_noise(noise), data_dir=data_dir, strategy=strategy,
            worker_timeout_s=worker_timeout,
        )
    if run_dir is None:  # a multi-worker run's other workers: the chief writes the run folder
        typer.echo("trained as a worker of a multi-worker run; the chief (worker 0) writes the run folder")
        return
    typer.echo(f"run folder: {run_dir}")
    typer.echo((run_dir / "metrics.json").read_text().rstrip())


def _parse_noise(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    kind, _, amount = text.partition(":")
    try:
        return {kind: float(amount)}
    except ValueError:
        raise typer.BadParameter(f"expected KIND:AMOUNT such as gaussian:0.5, got {text!r}",
                                 param_hint="--noise") from None


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run folder of `archspec fit`."),
    data_dir: Path | None = typer.Option(None, "--data-dir"),
    backend: str | None = BackendOption,
) -> None:
    """Evaluate a run's final model on its test set (the same fixed noisy copy when denoising)."""
    _use_backend(backend)
    from archspec.train.runner import evaluate_run

    for name, value in evaluate_run(run_dir, data_dir).items():
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


