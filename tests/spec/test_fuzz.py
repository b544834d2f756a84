"""Property-based tests: random valid specs agree with Keras; broken ones give located errors.

The default suite runs a few hundred validate-only examples and a few dozen
compiled ones; `pytest -m fuzz` runs the same properties with thousands.
Run with `--hypothesis-show-statistics` to see how many examples ran.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings

import archspec
from archspec.errors import ArchspecError, flatten_errors
from archspec.graph.summary import node_params, total_params
from archspec.keras.backend import import_keras
from archspec.spec.frontend import loads_spec
from archspec.spec.syntax import LINE_BREAK
from tests.fuzz_specs import (
    SPECS_DIR,
    Generated,
    mangled_real_specs,
    mangled_texts,
    mutated_specs,
    random_documents,
    valid_specs,
)

QUICK = settings(max_examples=300, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
COMPILED = settings(QUICK, max_examples=24)
LONG = settings(QUICK, max_examples=2500)


def check_analyzes(case: Generated) -> None:
    graph = archspec.analyze(loads_spec(case.text, "fuzz.yaml"))
    inferred = {name: data["shape"] for name, data in graph.nodes(data=True)}
    assert inferred == case.shapes


def check_matches_keras(case: Generated) -> None:
    keras = import_keras()
    keras.backend.clear_session()
    graph = archspec.analyze(loads_spec(case.text, "fuzz.yaml"))
    model = archspec.compile_model(graph)
    assert model.count_params() == total_params(graph)
    for name, data in graph.nodes(data=True):
        layer = model.get_layer(name)
        assert tuple(layer.output.shape[1:]) == data["shape"], name
        assert layer.count_params() == node_params(graph, name), name


def check_error_is_located(text: str, must_fail: bool, mutation: str, name: str = "fuzz.yaml") -> None:
    """Either the spec is still valid, or every error is an ArchspecError that points at a line.

    An error may point into an `extends:` base rather than the file itself.
    """
    lines = len(LINE_BREAK.split(text))
    try:
        archspec.analyze(loads_spec(text, name))
    except ArchspecError as error:
        errors = flatten_errors(error)
        assert errors, repr(error)
        for each in errors:
            assert each.location is not None, str(each)
            assert each.line is not None and each.line >= 1, str(each)
            assert each.location.file != name or each.line <= lines, str(each)
            assert each.column is not None and each.column >= 1, str(each)
        event(f"{mutation}: {type(errors[0]).__name__}")
        return
    assert not must_fail, f"{mutation} should have broken the spec:\n{text}"
    event(f"{mutation}: still valid")


@QUICK
@given(valid_specs())
def test_random_specs_analyze_to_the_built_shapes(case):
    check_analyzes(case)


@COMPILED
@given(valid_specs())
def test_random_specs_compile_and_agree_with_keras(case):
    check_matches_keras(case)


@QUICK
@given(mutated_specs())
def test_mutated_specs_give_located_errors(case):
    check_error_is_located(case[1], case[2], case[0])


@QUICK
@given(mangled_texts())
def test_mangled_texts_give_located_errors(case):
    check_error_is_located(case[1], False, case[0])


@QUICK
@given(random_documents())
def test_random_documents_give_located_errors(text):
    check_error_is_located(text, False, "random")


@QUICK
@given(mangled_real_specs())
def test_mangled_real_specs_give_located_errors(case):
    check_error_is_located(case[1], False, case[0], str(SPECS_DIR / "fuzz.yaml"))


@pytest.mark.fuzz
@LONG
@given(mangled_real_specs())
def test_fuzz_mangled_real_specs(case):
    check_error_is_located(case[1], False, case[0], str(SPECS_DIR / "fuzz.yaml"))


@pytest.mark.fuzz
@LONG
@given(random_documents())
def test_fuzz_random_documents(text):
    check_error_is_located(text, False, "random")


@pytest.mark.fuzz
@LONG
@given(valid_specs())
def test_fuzz_random_specs_analyze(case):
    check_analyzes(case)


@pytest.mark.fuzz
@settings(COMPILED, max_examples=300)
@given(valid_specs())
def test_fuzz_random_specs_agree_with_keras(case):
    check_matches_keras(case)


@pytest.mark.fuzz
@LONG
@given(mutated_specs())
def test_fuzz_mutated_specs(case):
    check_error_is_located(case[1], case[2], case[0])


@pytest.mark.fuzz
@LONG
@given(mangled_texts())
def test_fuzz_mangled_texts(case):
    check_error_is_located(case[1], False, case[0])
