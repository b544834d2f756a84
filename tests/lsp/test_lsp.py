"""`archspec lsp` end to end: a client drives the server over stdio as an editor does.

One server serves the module (starting it costs a second); each test opens
its own documents. Expected values are written out (ranges, shapes, counts)
or read from the registries the issue says the lists come from.
"""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import OPS
from archspec.spec.fmt import format_spec
from archspec.spec.models import TrainSpec
from archspec.train.tasks import TASKS
from tests.lsp_client import ROOT, LspClient, find

pytest.importorskip("pygls")

CNN = ROOT / "specs" / "mnist_cnn.yaml"
UNET = ROOT / "specs" / "mnist_denoise_unet.yaml"
RESNET = ROOT / "specs" / "resnet50.yaml"
WHOLE = {"start": {"line": 0, "character": 0}, "end": {"line": 10_000, "character": 0}}


@pytest.fixture(scope="module")
def client():
    with LspClient() as running:
        yield running


def labels(result: dict) -> list[str]:
    return [item["label"] for item in result["items"]]


def test_server_announces_its_features(client):
    capabilities = client.capabilities
    for feature in ("hoverProvider", "definitionProvider", "referencesProvider", "renameProvider",
                    "documentSymbolProvider", "documentFormattingProvider", "inlayHintProvider",
                    "completionProvider", "codeActionProvider"):
        assert capabilities.get(feature), feature


def test_a_valid_spec_has_no_diagnostics(client):
    diagnostics, _ = client.diagnostics(client.open(CNN))
    assert diagnostics == []


def test_a_misspelt_op_is_underlined_with_its_fix(client, tmp_path):
    text = CNN.read_text().replace("{op: conv2d, filters: 64}", "{op: conv2x, filters: 64}")
    uri = client.open(tmp_path / "cnn.yaml", text)
    diagnostics, _ = client.diagnostics(uri)
    (diagnostic,) = diagnostics
    line, character = find(text, "conv2x")
    assert diagnostic["range"] == {"start": {"line": line, "character": character},
                                   "end": {"line": line, "character": character + 6}}
    assert diagnostic["message"].startswith("node 'conv2': unknown op 'conv2x'")
    assert "hint: did you mean 'conv2d' or 'conv1d'?" in diagnostic["message"]
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"],
        "context": {"diagnostics": diagnostics}})["result"]
    assert [action["title"] for action in actions] == ["Change to 'conv2d'", "Change to 'conv1d'"]
    assert actions[0]["edit"]["changes"][uri] == [{"range": diagnostic["range"], "newText": "conv2d"}]


def test_diagnostics_follow_each_change(client, tmp_path):
    text = CNN.read_text()
    uri = client.open(tmp_path / "cnn.yaml", text)
    _, seen = client.diagnostics(uri)
    wrong = text.replace("dropout(0.5)", "dropout(1.5)")
    client.change(uri, wrong)
    diagnostics, seen = client.diagnostics(uri, seen)
    line, character = find(wrong, "dropout(1.5)")
    assert [d["range"]["start"] for d in diagnostics] == [{"line": line, "character": character + 8}]
    assert "rate" in diagnostics[0]["message"]
    client.change(uri, text)
    diagnostics, _ = client.diagnostics(uri, seen)
    assert diagnostics == []


def test_a_shape_mismatch_is_reported_at_its_edge(client, tmp_path):
    text = UNET.read_text().replace("{from: enc2, to: dec2, kind: concat-skip}",
                                    "{from: enc1, to: dec2, kind: add-residual}")
    (tmp_path / "mnist_denoise_ae.yaml").write_text((ROOT / "specs" / "mnist_denoise_ae.yaml").read_text())
    diagnostics, _ = client.diagnostics(client.open(tmp_path / "mnist_denoise_unet.yaml", text))
    line, _ = find(text, "{from: enc1, to: dec2")
    assert [d["range"]["start"]["line"] for d in diagnostics] == [line]
    assert "28x28x64" in diagnostics[0]["message"] and "14x14x" in diagnostics[0]["message"]


def test_errors_in_a_base_show_at_the_extends_line_and_in_the_base(client, tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("archspec: 1\ninputs: {x: [4]}\nnodes:\n  a: {op: dense, unitz: 3}\nedges: [x -> a]\n")
    variant = tmp_path / "variant.yaml"
    text = "archspec: 1\nextends: base.yaml\nnodes:\n  b: {op: dense, units: 2}\nedges: [a -> b]\n"
    uri = client.open(variant, text)
    here, _ = client.diagnostics(uri)
    there, _ = client.diagnostics(base.as_uri())
    assert [d["range"]["start"]["line"] for d in here] == [1]
    assert here[0]["message"].startswith(f"in the base spec {base}")
    assert "unitz" in here[0]["message"]
    assert [d["range"]["start"] for d in there] == [{"line": 3, "character": 17}]
    assert "hint: did you mean 'units'?" in there[0]["message"]


def test_a_spec_that_extends_itself_is_one_clear_error(client, tmp_path):
    path = tmp_path / "loop.yaml"
    text = "archspec: 1\nextends: loop.yaml\n"
    path.write_text(text)
    diagnostics, _ = client.diagnostics(client.open(path))
    (diagnostic,) = diagnostics
    assert diagnostic["range"]["start"] == {"line": 1, "character": 9}
    assert diagnostic["message"].startswith("'extends' goes round in a circle")


def test_hover_on_a_node_shows_op_shapes_and_parameters(client):
    text = CNN.read_text()
    uri = client.open(CNN)
    hover = client.at("textDocument/hover", uri, *find(text, "conv1: "))
    value = hover["contents"]["value"]
    assert value.startswith("**conv1**: `conv2d(filters=32, padding=valid, activation=relu)`")
    assert "`28x28x1` → `26x26x32` · 320 parameters" in value
    line, character = find(text, "conv1: ")
    assert hover["range"] == {"start": {"line": line, "character": character},
                              "end": {"line": line, "character": character + 5}}


def test_hover_on_an_inline_step_and_on_an_op_name(client):
    text = CNN.read_text()
    uri = client.open(CNN)
    step = client.at("textDocument/hover", uri, *find(text, "flatten ->"))["contents"]["value"]
    assert step.startswith("**flatten_1**: `flatten`")
    assert "`5x5x64` → `1600` · 0 parameters" in step
    op = client.at("textDocument/hover", uri, *find(text, "{op: dense", offset=5))["contents"]["value"]
    assert OPS["dense"].doc in op
    assert "- `units`:" in op


def test_hover_on_a_block_use_shows_what_it_became(client):
    text = RESNET.read_text()
    uri = client.open(RESNET)
    value = client.at("textDocument/hover", uri, *find(text, "conv3:"))["contents"]["value"]
    assert value.startswith("**conv3**: block `stage`")
    assert "output block: `28x28x512`" in value


def test_inlay_hints_give_the_shape_after_each_node_and_step(client):
    text = CNN.read_text()
    uri = client.open(CNN)
    hints = client.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": WHOLE})["result"]
    shown = {(hint["position"]["line"], hint["position"]["character"]): hint["label"] for hint in hints}
    chain = find(text, "image -> conv1")[0]
    assert shown == {
        (13, 34): "▸ 26x26x32", (14, 34): "▸ 11x11x64", (15, 52): "▸ 10",
        (chain, find(text, "max_pool2d -> conv2")[1] + 10): "▸ 13x13x32",
        (chain, find(text, "max_pool2d -> flatten")[1] + 10): "▸ 5x5x64",
        (chain, find(text, "flatten ->")[1] + 7): "▸ 1600",
        (chain, find(text, "dropout(0.5)")[1] + 12): "▸ 1600",
    }


def test_inlay_hints_can_be_switched_off():
    with LspClient(initialization_options={"inlayHints": False}) as quiet:
        uri = quiet.open(CNN)
        result = quiet.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": WHOLE})
        assert result["result"] == []


def test_completion_lists_come_from_the_registries(client, tmp_path):
    text = ("archspec: 1\ninputs: {image: [28, 28, 1]}\nnodes:\n  conv: {op: conv2d, }\n  head: {op: }\n"
            "edges:\n  - image -> conv -> \n  - {from: conv, to: head, kind: }\ntrain:\n  task: \n  dataset: \n"
            "  \n")
    uri = client.open(tmp_path / "typing.yaml", text)
    lines = text.split("\n")
    assert labels(client.at("textDocument/completion", uri, 4, len(lines[4]) - 1)) == list(OPS)
    params = client.at("textDocument/completion", uri, 3, len("  conv: {op: conv2d, "))
    assert labels(params) == list(OPS["conv2d"].Params.model_fields)
    assert next(i for i in params["items"] if i["label"] == "filters")["detail"] == "required"
    assert next(i for i in params["items"] if i["label"] == "padding")["detail"] == "default 'same'"
    chain = labels(client.at("textDocument/completion", uri, 6, len(lines[6])))
    assert chain[:3] == ["image", "conv", "head"] and chain[3:] == list(OPS)
    assert labels(client.at("textDocument/completion", uri, 7, len(lines[7]) - 1)) == list(CONNECTIONS)
    assert labels(client.at("textDocument/completion", uri, 9, len(lines[9]))) == list(TASKS)
    datasets = list(typing.get_args(TrainSpec.model_fields["dataset"].annotation))
    assert labels(client.at("textDocument/completion", uri, 10, len(lines[10]))) == datasets
    assert labels(client.at("textDocument/completion", uri, 11, 2)) == list(TrainSpec.model_fields)
    typing_on = text.replace("  - image -> conv -> \n", "  - image -> conv -> {\n")  # no longer YAML
    client.change(uri, typing_on)
    chain = labels(client.at("textDocument/completion", uri, 6, len(lines[6])))
    assert chain[:3] == ["image", "conv", "head"]  # the names of the last text that parsed


def test_completion_offers_a_blocks_params_at_its_use(client):
    text = RESNET.read_text()
    uri = client.open(RESNET)
    line, character = find(text, "{block: stage, ", offset=len("{block: stage, "))
    assert labels(client.at("textDocument/completion", uri, line, character)) == ["filters", "blocks", "strides"]


def test_go_to_definition_within_the_file_and_across_extends(client):
    text = UNET.read_text()
    uri = client.open(UNET)
    base = ROOT / "specs" / "mnist_denoise_ae.yaml"
    found = client.at("textDocument/definition", uri, *find(text, "enc2, to"))
    line, character = find(base.read_text(), "enc2:  {op")
    assert found == {"uri": base.as_uri(), "range": {"start": {"line": line, "character": character},
                                                     "end": {"line": line, "character": character + 4}}}
    extends = client.at("textDocument/definition", uri, *find(text, "extends: mnist", offset=12))
    assert extends["uri"] == base.as_uri()
    resnet = RESNET.read_text()
    use = client.at("textDocument/definition", client.open(RESNET), *find(resnet, "block: projection", offset=8))
    line, character = find(resnet, "  projection:", offset=2)
    assert use["range"]["start"] == {"line": line, "character": character}


def test_references_and_rename_of_a_node(client):
    text = RESNET.read_text()
    uri = client.open(RESNET)
    where = find(text, "pool1_pool:")
    found = client.at("textDocument/references", uri, *where, context={"includeDeclaration": True})
    assert [r["range"]["start"]["line"] for r in found] == [where[0], *[find(text, "pool1_pool", n)[0]
                                                                        for n in (1, 2)]]
    edit = client.at("textDocument/rename", uri, *where, newName="stem_pool")
    renamed = _apply(text, edit["changes"][uri])
    assert "pool1_pool" not in renamed and renamed.count("stem_pool") == 3


def test_rename_of_a_label_stays_in_its_block(client, tmp_path):
    text = ("archspec: 1\ninputs: {x: [8]}\nblocks:\n  unit:\n    inputs: [x]\n    edges: [x -> h=dense(8) -> relu,"
            " h -> out=add]\n    nodes:\n      relu: {op: activation, activation: relu}\n"
            "nodes:\n  h: {op: dense, units: 8}\n  u: {block: unit}\nedges: [x -> h -> u]\n")
    uri = client.open(tmp_path / "labels.yaml", text)
    edit = client.at("textDocument/rename", uri, *find(text, "h=dense"), newName="hidden")
    renamed = _apply(text, edit["changes"][uri])
    assert "x -> hidden=dense(8) -> relu, hidden -> out=add" in renamed
    assert "  h: {op: dense, units: 8}" in renamed and "x -> h -> u" in renamed


def test_document_symbols_are_the_outline(client):
    uri = client.open(RESNET)
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})["result"]
    names = [symbol["name"] for symbol in symbols]
    assert names[:2] == ["input_layer", "conv1_pad"]
    assert {"identity", "projection", "stage", "predictions"} <= set(names)
    stage = next(symbol for symbol in symbols if symbol["name"] == "stage")
    assert [child["name"] for child in stage["children"]] == ["x", "block1", "block"]


def test_formatting_is_archspec_fmt(client, tmp_path):
    text = "archspec: 1\nnodes:\n  a: {units: 3, op: dense}\ninputs: {x: [4]}\nedges: [x -> a]\n"
    uri = client.open(tmp_path / "messy.yaml", text)
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 2, "insertSpaces": True}})["result"]
    assert _apply(text, edits) == format_spec(text, str(tmp_path / "messy.yaml"))
    broken = client.open(tmp_path / "broken.yaml", "nodes: {a: [\n")
    answer = client.request("textDocument/formatting", {"textDocument": {"uri": broken},
                                                        "options": {"tabSize": 2, "insertSpaces": True}})
    assert answer["result"] is None
    assert not (tmp_path / "messy.yaml").exists()  # edits only: the server writes no file


def test_a_half_typed_spec_gives_its_errors(client, tmp_path):
    uri = client.open(tmp_path / "half.yaml", "archspec: 1\ninputs: {x: [4]}\nnodes:\n  a: {op: \n")
    diagnostics, _ = client.diagnostics(uri)
    assert [d["range"]["start"]["line"] for d in diagnostics] == [4]
    assert diagnostics[0]["message"].startswith("invalid YAML: did not find expected node content")


def test_bad_input_leaves_the_server_up(client, tmp_path):
    client.send_raw(b"{this is not json")
    client.send_raw(b'{"jsonrpc": "2.0", "id": 9999, "method": "no/such/method", "params": {}}')
    huge = client.open(tmp_path / "huge.yaml", "# x\n" * 2_700_000)
    diagnostics, _ = client.diagnostics(huge, timeout=60)
    assert [d["message"].splitlines()[0] for d in diagnostics] == ["spec file is too large"]
    binary = client.open(tmp_path / "binary.yaml", "\x00\x01\x02ELF\x7f\ufffd")
    diagnostics, _ = client.diagnostics(binary)
    assert diagnostics[0]["message"].startswith("invalid YAML: character U+0000 is not allowed")
    diagnostics, _ = client.diagnostics(client.open(CNN))
    assert diagnostics == []
    assert client.process.poll() is None


def test_the_server_and_the_preview_never_import_tensorflow():
    code = ("import sys, pathlib, archspec.lsp.server; from archspec.lsp.analysis import analyze_text; "
            "from archspec.serve.views import SpecView; "
            f"analyze_text(open({str(CNN)!r}).read(), {str(CNN)!r}); "
            f"assert SpecView(pathlib.Path({str(CNN)!r}), 'cnn').payload(fold=True)['valid']; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_memory_stays_bounded_over_many_edits(monkeypatch):
    """The server keeps one analysis per open document: 40 more edits retain (almost) nothing more."""
    import gc
    import tracemalloc

    from archspec.lsp.server import SpecServer

    server = SpecServer()
    monkeypatch.setattr(server, "text_document_publish_diagnostics", lambda params: None)
    uri, text = UNET.as_uri(), UNET.read_text()
    versions = (text, text.replace("concat-skip}", "add-residual}", 1))

    def edit(count: int) -> int:
        for number in range(count):
            server.check(uri, versions[number % 2])
            _ = server.specs[uri].index  # features build the name index too
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        after_10, after_50 = edit(10), edit(40)
    finally:
        tracemalloc.stop()
    assert after_50 - after_10 < 100_000, (after_10, after_50)


def test_finished_handler_futures_are_not_kept(monkeypatch):
    """pygls keeps a future per notification; the server drops the finished ones (RSS stayed flat over
    6,000 edits with this, and grew 2.4 MiB per 1,000 edits without it)."""
    from concurrent.futures import Future

    from archspec.lsp.server import SpecServer

    server = SpecServer()
    monkeypatch.setattr(server, "text_document_publish_diagnostics", lambda params: None)
    futures = server.protocol._request_futures
    pending: Future = Future()
    for number in range(3):
        done: Future = Future()
        done.set_result(None)
        futures[f"notification-{number}"] = done
    futures["request"] = pending
    server.check(UNET.as_uri(), UNET.read_text())
    assert futures == {"request": pending}


def _apply(text: str, edits: list[dict]) -> str:
    """Apply LSP text edits (0-based line/character ranges) to text, last first."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(position: dict) -> int:
        line = min(position["line"], len(lines))
        return min(offsets[line] + position["character"], len(text))

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                       reverse=True):
        text = text[:offset(edit["range"]["start"])] + edit["newText"] + text[offset(edit["range"]["end"]):]
    return text



def test_columns_after_an_emoji_are_counted_in_utf16_units_both_ways(client, tmp_path):
    """The protocol counts UTF-16 code units; 🚀 is two of them and one Python character, so every later
    column of its line differs by one between the editor and archspec."""
    text = CNN.read_text().replace("{op: conv2d, filters: 64}", '{"🚀": 1, op: conv2d, filters: 64, activation: relux}')
    uri = client.open(tmp_path / "cnn.yaml", text)
    diagnostics, _ = client.diagnostics(uri)
    line, character = find(text, "relux")
    (wrong,) = [d for d in diagnostics if "relux" in d["message"]]
    assert wrong["range"] == {"start": {"line": line, "character": character + 1},
                              "end": {"line": line, "character": character + 6}}
    line, character = find(text, "conv2d, filters: 64")
    hover = client.at("textDocument/hover", uri, line, character + 1 + 2)  # the editor's units: inside 'conv2d'
    assert hover["contents"]["value"].startswith("**conv2d**")
    assert hover["range"] == {"start": {"line": line, "character": character + 1},
                              "end": {"line": line, "character": character + 7}}
