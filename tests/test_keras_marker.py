"""The rule that marks tests `keras` (tests/keras_marker.py) on synthetic tests, and the fast lane it makes."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.keras_marker import needs_keras


def compile_model(spec):  # stands for the library's: the rule goes by the names a test uses
    return spec


def main(args):
    return args


def builds_a_model():
    return compile_model("spec.yaml")


def calls_a_helper_that_builds():
    return builds_a_model()


def validates_only():
    return main(["validate", "spec.yaml"])


def trains_from_the_command_line():
    return main(["fit", "spec.yaml"])


def imports_the_compiler():
    from archspec.keras.compiler import compile_model as compile_

    return compile_


def imports_the_graph():
    from archspec.graph.shapes import analyze

    return analyze


def writes_a_plugin(tmp_path):
    (tmp_path / "plugin.py").write_text("import keras\n")


@functools.wraps(builds_a_model)
def wrapped(*args):
    return builds_a_model(*args)


@pytest.mark.parametrize(("test", "fixtures", "expected"), [
    (builds_a_model, [], True),
    (calls_a_helper_that_builds, [], True),
    (validates_only, [], False),
    (trains_from_the_command_line, [], True),
    (imports_the_compiler, [], True),
    (imports_the_graph, [], False),
    (writes_a_plugin, [], True),
    (validates_only, [builds_a_model], True),
    (wrapped, [], True),
])
def test_a_test_needs_keras_when_it_or_its_helpers_build_a_model(test, fixtures, expected):
    assert needs_keras(test, fixtures, []) is expected


def test_the_keras_fixture_needs_keras():
    assert needs_keras(validates_only, [], ["tmp_path", "keras"])


def test_the_fast_lane_refuses_tensorflow_by_name(tmp_path):
    (tmp_path / "test_sneaky.py").write_text(
        "def test_hides_its_import():\n"
        "    try:\n"
        "        __import__('tens' + 'orflow')\n"
        "    except ImportError:\n"
        "        pass\n"
        "\n"
        "def test_pure():\n"
        "    assert 'tensorflow' not in __import__('sys').modules\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), "-m", "not keras and not slow",
         str(tmp_path / "test_sneaky.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout
    assert ("::test_hides_its_import imports tensorflow in the TensorFlow-free lane (-m 'not keras'): "
            "it needs the keras marker") in result.stdout.replace("\n", " ")
    assert result.stdout.rstrip().splitlines()[-1].startswith("2 passed, 1 error")  # test_pure still ran clean
