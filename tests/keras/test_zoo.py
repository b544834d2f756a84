"""The zoo: every specs/zoo/NAME.yaml compiles to exactly the model its hand-written Keras reference builds.

specs/zoo holds the compact forms (issue 18), whose inline steps are named
`conv2d_1`; the long forms they were rewritten from, one node per layer, are
kept in tests/data/compact/long/zoo, and tests/keras/test_compact_specs.py proves each
compact spec the same model as its long form. Each reference (tests/data/zoo/NAME.py,
`reference() -> keras.Model`) names its layers after the long form's nodes,
so the comparison with the long form is strict: the same parameter
count (static and compiled), the same set of layers that hold weights, the
same outputs to 1e-5 once the reference's (perturbed) weights are copied over
by layer name, and a training step that gives a finite loss. Specs without a
reference, or references with neither a spec nor a pending draft, fail.
Without TensorFlow: each spec (compact and long) validates and renders no wider or taller than 3:1.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.graph.summary import total_params
from archspec.spec.expand import expand
from archspec.spec.loader import load_yaml
from tests.conftest import ROOT

ZOO_SPECS = ROOT / "specs" / "zoo"
REFERENCES = ROOT / "tests" / "data" / "zoo"
PENDING = REFERENCES / "pending"
SPECS = sorted(ZOO_SPECS.glob("*.yaml"))
LONG = sorted((ROOT / "tests" / "data" / "compact" / "long" / "zoo").glob("*.yaml"))
DRAFTS = sorted(PENDING.glob("*.yaml"))
MAX_ASPECT = 3.0
BATCH = 4
def load_reference(name: str):
    """tests/data/zoo/NAME.py's reference() model (loaded by path: the zoo folder is not a package)."""
    path = REFERENCES / f"{name}.py"
    module_spec = importlib.util.spec_from_file_location(f"zoo_{name}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.reference()


def random_inputs(model):
    """A fixed batch for every input of the model: normal floats, or token ids for int inputs."""
    rng = np.random.default_rng(0)
    batch = []
    for tensor in model.inputs:
        shape = (BATCH, *tensor.shape[1:])
        if "int" in str(tensor.dtype):
            batch.append(rng.integers(0, 10, shape).astype("int32"))
        else:
            batch.append(rng.normal(size=shape).astype("float32"))
    return batch if len(batch) > 1 else batch[0]


def perturb(model) -> None:
    """Move every weight off its initial value, so a mixed-up bias, beta or moving statistic shows."""
    rng = np.random.default_rng(1)
    for variable in model.weights:
        value = np.asarray(variable.numpy())
        if "variance" in variable.path:
            variable.assign(rng.uniform(0.5, 1.5, value.shape).astype(value.dtype))
        else:
            variable.assign((value + rng.normal(0.0, 0.05, value.shape)).astype(value.dtype))


def expanded_node_names(path: Path) -> set[str]:
    """The node names of a spec after vars and blocks are expanded, before its ops are validated."""
    return set(expand(load_yaml(path)).data["nodes"])


def weighted_layers(model) -> dict:
    return {layer.name: layer for layer in model.layers if layer.weights}


@pytest.fixture(scope="module", params=LONG, ids=lambda path: path.stem)
def pair(request, keras):
    """(long spec path, compiled model, reference model) for one zoo model."""
    path = request.param
    keras.utils.set_random_seed(0)
    compiled = archspec.compile_model(archspec.load(path))
    reference = load_reference(path.stem)
    perturb(reference)
    return path, compiled, reference


def test_every_zoo_model_has_a_reference_and_a_spec_or_a_pending_draft():
    specs = {path.stem for path in SPECS}
    drafts = {path.stem for path in PENDING.glob("*.yaml")}
    references = {path.stem for path in REFERENCES.glob("*.py")}
    assert specs <= references, f"zoo specs without a reference: {sorted(specs - references)}"
    assert not specs & drafts, f"both a spec and a pending draft: {sorted(specs & drafts)}"
    assert references == specs | drafts, f"references without a spec or draft: {sorted(references - specs - drafts)}"
    assert {path.stem for path in LONG} == specs, "each zoo spec keeps its long form in tests/data/compact/long/zoo"


@pytest.mark.parametrize("path", SPECS + LONG + DRAFTS, ids=lambda path: path.parent.name + "/" + path.stem)
def test_a_zoo_spec_names_its_paper_in_a_header_comment(path):
    header = path.read_text().split("archspec:")[0]
    assert header.startswith("# ") and re.search(r"\(.*\d{4}\)", header), header


def test_parameter_counts_are_equal_statically_and_compiled(pair):
    path, compiled, reference = pair
    assert compiled.count_params() == reference.count_params()
    assert total_params(archspec.analyze(archspec.load(path))) == reference.count_params()


def test_the_same_layers_hold_the_same_weight_shapes(pair):
    _, compiled, reference = pair
    ours, theirs = weighted_layers(compiled), weighted_layers(reference)
    assert sorted(ours) == sorted(theirs)
    for name, layer in theirs.items():
        assert [tuple(w.shape) for w in ours[name].weights] == [tuple(w.shape) for w in layer.weights], name


def test_outputs_agree_with_the_references_weights(pair):
    _, compiled, reference = pair
    for name, layer in weighted_layers(reference).items():
        compiled.get_layer(name).set_weights(layer.get_weights())
    batch = random_inputs(reference)
    expected = reference(batch, training=False)
    got = compiled(batch, training=False)
    for want, have in zip(np.atleast_1d(expected), np.atleast_1d(got), strict=True):
        np.testing.assert_allclose(np.asarray(have), np.asarray(want), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_one_training_step_gives_a_finite_loss(pair):
    _, compiled, _ = pair
    batch = random_inputs(compiled)
    output = compiled.outputs[0]
    if tuple(output.shape[1:]) == (10,):
        loss, target = "sparse_categorical_crossentropy", np.arange(BATCH) % 10
    else:
        loss, target = "mse", np.zeros((BATCH, *output.shape[1:]), "float32")
    compiled.compile(optimizer="adam", loss=loss, run_eagerly=True)  # one step: tracing would cost more
    assert np.isfinite(float(compiled.train_on_batch(batch, target)))


def test_zoo_specs_validate_without_tensorflow():
    code = (
        "import sys\n"
        "from archspec.cli import main\n"
        "try:\n"
        f"    main(['validate', *{[str(path) for path in SPECS + LONG]!r}])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok  ") == len(SPECS + LONG)


@pytest.mark.parametrize("path", SPECS + LONG, ids=lambda path: path.parent.name + "/" + path.stem)
def test_a_zoo_diagram_is_at_most_3_to_1(path):
    svg = archspec.render(path).pipe(format="svg").decode()
    width, height = (float(re.search(rf'<svg[^>]*\b{key}="([\d.]+)pt"', svg).group(1))
                     for key in ("width", "height"))
    assert max(width / height, height / width) <= MAX_ASPECT, f"{width:.0f} x {height:.0f} pt"


@pytest.mark.parametrize("path", DRAFTS, ids=lambda path: path.stem)
def test_a_pending_draft_names_every_weighted_layer_of_its_reference(path, keras):
    """Drafts use ops that do not exist yet, but their vars and blocks expand today: the names must line up."""
    nodes = expanded_node_names(path)
    missing = sorted(set(weighted_layers(load_reference(path.stem))) - nodes)
    assert not missing, f"reference layers with weights that the draft has no node for: {missing}"
