"""`archspec codegen` prints Python that runs and builds exactly the compiled model, whatever the names.

A node may be named after a keyword (`class`), a builtin (`print`), a name the
printed code binds itself (`keras`, `layers`, `model`) or a variable codegen
derives for a merge (`n0_add_residual`): the variables must still be valid,
distinct identifiers. The property runs on the fuzzer's specs (tests/fuzz_specs.py)
with their nodes renamed to such names; `pytest -m fuzz` runs many more.
"""

from __future__ import annotations

import copy
import keyword

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from archspec.keras.codegen import GENERATED_NAMES, variable_names
from archspec.spec.frontend import loads_spec
from tests.fuzz_specs import Generated, to_yaml, valid_specs
from tests.spec.test_fuzz import QUICK

NASTY = ["class", "def", "lambda", "None", "True", "yield", "match", "print", "list", "input", "id",
         "keras", "layers", "model", "GateMix", "PositionalEmbedding", "__builtins__", "__name__",
         "n0_add_residual", "n1_concat_skip", "n2_gate", "x_2", "n0_"]
"""Node names that a naive printer turns into code that fails or quietly rebinds a name."""


@st.composite
def renamed_specs(draw) -> str:
    """A fuzzer spec whose input and nodes are renamed to distinct names from NASTY (or kept)."""
    data = copy.deepcopy(draw(valid_specs()).data)
    old = list(data["inputs"]) + list(data["nodes"])
    new = draw(st.lists(st.sampled_from(NASTY + old), min_size=len(old), max_size=len(old), unique=True))
    rename = dict(zip(old, new, strict=True))

    def ref(name: str) -> str:  # a node, or one named output of it (`halves.a`, from split)
        node, dot, port = name.partition(".")
        return rename[name] if name in rename else rename[node] + dot + port
    data["inputs"] = {rename[name]: value for name, value in data["inputs"].items()}
    data["nodes"] = {rename[name]: value for name, value in data["nodes"].items()}
    data["edges"] = [" -> ".join(ref(part) for part in edge.split(" -> ")) if isinstance(edge, str)
                     else {**edge, "from": ref(edge["from"]), "to": ref(edge["to"])}
                     for edge in data["edges"]]
    data["outputs"] = [ref(name) for name in data["outputs"]]
    return to_yaml(data)


def check_codegen_builds_the_compiled_model(text: str) -> None:
    keras = archspec.keras.backend.import_keras()
    keras.backend.clear_session()
    spec = loads_spec(text, "fuzz.yaml")
    code = archspec.generate_code(spec)
    namespace: dict = {}
    exec(compile(code, "<codegen>", "exec"), namespace)  # our own generated code, not user input
    printed, compiled = namespace["model"], archspec.compile_model(spec)
    assert printed.count_params() == compiled.count_params()
    assert [(layer.name, type(layer).__name__) for layer in printed.layers] == \
        [(layer.name, type(layer).__name__) for layer in compiled.layers]
    for ours, theirs in zip(printed.layers, compiled.layers, strict=True):
        mine, other = ours.get_config(), theirs.get_config()
        mine.pop("name"), other.pop("name")
        assert mine == other, ours.name
        ours.set_weights(theirs.get_weights())
    arrays = [np.random.default_rng(0).random((2, *tensor.shape[1:])).astype("float32")
              for tensor in compiled.inputs]
    inputs = arrays[0] if len(arrays) == 1 else arrays
    np.testing.assert_allclose(printed.predict(inputs, verbose=0), compiled.predict(inputs, verbose=0),
                               rtol=1e-6, atol=1e-6)


@settings(QUICK, max_examples=8)
@given(renamed_specs())
def test_codegen_of_random_specs_with_nasty_names_builds_the_compiled_model(text):
    check_codegen_builds_the_compiled_model(text)


@pytest.mark.fuzz
@settings(QUICK, max_examples=200)
@given(renamed_specs())
def test_fuzz_codegen_builds_the_compiled_model(text):
    check_codegen_builds_the_compiled_model(text)


@settings(QUICK, max_examples=6)
@given(valid_specs())
def test_codegen_of_random_specs_builds_the_compiled_model(case: Generated):
    check_codegen_builds_the_compiled_model(case.text)


def test_named_cases_print_code_that_keeps_every_name_apart():
    text = """archspec: 1
name: names
inputs:
  None: {shape: [4]}
nodes:
  class: {op: dense, units: 4}
  out: {op: dense, units: 4}
  out_add_residual: {op: dense, units: 3}
  keras: {op: dense, units: 2}
edges:
  - None -> class -> out -> out_add_residual -> keras
  - {from: class, to: out, kind: add-residual}
outputs: [keras]
"""
    code = archspec.generate_code(loads_spec(text, "names.yaml"))
    assert "class_ = layers.Dense(units=4, name='class')(None_)" in code
    assert "out_add_residual_ = layers.Add(name='out.add_residual')([class_, class_])" in code
    assert "out = layers.Dense(units=4, name='out')(out_add_residual_)" in code
    assert "out_add_residual = layers.Dense(units=3, name='out_add_residual')(out)" in code
    assert "keras_ = layers.Dense(units=2, name='keras')(out_add_residual)" in code
    check_codegen_builds_the_compiled_model(text)


def test_a_shared_layer_and_a_node_named_like_its_variable_stay_two_variables():
    text = """archspec: 1
name: twins
inputs: {left: [4], right: [4]}
nodes:
  enc: {op: dense, units: 3}
  enc_layer: {shares: enc}
  out: {op: add}
edges:
  - left -> enc -> out
  - right -> enc_layer -> out
"""
    code = archspec.generate_code(loads_spec(text, "twins.yaml"))
    assert "enc_layer_ = layers.Dense(units=3, name='enc')" in code  # the layer
    assert "enc_layer = enc_layer_(right)" in code  # the node's tensor
    check_codegen_builds_the_compiled_model(text)


def test_variable_names_are_distinct_identifiers():
    variables = ["class", "None", "print", "a.b", "a_b", "__name__", "__name___", "keras", "x", "x_", "9.z"]
    names = variable_names(variables, reserved=set(GENERATED_NAMES))
    assert len(set(names.values())) == len(variables)
    assert all(name.isidentifier() and not keyword.iskeyword(name) for name in names.values())
    assert names["a_b"] == "a_b" and names["a.b"] == "a_b_" and names["x"] == "x" and names["x_"] == "x_"
    assert not set(names.values()) & {"print", "keras", "__name__"}


@settings(QUICK, max_examples=10)
@given(text=renamed_specs())
def test_render_draws_random_specs_with_nasty_names(text, tmp_path_factory):
    """Every valid spec renders: names that mean something to Python or graphviz are only text."""
    import warnings

    from archspec.draw.diagram import build_diagram, write_diagram

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diagram = build_diagram(loads_spec(text, "fuzz.yaml"))
        path = write_diagram(diagram.digraph, tmp_path_factory.mktemp("render") / "fuzz.svg")
    assert diagram.errors == []
    assert path.read_text().count('class="node"') >= 2
