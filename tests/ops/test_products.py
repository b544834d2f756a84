"""Matrix products and constants: `matmul` / `einsum` as ops and in `expr`, `eye`/`zeros`/`ones`/`full` and
literal tensors, and broadcasting where both operands are smaller than the result; static shapes and
parameter counts, and the same numbers as numpy on TensorFlow, JAX and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.errors import ArchspecError, flatten_errors
from archspec.graph.summary import total_params
from tests.conftest import ROOT

PRODUCTS = (ROOT / "tests" / "data" / "products.yaml").read_text()


def numpy_reference(model, points: np.ndarray) -> np.ndarray:
    """What the spec computes, with numpy and the model's own weights (batch first)."""
    w9, b9 = model.get_layer("dense_1").get_weights()
    w1, b1 = model.get_layer("col").get_weights()
    t = (points.mean(axis=1) @ w9 + b9).reshape(-1, 3, 3)
    product = points @ t
    col = points @ w1 + b1  # (B, 16, 1) + (1, 3): both smaller than (16, 3)
    return points @ (t + np.eye(3)) + product * product + product + col + np.array([[1, 2, 3]]) + 0.5


def test_static_shapes_and_parameter_counts():
    graph = archspec.analyze(archspec.loads_spec(PRODUCTS))
    shapes = [graph.nodes[name]["shape"] for name in ("t", "by_op", "by_einsum", "out")]
    assert shapes == [(3, 3), (16, 3), (16, 3), (16, 3)]
    assert total_params(graph) == 3 * 9 + 9 + 3 + 1  # the two dense layers; products and constants own none


@pytest.mark.parametrize("expr, message", [
    ("p @ q", "'@' needs the last axis of 'p' to equal the second-to-last of 'q': 3 vs 4"),
    ("einsum('nk,kk->n', p, q)", "einsum axis 'k' is 3 in 'p' but 4 in 'q'"),
    ("einsum('nk->m', p)", "einsum output letter 'm' of 'nk->m' names no input axis"),
    ("p + eye(0)", "eye() takes a size of positive whole numbers"),
    ("p + [[1, 2], [3]]", "a literal tensor is a rectangular list of numbers"),
    ("p + zeros([300, 300])", "a constant tensor holds at most 65,536 numbers"),
    ("einsum('nk->n', p) + p + 0 * q", "einsum 'nk->n' gives 1 axes inside a larger expression whose operands have 2"),
])
def test_product_and_constant_errors_are_located_with_the_rule(write_spec, expr, message):
    path = write_spec("archspec: 1\nname: t\ninputs: {p: [16, 3], q: [4, 4]}\nnodes:\n"
                      f"  out: {{op: expr, expr: \"{expr}\"}}\nedges:\n  - {{from: p, to: out, as: p}}\n"
                      "  - {from: q, to: out, as: q}\noutputs: [out]\n")
    with pytest.raises(ArchspecError) as raised:
        archspec.analyze(path)
    [error] = flatten_errors(raised.value)
    assert message in str(error) and error.location.line == 5


def test_a_vector_is_no_matrix_for_matmul(write_spec):
    path = write_spec("archspec: 1\nname: t\ninputs: {v: [3], m: [3, 3]}\nnodes:\n  y: {op: matmul}\n"
                      "edges:\n  - v -> y\n  - m -> y\n")
    with pytest.raises(ArchspecError, match=r"'@' multiplies matrices, but 'v' is 3 \(rank 1 after the batch\)"):
        archspec.analyze(path)


def test_the_outputs_are_numpys_on_tensorflow(keras):
    model = archspec.compile_model(archspec.loads_spec(PRODUCTS))
    points = np.random.default_rng(0).normal(size=(2, 16, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(points)), numpy_reference(model, points), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", [pytest.param("jax", marks=pytest.mark.jax),
                                     pytest.param("torch", marks=pytest.mark.torch)])
def test_jax_and_torch_give_tensorflows_outputs(backend, backend_outputs):
    reference, other = backend_outputs("tensorflow"), backend_outputs(backend)
    assert int(other["products/params"]) == int(reference["products/params"]) == 40
    np.testing.assert_allclose(other["products/output0"], reference["products/output0"], rtol=1e-5, atol=1e-5)
