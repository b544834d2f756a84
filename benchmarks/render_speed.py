"""How long `archspec render` takes on the U-Net, against `archspec validate` of the same spec.

Both run as a person runs them (a fresh process each time), so the figures
include Python start-up and imports; validate is the baseline because render
does everything validate does, plus drawing and graphviz's `dot`. The target
is well under 1 s of wall time for the render, and no TensorFlow import.

    python benchmarks/render_speed.py [--repeat 7] [--format svg] [SPEC]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNET = ROOT / "specs" / "mnist_denoise_unet.yaml"


def wall_times(args: list[str], repeat: int) -> list[float]:
    """Seconds of wall time for `archspec ARGS`, run `repeat` times in fresh processes."""
    command = [sys.executable, "-m", "archspec.cli", *args]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)  # warm the file cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", type=Path, default=UNET)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--format", default="svg", choices=["svg", "png", "pdf", "dot"])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / f"diagram.{options.format}"
        render = wall_times(["render", str(options.spec), "-o", str(output)], options.repeat)
    validate = wall_times(["validate", str(options.spec)], options.repeat)
    for name, times in (("validate", validate), (f"render --format {options.format}", render)):
        print(f"{name:<22} median {statistics.median(times):.3f} s   "
              f"min {min(times):.3f} s   max {max(times):.3f} s   ({len(times)} runs)")
    print(f"render / validate      {statistics.median(render) / statistics.median(validate):.2f}x "
          f"(medians; {options.spec.name})")


if __name__ == "__main__":
    main()
