"""`archspec serve`: a local page that draws specs and redraws them when they (or their bases) are saved.

A standard-library HTTP server on 127.0.0.1. It serves the page, a list of
the specs it was started with, each spec's drawing (by its name in that
list, never by a path, so nothing else on disk can be reached; a run
folder's curves and samples.png by the run's name), and a
server-sent event stream that says which specs changed. Requests whose Host
is not this machine's loopback name are refused (DNS rebinding).
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from archspec.errors import ArchspecError
from archspec.serve.run_folder import is_run_folder
from archspec.serve.views import RENDER_TIMEOUT, SpecView
from archspec.serve.watch import Watcher
from archspec.train.runs import SAMPLES_FILE, SPEC_FILE

HOST = "127.0.0.1"
HEARTBEAT_SECONDS = 15.0
SPEC_SUFFIXES = (".yaml", ".yml")


def served_specs(arguments: list[str], timeout: float = RENDER_TIMEOUT) -> dict[str, SpecView]:
    """The specs to serve, by a unique name: each file named, each run folder's spec (with its curves),
    and the .yaml files directly in each other folder."""
    found: list[tuple[Path, Path | None]] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir() and is_run_folder(path):
            found.append((path / SPEC_FILE, path))
        elif path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not files:
                raise ArchspecError(f"archspec serve: {argument} holds no .yaml spec files")
            found.extend((file, None) for file in files)
        elif path.is_file():
            found.append((path, None))
        else:
            raise ArchspecError(f"archspec serve: {argument}: no such spec file or folder")
    views: dict[str, SpecView] = {}
    for file, run in found:
        stem = run.resolve().name if run is not None else file.stem
        name, number = stem, 2
        while name in views:
            name, number = f"{stem}_{number}", number + 1
        views[name] = SpecView(file.resolve(), name, timeout, run.resolve() if run is not None else None)
    return views


class Preview:
    """The served specs, their views, and the change events the page listens to."""

    def __init__(self, views: dict[str, SpecView], fold: bool = False) -> None:
        self.views = views
        self.fold = fold
        self.version = 0
        self.changed: list[str] = []
        self.condition = threading.Condition()
        self.watcher = Watcher(list(views), lambda name: views[name].files(), self.notify)

    def notify(self, names: list[str]) -> None:
        with self.condition:
            self.version += 1
            self.changed = names
            self.condition.notify_all()

    def wait(self, version: int, timeout: float) -> tuple[int, list[str]]:
        """The next version after `version` and the specs it changed, or the same version on timeout."""
        with self.condition:
            self.condition.wait_for(lambda: self.version != version, timeout)
            return self.version, (self.changed if self.version != version else [])


class Handler(BaseHTTPRequestHandler):
    preview: Preview  # set on the subclass `make_server` builds
    server_version = "archspec-serve"

    def do_GET(self) -> None:
        if not self._local_host():
            self._send(HTTPStatus.FORBIDDEN, "text/plain", b"archspec serve answers only http://127.0.0.1\n")
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/":
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", _page())
        elif url.path == "/api/specs":
            specs = [{"name": view.name, "file": str(view.path)} for view in self.preview.views.values()]
            self._json({"specs": specs, "fold": self.preview.fold})
        elif url.path == "/api/spec" and query.get("name", [""])[0] in self.preview.views:
            view = self.preview.views[query["name"][0]]
            try:
                self._json(view.payload(fold=query.get("fold", ["0"])[0] == "1"))
            except Exception as error:  # a bug of ours: say so on the page; the server goes on
                self._json({"name": view.name, "valid": False, "svg": None, "nodes": {}, "summary": None,
                            "errors": [f"archspec: internal error ({type(error).__name__}: {error}); "
                                       "this is a bug in archspec, please report it"]})
        elif url.path == "/api/run/samples.png" and self._run_of(query) is not None:
            try:
                self._send(HTTPStatus.OK, "image/png", (self._run_of(query) / SAMPLES_FILE).read_bytes())
            except OSError:
                self._send(HTTPStatus.NOT_FOUND, "text/plain", b"no samples yet\n")
        elif url.path == "/events":
            self._events()
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found: archspec serve serves its page, "
                       b"and only the specs it was started with\n")

    def _events(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        version = self.preview.version
        try:
            self.wfile.write(b": connected\n\n")
            self.wfile.flush()
            while True:
                version, changed = self.preview.wait(version, HEARTBEAT_SECONDS)
                message = f"data: {json.dumps({'changed': changed})}\n\n" if changed else ": heartbeat\n\n"
                self.wfile.write(message.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return  # the page went away

    def _run_of(self, query: dict[str, list[str]]) -> Path | None:
        view = self.preview.views.get(query.get("name", [""])[0])
        return view.run if view is not None else None

    def _local_host(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        return host in ("127.0.0.1", "localhost")

    def _json(self, value: Any) -> None:
        self._send(HTTPStatus.OK, "application/json", json.dumps(value).encode())

    def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise in a terminal
        pass


def _page() -> bytes:
    return resources.files("archspec.serve").joinpath("page.html").read_bytes()


def make_server(preview: Preview, port: int = 0) -> ThreadingHTTPServer:
    """The HTTP server on 127.0.0.1 (port 0: a free one), not yet serving."""
    handler = type("PreviewHandler", (Handler,), {"preview": preview})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    return server


def serve(arguments: list[str], port: int = 0, fold: bool = False, timeout: float = RENDER_TIMEOUT,
          announce: Any = print) -> None:
    """Serve the specs until interrupted; `announce` gets the page's address."""
    preview = Preview(served_specs(arguments, timeout), fold)
    server = make_server(preview, port)
    preview.watcher.start()
    announce(f"archspec serve: http://{HOST}:{server.server_address[1]}/  ({len(preview.views)} spec(s); "
             "Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        preview.watcher.stop()
        server.server_close()
