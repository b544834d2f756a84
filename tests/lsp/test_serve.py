"""`archspec serve`: the HTTP side (what is served, what is refused, change events, the renderer's time limit)
and the page in a real browser (Debian's chromium driven by Selenium): load, boxes, redraw on save, click.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from archspec.errors import ArchspecError
from archspec.serve.app import Preview, make_server, served_specs
from archspec.serve.views import SpecView
from tests.conftest import ROOT

CNN = (ROOT / "specs" / "mnist_cnn.yaml").read_text()
CNN_BOXES = 8  # image, conv1, two pools, conv2, flatten, dropout, probs
NEW_BOX = "  extra: {op: dense, units: 16}\n"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "cnn.yaml").write_text(CNN)
    (tmp_path / "ae.yaml").write_text((ROOT / "specs" / "mnist_denoise_ae.yaml").read_text())
    (tmp_path / "unet.yaml").write_text((ROOT / "specs" / "mnist_denoise_unet.yaml").read_text()
                                        .replace("mnist_denoise_ae.yaml", "ae.yaml"))
    return tmp_path


@pytest.fixture
def running(folder):
    preview = Preview(served_specs([str(folder)]))
    server = make_server(preview, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    preview.watcher.start()
    yield preview, server.server_address[1]
    preview.watcher.stop()
    server.shutdown()
    server.server_close()


def get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """A raw GET (the path is sent as written, `..` included)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def add_box(path: Path) -> None:
    text = path.read_text().replace("nodes:\n", "nodes:\n" + NEW_BOX, 1).replace("-> probs", "-> probs -> extra")
    path.write_text(text)


@pytest.fixture
def run_folder(tmp_path):
    """A run folder as `archspec fit` leaves it mid-training: the spec as run, two epochs, some steps."""
    run = tmp_path / "runs" / "cnn-20260101-000000"
    run.mkdir(parents=True)
    (run / "spec.yaml").write_text(CNN)
    (run / "config.json").write_text("{}")
    (run / "history.csv").write_text("epoch,loss,val_loss,time_s\n1,0.5,0.4,1.0\n2,0.3,0.25,2.0\n")
    (run / "steps.csv").write_text("step,epoch,loss\n1,1,0.9\n2,1,0.5\n3,2,0.35\n")
    return run


def test_a_folder_serves_its_specs_by_name(folder):
    specs = served_specs([str(folder)])
    assert list(specs) == ["ae", "cnn", "unet"]
    with pytest.raises(ArchspecError, match="no such spec file or folder"):
        served_specs([str(folder / "missing.yaml")])


def test_a_run_folder_shows_its_curves_as_it_trains(run_folder):
    preview = Preview(served_specs([str(run_folder)]))
    server = make_server(preview, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    preview.watcher.start()
    port = server.server_address[1]
    try:
        payload = json.loads(get(port, "/api/spec?name=cnn-20260101-000000")[1])
        assert payload["valid"] and payload["run"]["history"] == [
            {"epoch": 1, "loss": 0.5, "val_loss": 0.4, "time_s": 1}, {"epoch": 2, "loss": 0.3, "val_loss": 0.25,
                                                                       "time_s": 2}]
        assert [row["loss"] for row in payload["run"]["steps"]] == [0.9, 0.5, 0.35]
        assert not payload["run"]["samples"] and get(port, "/api/run/samples.png?name=cnn-20260101-000000")[0] == 404
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/events")
        stream = connection.getresponse()
        stream.readline(), stream.readline()
        with (run_folder / "history.csv").open("a") as history:  # the third epoch ends
            history.write("3,0.2,0.2,3.0\n")
        assert json.loads(stream.readline().removeprefix(b"data: ")) == {"changed": ["cnn-20260101-000000"]}
        connection.close()
        (run_folder / "samples.png").write_bytes(b"\x89PNG fake")
        payload = json.loads(get(port, "/api/spec?name=cnn-20260101-000000")[1])
        assert len(payload["run"]["history"]) == 3 and payload["run"]["samples"]
        assert get(port, "/api/run/samples.png?name=cnn-20260101-000000") == (200, b"\x89PNG fake")
        assert get(port, "/api/run/samples.png?name=../cnn-20260101-000000")[0] == 404
    finally:
        preview.watcher.stop()
        server.shutdown()
        server.server_close()


def test_only_the_served_specs_are_reachable(running):
    _, port = running
    status, body = get(port, "/api/specs")
    assert status == 200 and [spec["name"] for spec in json.loads(body)["specs"]] == ["ae", "cnn", "unet"]
    for path in ("/../../etc/passwd", "/api/spec?name=../../etc/passwd", "/api/spec?name=%2Fetc%2Fpasswd",
                 "/cnn.yaml", "/api/spec"):
        assert get(port, path)[0] == 404, path
    assert get(port, "/", host="attacker.example")[0] == 403
    assert get(port, "/api/specs")[0] == 200  # still up


def test_an_invalid_spec_comes_with_its_errors_and_the_last_valid_drawing(running, folder):
    _, port = running
    first = json.loads(get(port, "/api/spec?name=cnn")[1])
    assert first["valid"] and first["svg"].startswith("<svg") and "34,826 parameters" in first["summary"]
    assert first["nodes"]["conv1"]["yaml"] == next(line for line in CNN.splitlines() if line.startswith("  conv1:"))
    assert first["nodes"]["conv1"]["yaml"].endswith("# 26x26x32, pooled to 13x13x32")
    (folder / "cnn.yaml").write_text(CNN.replace("filters: 64}", "filters: 64, kernel: 30}"))
    broken = json.loads(get(port, "/api/spec?name=cnn")[1])
    assert not broken["valid"] and broken["svg"].startswith("<svg")
    assert broken["errors"][0].startswith(f"{folder / 'cnn.yaml'}:15:3: node 'conv2': conv2d window is larger "
                                          "than its 13x13x32 input")
    assert broken["last_valid_svg"] == first["svg"]


def test_saving_a_spec_or_its_base_sends_an_event(running, folder):
    _, port = running
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/events")
    stream = connection.getresponse()
    assert stream.readline() == b": connected\n"
    stream.readline()
    for saved, expected in (("cnn.yaml", ["cnn"]), ("ae.yaml", ["ae", "unet"])):
        time.sleep(0.05)
        path = folder / saved
        path.write_text(path.read_text() + "# saved\n")
        line = stream.readline()
        assert json.loads(line.removeprefix(b"data: ")) == {"changed": expected}
        stream.readline()
    connection.close()


def test_a_drawing_that_takes_too_long_is_stopped(folder):
    view = SpecView(folder / "cnn.yaml", "cnn", timeout=0.000_001)
    payload = view.payload(fold=False)
    assert not payload["valid"]
    assert payload["errors"] == [f"{folder / 'cnn.yaml'}: drawing took longer than 1e-06 s and was stopped "
                                 "(graphviz's dot did not finish the layout)"]


# ---------------------------------------------------------------- in a real browser

@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    driver_path = shutil.which("chromedriver")
    if driver_path is None or shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    yield driver
    driver.quit()


def wait_until(condition, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_the_page_redraws_on_save_without_a_reload(running, folder, browser):
    from selenium.webdriver.common.by import By

    _, port = running
    browser.get(f"http://127.0.0.1:{port}/")
    browser.find_element(By.ID, "spec").send_keys("cnn")
    wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#current g.node")) == CNN_BOXES)
    browser.execute_script("window.notReloaded = true;")
    loads = int(browser.execute_script("return document.body.dataset.loads"))

    add_box(folder / "cnn.yaml")
    wait_until(lambda: browser.find_elements(By.ID, "node-extra"))  # no timing here: the CPUs are shared
    assert len(browser.find_elements(By.CSS_SELECTOR, "#current g.node")) == CNN_BOXES + 1
    assert browser.execute_script("return window.notReloaded") is True
    assert int(browser.execute_script("return document.body.dataset.loads")) > loads

    browser.find_element(By.ID, "node-conv1").click()
    wait_until(lambda: "conv1: {op: conv2d, filters: 32}" in browser.find_element(By.CSS_SELECTOR, "#panel .yaml").text)
    assert "28x28x1 → 26x26x32 · 320 parameters" in browser.find_element(By.CSS_SELECTOR, "#panel .info").text

    (folder / "cnn.yaml").write_text(CNN.replace("filters: 64}", "filters: 64, kernel: 30}"))
    wait_until(lambda: "invalid" in browser.find_element(By.TAG_NAME, "body").get_attribute("class"))
    assert "conv2d window is larger than its 13x13x32 input" in browser.find_element(By.ID, "errors").text
    assert browser.find_element(By.ID, "last").is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "#last g#node-extra")
    assert browser.execute_script("return window.notReloaded") is True


@pytest.mark.slow
def test_the_page_follows_a_training_run(run_folder, browser):
    from selenium.webdriver.common.by import By

    preview = Preview(served_specs([str(run_folder)]))
    server = make_server(preview, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    preview.watcher.start()
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}/")
        columns = wait_until(lambda: [line.get_attribute("data-column")
                                      for line in browser.find_elements(By.CSS_SELECTOR, "#run svg.chart polyline")])
        assert columns == ["loss", "val_loss", "loss"]  # per epoch (two columns), then per step
        assert "per epoch (2 done)" in browser.find_element(By.ID, "run").text
        with (run_folder / "history.csv").open("a") as history:
            history.write("3,0.125,0.2,3.0\n")
        wait_until(lambda: "per epoch (3 done)" in browser.find_element(By.ID, "run").text)
        assert "loss 0.1250" in browser.find_element(By.ID, "run").text
        assert len(browser.find_elements(By.CSS_SELECTOR, "#current g.node")) == CNN_BOXES
    finally:
        preview.watcher.stop()
        server.shutdown()
        server.server_close()


def test_serve_on_the_command_line_refuses_a_missing_spec(capsys, tmp_path):
    from archspec.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", str(tmp_path / "nope.yaml")])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == f"archspec serve: {tmp_path / 'nope.yaml'}: no such spec file or folder\n"
