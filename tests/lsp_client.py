"""A small LSP client over a subprocess's pipes, as an editor talks to `archspec lsp` (tests and the benchmark).

Frames are `Content-Length` headers plus JSON; a reader thread files
responses by id and keeps notifications (diagnostics) in arrival order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class LspClient:
    """One running `archspec lsp`; use as a context manager (it shuts the server down on exit)."""

    def __init__(self, cwd: Path = ROOT, initialization_options: dict | None = None,
                 command: list[str] | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        command = command or [sys.executable, "-m", "archspec.cli", "lsp"]
        self.process = subprocess.Popen(command, cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.responses: dict[int, dict] = {}
        self.notifications: list[dict] = []
        self.condition = threading.Condition()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.capabilities = self.request("initialize", {
            "processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": {},
            "initializationOptions": initialization_options or {}})["result"]["capabilities"]
        self.notify("initialized", {})

    def __enter__(self) -> LspClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.request("shutdown", None, timeout=10)
                self.notify("exit", None)
                self.process.wait(timeout=10)
            except (OSError, TimeoutError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()

    # ------------------------------------------------------------ messages

    def send_raw(self, body: bytes) -> None:
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())

    def request(self, method: str, params: Any, timeout: float = 30) -> dict:
        """Send a request and wait for its response (the whole message: `result` or `error`)."""
        with self.condition:
            self.next_id += 1
            number = self.next_id
        self.send_raw(json.dumps({"jsonrpc": "2.0", "id": number, "method": method, "params": params}).encode())
        with self.condition:
            if not self.condition.wait_for(lambda: number in self.responses, timeout):
                raise TimeoutError(f"no answer to {method} in {timeout} s")
            return self.responses.pop(number)

    def wait_for(self, method: str, predicate: Any = lambda params: True, timeout: float = 30,
                 after: int = 0) -> tuple[dict, int]:
        """The first notification `method` from position `after` on whose params satisfy `predicate`."""
        def found() -> int | None:
            for position in range(after, len(self.notifications)):
                message = self.notifications[position]
                if message.get("method") == method and predicate(message.get("params")):
                    return position
            return None

        with self.condition:
            if not self.condition.wait_for(lambda: found() is not None, timeout):
                raise TimeoutError(f"no {method} in {timeout} s")
            position = found()
            return self.notifications[position]["params"], position + 1

    # ------------------------------------------------------------ documents

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        text = path.read_text() if text is None else text
        self.versions = getattr(self, "versions", {})
        self.versions[uri] = 1
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                              "text": text}})
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": self.versions[uri]},
                                               "contentChanges": [{"text": text}]})

    def diagnostics(self, uri: str, after: int = 0, timeout: float = 30) -> tuple[list[dict], int]:
        """The next diagnostics published for `uri` (from notification `after` on), and where to look next."""
        params, position = self.wait_for("textDocument/publishDiagnostics",
                                         lambda params: params["uri"] == uri, timeout, after)
        return params["diagnostics"], position

    def at(self, method: str, uri: str, line: int, character: int, **extra: Any) -> Any:
        """A positioned request (hover, definition, ...); 0-based line and character, as LSP counts."""
        params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}, **extra}
        return self.request(method, params)["result"]

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                header = stream.readline()
                if not header:
                    return
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("ascii", errors="replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            message = json.loads(stream.read(length))
            with self.condition:
                if "id" in message and "method" not in message:
                    self.responses[message["id"]] = message
                else:
                    self.notifications.append(message)
                self.condition.notify_all()


def find(text: str, needle: str, occurrence: int = 0, offset: int = 0) -> tuple[int, int]:
    """The 0-based (line, character) of the `occurrence`-th `needle` in `text`, plus `offset` characters."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return line, start - (text.rfind("\n", 0, start) + 1) + offset


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000
