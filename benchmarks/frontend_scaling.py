"""How validating grows with the size of a spec: time and peak memory at 1k, 3k and 10k nodes.

    python benchmarks/frontend_scaling.py [--sizes 1000 3000 10000] [--repeat 3]
                                          [--error-sizes 1000 5000 10000] [--only base compact errors]

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

Then the compact forms at their limits (a chain of 20,000 and of 100,000
steps, 10,000 chains of 10 steps, 3,000 labels on one step, lists nested 3,000
deep: each validates, or is refused by a documented limit), and one error of
each class (a misspelt node, a cycle, a misspelt var, a misspelt block param,
a shape mismatch, a dead end in a repeated block, a misspelt base node named by
an `extends:` variant) in specs of 1k, 5k and 10k nodes, with the exponent of
each error's time and the number of messages (benchmarks/frontend_cases.py
writes them). Errors are printed as the CLI prints them, so every hint is computed.
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
from benchmarks.frontend_cases import COMPACT, ERRORS, Files, with_error

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


def validate_printed(path: Path) -> tuple[int, str]:
    """The number of errors and what `archspec validate` prints for them (the first 50, each hint
    computed, as printing does); (0, "") if valid."""
    try:
        analyze(load_spec(path))
    except ArchspecError as error:
        return len(flatten_errors(error)) or 1, str(error)
    return 0, ""


def time_files(files: Files) -> tuple[float, float, int, str]:
    """Wall and CPU seconds of validating the files' main file once and printing its errors, their
    number, and the printed text."""
    texts, main_file = files
    with tempfile.TemporaryDirectory() as folder:
        for name, text in texts.items():
            (Path(folder) / name).write_text(text)
        start, start_cpu = time.perf_counter(), time.process_time()
        errors, printed = validate_printed(Path(folder) / main_file)
        return time.perf_counter() - start, time.process_time() - start_cpu, errors, printed


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


def first_line(printed: str) -> str:
    """The first message's first line without its file, cut to fit a table row."""
    if not printed:
        return "valid"
    return printed.splitlines()[0].split(": ", 1)[-1][:90]


def compact_forms() -> None:
    print(f"\n{'compact form':<28}  {'wall s':>7}  {'cpu s':>6}  outcome")
    for name, make in COMPACT.items():
        wall, cpu, _, printed = time_files(make())
        print(f"{name:<28}  {wall:>7.3f}  {cpu:>6.3f}  {first_line(printed)}")


def error_cases(sizes: list[int]) -> None:
    print(f"\n{'error':<8}" + "".join(f"  {f'cpu s {size}':>11}" for size in sizes)
          + f"  {'exponent':>8}  {'messages':>8}  first message at the largest size")
    for error in ERRORS:
        cpus, errors, printed = [], 0, ""
        for size in sizes:
            _, cpu, errors, printed = time_files(with_error(size, error))
            cpus.append(cpu)
        exponent = f"{fitted_exponent(sizes, cpus):.2f}" if len(sizes) > 1 else "-"
        print(f"{error:<8}" + "".join(f"  {cpu:>11.3f}" for cpu in cpus)
              + f"  {exponent:>8}  {errors:>8}  {first_line(printed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--error-sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--only", nargs="+", choices=["base", "compact", "errors"],
                        default=["base", "compact", "errors"])
    args = parser.parse_args()
    if "base" in args.only:
        base_scaling(args.sizes, args.repeat)
    if "compact" in args.only:
        compact_forms()
    if "errors" in args.only:
        error_cases(args.error_sizes)


def base_scaling(sizes: list[int], repeat: int) -> None:
    print(f"{'nodes':>7}  {'wall s':>7}  {'cpu s':>6}  {'peak MiB':>8}  {'errors':>6}  {'cpu s per 1k nodes':>18}")
    walls, cpus = [], []
    for size in sizes:
        wall, cpu, peak, errors = measure(size, repeat)
        walls.append(wall)
        cpus.append(cpu)
        print(f"{size:>7}  {wall:>7.3f}  {cpu:>6.3f}  {peak:>8.1f}  {errors:>6}  {cpu / size * 1000:>18.3f}")
    print(f"fitted exponent of time vs nodes: {fitted_exponent(sizes, cpus):.2f} on CPU time, "
          f"{fitted_exponent(sizes, walls):.2f} on wall time (1 = linear, 2 = quadratic)")


if __name__ == "__main__":
    main()
