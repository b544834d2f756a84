"""Diagnostics latency of `archspec lsp` after an edit, and its memory over many edits, driven as an editor does.

    python benchmarks/lsp_latency.py [--edits 1000]

For each spec, one server process gets the file (didOpen) and then `--edits`
full-text changes (didChange), each one alternating between two valid
versions of the spec (a comment or a parameter changed and back; the server
keeps no cache between versions, so every edit is checked in full, bases and
shapes included). Latency is the wall time from writing the
change to reading the diagnostics the server publishes for it, as the
editor sees it (pipes and JSON included). RSS is the server's resident
memory (/proc) after the first 100 edits, after half and after all of them:
bounded means it levels off. "check alone" times the same analysis in this
process (up to 200 edits), without the pipes and the scheduling between two
processes, and its CPU time: on a loaded machine, wall time beyond the CPU
time is time spent waiting for a CPU.
Targets (issue 27): 50 ms for the U-Net, 150 ms for ResNet-50 (expanded: 177
nodes from the blocks).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archspec.lsp.analysis import analyze_text
from tests.lsp_client import LspClient, elapsed_ms

SPECS = (  # (spec, the text edited back and forth, target ms)
    ("specs/mnist_denoise_unet.yaml", ("kind: concat-skip}    # 14x14x128", "kind: concat-skip}    # 14x14x12"), 50),
    ("specs/resnet50.yaml", ("blocks: 6, strides: 2}", "blocks: 5, strides: 2}"), 150),
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(spec: str, edit: tuple[str, str], edits: int) -> dict:
    path = ROOT / spec
    text = path.read_text()
    assert edit[0] in text, f"{spec} no longer holds {edit[0]!r}"
    versions = (text.replace(edit[0], edit[1]), text)
    with LspClient() as client:
        uri = client.open(path)
        diagnostics, seen = client.diagnostics(uri)
        assert diagnostics == [], diagnostics
        times, early, middle = [], None, None
        for number in range(edits):
            start = time.perf_counter()
            client.change(uri, versions[number % 2])
            diagnostics, seen = client.diagnostics(uri, seen)
            times.append(elapsed_ms(start))
            assert diagnostics == [], diagnostics
            if number == 99:
                early = rss_mib(client.process.pid)
            if number == edits // 2 - 1:
                middle = rss_mib(client.process.pid)
            if len(client.notifications) > 1000:  # the client's own memory is not the server's
                client.notifications.clear()
                seen = 0
        late = rss_mib(client.process.pid)
    checks, cpu = [], []
    for number in range(min(edits, 200)):  # the server's own work, without pipes and scheduling between
        start, start_cpu = time.perf_counter(), time.process_time()
        analyze_text(versions[number % 2], str(path))
        checks.append(elapsed_ms(start))
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {**_spread(times), "rss_100": early, "rss_middle": middle, "rss_end": late,
            "check": _spread(checks), "cpu": _spread(cpu)}


def _spread(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"median": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=1000)
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"# {platform.node()}, {os.cpu_count()} CPUs, load average {load} at the start, "
          f"Python {platform.python_version()}, {args.edits} edits per spec\n")
    print(f"| spec | median ms | p95 ms | target ms | check alone: median ms | p95 ms | its CPU time: median ms "
          f"| RSS MiB after 100 edits | after {args.edits // 2} | after {args.edits} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec, edit, target in SPECS:
        result = measure(spec, edit, args.edits)
        print(f"| {spec} | {result['median']:.1f} | {result['p95']:.1f} | {target} | "
              f"{result['check']['median']:.1f} | {result['check']['p95']:.1f} | {result['cpu']['median']:.1f} | "
              f"{result['rss_100']:.1f} | {result['rss_middle']:.1f} | {result['rss_end']:.1f} |")


if __name__ == "__main__":
    main()
