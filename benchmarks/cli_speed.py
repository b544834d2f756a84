"""Wall time of the fast CLI paths, side by side with two baselines, in one run.

    python benchmarks/cli_speed.py [--repeat 5]

Baselines: a bare interpreter start (the floor) and `import tensorflow` (what
validate/summary/--help would cost if they imported it). Reports the median
of --repeat runs of each command and its ratio to the TensorFlow import.
"""

from __future__ import annotations

import argparse
import glob
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "archspec.cli"]
    specs = sorted(glob.glob(str(ROOT / "specs" / "*.yaml")))
    rows = [
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        ("python -c 'import tensorflow' (baseline)", [sys.executable, "-c", "import tensorflow"]),
        ("archspec --help", cli + ["--help"]),
        (f"archspec validate specs/*.yaml ({len(specs)} specs)", cli + ["validate", *specs]),
        ("archspec summary specs/resnet50.yaml", cli + ["summary", str(ROOT / "specs" / "resnet50.yaml")]),
    ]
    results = [(label, wall(command, args.repeat)) for label, command in rows]
    tensorflow = results[1][1]
    print(f"{'command':55} {'median s':>9} {'vs TF import':>13}")
    for label, seconds in results:
        print(f"{label:55} {seconds:9.3f} {seconds / tensorflow:12.2f}x")


if __name__ == "__main__":
    main()
