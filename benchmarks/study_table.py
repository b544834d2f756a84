"""The table and validation curves of a skip study's sweep folder, finished or still running.

`archspec sweep` writes report.md when its trials finish; a study of 20-epoch
U-Nets takes hours on a CPU, so this reads what the trials' run folders hold
so far (history.csv after every epoch, metrics.json once a trial is done) and
prints one markdown row per trial: the varied values, epochs done, validation
BCE at the last epoch and its best, test BCE when finished, and minutes. With
--plot it draws the validation curves in one picture, one per skip kind (a
lost trial's retry, which has more epochs, stands for it).

    python benchmarks/study_table.py runs/sweeps/skip_study_noise05 [--plot docs/images/x.png]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def rows(folder: Path) -> list[dict]:
    """One dict per trial folder (trials/NNNN): its skip/noise values, history and final metrics."""
    found = []
    for trial in sorted((folder / "trials").glob("[0-9]*")):
        if not trial.is_dir():
            continue
        history = trial / "history.csv"
        epochs = list(csv.DictReader(history.open())) if history.exists() else []
        metrics = json.loads((trial / "metrics.json").read_text()) if (trial / "metrics.json").exists() else {}
        config = json.loads((trial / "config.json").read_text()) if (trial / "config.json").exists() else {}
        found.append({"trial": trial.name, "spec": (trial / "spec.yaml").read_text() if (trial / "spec.yaml").exists()
                      else "", "epochs": epochs, "metrics": metrics, "config": config})
    return found


def skip_kind(spec_text: str) -> str:
    """The kind of the two U-Net skips in a trial's spec (absent when it has none)."""
    for kind in ("concat-skip", "add-residual", "gate"):
        if f"kind: {kind}" in spec_text:
            return kind
    return "absent"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--plot", type=Path, help="write the validation curves here (.png)")
    args = parser.parse_args()
    trials = rows(args.folder)
    print("| trial | skips | epochs done | val BCE, last epoch | val BCE, best | test BCE | minutes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for trial in trials:
        losses = [float(row["val_loss"]) for row in trial["epochs"]]
        minutes = sum(float(row["time_s"]) for row in trial["epochs"]) / 60
        test = trial["metrics"].get("test", {}).get("loss")
        last, best = (f"{losses[-1]:.4f}", f"{min(losses):.4f}") if losses else ("-", "-")
        shown = f"{test:.4f}" if test is not None else "-"
        print(f"| {trial['trial']} | {skip_kind(trial['spec'])} | {len(losses)} | {last} | {best} | {shown} | "
              f"{minutes:.0f} |")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot

        figure, axes = pyplot.subplots(figsize=(7, 4), dpi=100)
        shown_trials: dict[str, dict] = {}  # per skip kind, the trial with the most epochs (a retry over a lost one)
        for trial in trials:
            kind = skip_kind(trial["spec"])
            if len(trial["epochs"]) >= len(shown_trials.get(kind, {}).get("epochs", [])):
                shown_trials[kind] = trial
        for trial in shown_trials.values():
            losses = [float(row["val_loss"]) for row in trial["epochs"]]
            if losses:
                axes.plot(range(1, len(losses) + 1), losses, marker="o", markersize=3,
                          label=f"{skip_kind(trial['spec'])} ({len(losses)} epochs)")
        axes.set_xlabel("epoch")
        axes.set_ylabel("validation BCE")
        axes.set_title(f"{args.folder.name}: validation loss per epoch")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
