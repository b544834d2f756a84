"""`archspec lsp`: the language server (pygls over stdio). It wires editor requests to the feature modules.

State is one `OpenSpec` per open document, replaced on every change and
dropped on close, so memory does not grow with edits. Every handler is
guarded: a bug of ours is logged to the editor and answered with nothing,
never a dead server. Nothing here writes a file; formatting returns edits.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec

from archspec.errors import ArchspecError
from archspec.lsp.analysis import Analysis, analyze_text
from archspec.lsp.completion import complete
from archspec.lsp.diagnostics import diagnostics_by_file, quick_fixes
from archspec.lsp.hints import inlay_hints
from archspec.lsp.hover import hover_text
from archspec.lsp.names import NameIndex
from archspec.lsp.navigation import definition, document_symbols, occurrence_range, references, rename_edits
from archspec.lsp.units import from_client, to_client
from archspec.spec.fmt import format_spec
from archspec.spec.loader import parse_yaml

NAME = "archspec"
Handler = TypeVar("Handler", bound=Callable[..., Any])
Value = TypeVar("Value")


@dataclass
class OpenSpec:
    """One open document: its latest analysis, and the text of its last version that parsed."""

    file: str
    analysis: Analysis
    parsed_text: str
    """The last version that parsed as YAML: its names are completed while the text being typed does not."""
    published: set[str] = field(default_factory=set)
    """The URIs this document's diagnostics went to (itself and bases), to clear them when fixed."""

    @cached_property
    def index(self) -> NameIndex:
        """Where the names of this version are written (made when a feature first asks, not per keystroke)."""
        return NameIndex(self.analysis.document)

    @cached_property
    def parsed(self) -> NameIndex:
        if self.analysis.parses:
            return self.index
        try:
            return NameIndex(parse_yaml(self.parsed_text, self.file))
        except ArchspecError:
            return NameIndex(None)


class SpecServer(LanguageServer):
    """The server and its open documents."""

    def __init__(self) -> None:
        super().__init__(NAME, "v1")
        self.specs: dict[str, OpenSpec] = {}
        self.show_hints = True

    def check(self, uri: str, text: str) -> OpenSpec:
        """Analyse a document's text and publish its diagnostics (and those of the bases it names)."""
        self._forget_finished_handlers()
        file = to_fs_path(uri) or uri
        analysis = analyze_text(text, file)
        old = self.specs.get(uri)
        parsed_text = text if analysis.parses or old is None else old.parsed_text
        spec = self.specs[uri] = OpenSpec(file, analysis, parsed_text)
        for path, diagnostics in diagnostics_by_file(analysis).items():
            target = uri if path == file else (from_fs_path(path) or path)
            spec.published.add(target)
            lines = text.splitlines(keepends=True) if target == uri else self.lines(target)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=target, diagnostics=to_client(self.codec, lines, diagnostics)))
        for stale in (old.published if old else set()) - spec.published:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=stale, diagnostics=[]))
        return spec

    @property
    def codec(self) -> PositionCodec:
        """How the editor counts columns (chosen at initialize; UTF-16, the protocol's default, before it)."""
        try:
            return self.workspace.position_codec
        except RuntimeError:  # no workspace before initialize
            return PositionCodec()

    def lines(self, uri: str) -> list[str]:
        """A document's lines as the editor has them (read from disk when it is not open)."""
        try:
            return list(self.workspace.get_text_document(uri).lines)
        except (OSError, UnicodeDecodeError):
            return []

    def here(self, uri: str, position: types.Position) -> tuple[int, int]:
        """The editor's position as archspec's 1-based line and column (characters, not UTF-16 units)."""
        found = from_client(self.codec, self.lines(uri), position)
        return found.line + 1, found.character + 1

    def answer(self, uri: str, value: Value) -> Value:
        """A result whose positions are in document `uri`, in the editor's units."""
        return to_client(self.codec, self.lines(uri), value)


    def _forget_finished_handlers(self) -> None:
        """Drop the finished futures pygls keeps of notification handlers.

        pygls 2.1 stores a future per notification its built-in generator
        handlers run (didOpen, didChange, didSave, ...) under a fresh id and
        never removes it: about 2 KB per keystroke, forever. A finished future
        is of no further use (a request's own callback has already answered it).
        """
        futures = getattr(self.protocol, "_request_futures", None)
        if isinstance(futures, dict):
            for key in [key for key, future in list(futures.items()) if future.done()]:
                futures.pop(key, None)


server = SpecServer()


def guarded(handler: Handler) -> Handler:
    """Answer None instead of failing: a bug in one feature must not take the editor's server down."""

    @functools.wraps(handler)
    def run(*args: Any) -> Any:
        try:
            return handler(*args)
        except Exception as error:  # logged in full; the editor keeps a working server
            logging.getLogger(NAME).error("%s failed: %s", handler.__name__, traceback.format_exc())
            server.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error, message=f"archspec: {handler.__name__} failed: {error!r}"))
            return None

    return run  # type: ignore[return-value]


def _spec(uri: str) -> OpenSpec | None:
    spec = server.specs.get(uri)
    if spec is None:  # asked about a document it was never sent: read it from the workspace
        document = server.workspace.get_text_document(uri)
        try:
            spec = server.check(uri, document.source)
        except (OSError, UnicodeDecodeError):
            return None
    return spec


@server.feature(types.INITIALIZE)
@guarded
def initialize(params: types.InitializeParams) -> None:
    """`initializationOptions: {"inlayHints": false}` turns the shape hints off."""
    options = params.initialization_options
    server.show_hints = not (isinstance(options, dict) and options.get("inlayHints") is False)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded
def did_open(params: types.DidOpenTextDocumentParams) -> None:
    server.check(params.text_document.uri, params.text_document.text)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded
def did_change(params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    server.check(uri, server.workspace.get_text_document(uri).source)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@guarded
def did_save(params: types.DidSaveTextDocumentParams) -> None:
    for uri in list(server.specs):  # a saved base changes what every spec extending it means
        server.check(uri, server.workspace.get_text_document(uri).source)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded
def did_close(params: types.DidCloseTextDocumentParams) -> None:
    spec = server.specs.pop(params.text_document.uri, None)
    for uri in spec.published if spec else ():
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded
def hover(params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    spec = _spec(uri)
    found = hover_text(spec.analysis, spec.index, *server.here(uri, params.position)) if spec else None
    if found is None:
        return None
    text, occurrence = found
    return server.answer(uri, types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                                          range=occurrence_range(occurrence)))


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
@guarded
def inlay_hint(params: types.InlayHintParams) -> list[types.InlayHint] | None:
    spec = _spec(params.text_document.uri)
    if spec is None or not server.show_hints:
        return []
    hints = inlay_hints(spec.analysis, spec.index, params.range.start.line, params.range.end.line)
    return server.answer(params.text_document.uri, hints)


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=[":", " ", ">", "(", ",", "{"]))
@guarded
def completion(params: types.CompletionParams) -> types.CompletionList | None:
    uri = params.text_document.uri
    spec = _spec(uri)
    if spec is None:
        return None
    lines = server.workspace.get_text_document(uri).lines
    lines = [line.rstrip("\r\n") for line in lines]
    graph = spec.analysis.graph
    extra = [name for name, data in graph.nodes(data=True)
             if not (data.location.context or "").startswith("block")] if graph is not None else []
    line, column = server.here(uri, params.position)
    items = complete(lines, line - 1, column - 1, spec.parsed, spec.parsed.data, extra)
    return server.answer(uri, types.CompletionList(is_incomplete=False, items=items))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded
def goto_definition(params: types.DefinitionParams) -> types.Location | None:
    spec = _spec(params.text_document.uri)
    if spec is None:
        return None
    place = definition(spec.index, spec.file, *server.here(params.text_document.uri, params.position))
    if place is None:
        return None
    start = types.Position(place.line - 1, place.column - 1)
    end = types.Position(place.line - 1, place.column - 1 + place.length)
    uri = params.text_document.uri if place.file == spec.file else from_fs_path(place.file)
    return server.answer(uri, types.Location(uri=uri, range=types.Range(start, end)))


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded
def find_references(params: types.ReferenceParams) -> list[types.Location] | None:
    uri = params.text_document.uri
    spec = _spec(uri)
    if spec is None:
        return None
    found = references(spec.index, *server.here(uri, params.position))
    return server.answer(uri, [types.Location(uri=uri, range=occurrence_range(o)) for o in found])


@server.feature(types.TEXT_DOCUMENT_RENAME)
@guarded
def rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
    uri = params.text_document.uri
    spec = _spec(uri)
    if spec is None:
        return None
    edits = rename_edits(spec.index, *server.here(uri, params.position), params.new_name)
    return types.WorkspaceEdit(changes={uri: server.answer(uri, edits)}) if edits else None


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded
def symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
    spec = _spec(params.text_document.uri)
    return server.answer(params.text_document.uri, document_symbols(spec.index)) if spec else None


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
@guarded
def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
    return quick_fixes(params.text_document.uri, params.context.diagnostics)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded
def formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    uri = params.text_document.uri
    document = server.workspace.get_text_document(uri)
    text = document.source
    try:
        formatted = format_spec(text, to_fs_path(uri) or uri)
    except ArchspecError as error:
        server.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning, message=f"archspec fmt: {str(error).splitlines()[0]}"))
        return None
    if formatted == text:
        return []
    lines = len(document.lines)
    whole = types.Range(types.Position(0, 0), types.Position(lines + 1, 0))
    return [types.TextEdit(range=whole, new_text=formatted)]


def serve_stdio() -> None:
    """Run the server on stdin/stdout until the editor says exit."""
    server.start_io()
