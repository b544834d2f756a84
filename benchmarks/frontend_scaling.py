"""How validating grows with the size of a spec: time and peak memory at 1k, 3k and 10k nodes.

    python benchmarks/frontend_scaling.py [--sizes 1000 3000 10000] [--repeat 3]

Each spec is what makes a front end go quadratic: a base with `vars:` (every
node's units is `${width}`), a block used by 1% of the nodes, 1% of the edges
naming a misspelt node (each error looks for a did-you-mean among all names),
and a one-edge variant that `extends:` the base. What is timed is what
`archspec validate variant.yaml` does: load, merge the base, expand, validate,
build the graph (which finds the typos). The script prints, per size, the
median wall and CPU time (CPU time is steadier on a shared machine) and the
peak memory (tracemalloc, measured in a separate run so it does not slow the
timed ones), and the exponent k of time ~ n^k fitted by least squares on
log-log: linear is 1, n log n a little above 1, quadratic 2.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archspec.errors import ArchspecError, flatten_errors  # after the path: the checkout is measured
from archspec.graph.shapes import analyze
from archspec.spec.frontend import load_spec

BLOCK = """\
blocks:
  pair:
    inputs: [i]
    outputs: [b]
    nodes:
      a: {op: dense, units: "${width}"}
      b: {op: dense, units: "${width}"}
    edges: [i -> a -> b]
"""


def write_specs(folder: Path, size: int) -> Path:
    """A base of about `size` nodes (and block copies) and its one-edge variant; returns the variant's path."""
    uses = size // 100
    plain = size - 3 * uses - 10
    names = [f"n{index}" for index in range(plain)]
    kinds = {name: "{op: dense, units: \"${width}\"}" for name in names}
    for index in range(uses):  # every 100th place in the chain is a copy of the block
        names.insert(index * 100 + 50, f"p{index}")
        kinds[f"p{index}"] = "{block: pair}"
    lines = ["archspec: 1", "name: big", "vars: {width: 8}", "inputs:", "  x: {shape: [8]}", BLOCK.rstrip(),
             "nodes:"]
    lines += [f"  {name}: {kinds[name]}" for name in names]
    lines += ["edges:", f"  - x -> {names[0]}"]
    for index in range(1, len(names)):
        target = names[index]
        if index % 100 == 7:  # 1% typos: an edge into a misspelt name
            target = "m" + target[1:]
        lines.append(f"  - {names[index - 1]} -> {target}")
    lines.append(f"outputs: [{names[-1]}]")
    (folder / "base.yaml").write_text("\n".join(lines) + "\n")
    variant = folder / "variant.yaml"
    variant.write_text(f"archspec: 1\nextends: base.yaml\nnodes:\n  extra: {{op: dense, units: 2}}\n"
                       f"edges:\n  - {names[-1]} -> extra\noutputs: [extra]\n")
    return variant


def validate(path: Path) -> int:
    """What `archspec validate` does; returns the number of errors found."""
    try:
        analyze(load_spec(path))
    except ArchspecError as error:
        return len(flatten_errors(error))
    return 0


def measure(size: int, repeat: int) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory() as folder:
        variant = write_specs(Path(folder), size)
        times, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            errors = validate(variant)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        tracemalloc.start()
        validate(variant)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return statistics.median(times), statistics.median(cpu), peak / 2**20, errors


def fitted_exponent(sizes: list[int], times: list[float]) -> float:
    xs, ys = [math.log(n) for n in sizes], [math.log(t) for t in times]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / \
        sum((x - mean_x) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'nodes':>7}  {'wall s':>7}  {'cpu s':>6}  {'peak MiB':>8}  {'errors':>6}  {'cpu s per 1k nodes':>18}")
    walls, cpus = [], []
    for size in args.sizes:
        wall, cpu, peak, errors = measure(size, args.repeat)
        walls.append(wall)
        cpus.append(cpu)
        print(f"{size:>7}  {wall:>7.3f}  {cpu:>6.3f}  {peak:>8.1f}  {errors:>6}  {cpu / size * 1000:>18.3f}")
    print(f"fitted exponent of time vs nodes: {fitted_exponent(args.sizes, cpus):.2f} on CPU time, "
          f"{fitted_exponent(args.sizes, walls):.2f} on wall time (1 = linear, 2 = quadratic)")


if __name__ == "__main__":
    main()
