"""Time from saving a spec to the new box on `archspec serve`'s page, in headless chromium (target: 1 s).

    python benchmarks/serve_redraw.py [--saves 10]

A copy of specs/mnist_cnn.yaml is served from a temporary folder; each save
adds one dense node after its output `probs`, and the time runs from the write to the
moment the browser's page holds the new box (the file watcher's poll, the
server-sent event, the page's fetch, the analysis, `dot` and the redraw).
Needs Debian's chromium and chromium-driver and the selenium package.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium import webdriver
from selenium.webdriver.common.by import By

from archspec.serve.app import Preview, make_server, served_specs

SPEC = "specs/mnist_cnn.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saves", type=int, default=10)
    args = parser.parse_args()
    text = (ROOT / SPEC).read_text()
    spec = Path(tempfile.mkdtemp()) / Path(SPEC).name
    spec.write_text(text)
    preview = Preview(served_specs([str(spec)]))
    server = make_server(preview, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    preview.watcher.start()
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=shutil.which("chromedriver")))
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        while not driver.find_elements(By.CSS_SELECTOR, "#current g.node"):
            time.sleep(0.05)
        times = []
        for number in range(args.saves):
            name = f"extra{number}"
            spec.write_text(text.replace("nodes:\n", f"nodes:\n  {name}: {{op: dense, units: 16}}\n", 1)
                            .replace("-> probs", f"-> probs -> {name}", 1))
            start = time.monotonic()
            while not driver.find_elements(By.ID, f"node-{name}"):
                time.sleep(0.01)
            times.append(time.monotonic() - start)
    finally:
        driver.quit()
        server.shutdown()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{SPEC}: save -> new box on the page, {args.saves} saves (load average {load}): "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
