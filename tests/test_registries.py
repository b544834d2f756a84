"""Each list of names is declared once, by its registry: the spec format, the JSON Schema and the CLI follow."""

from __future__ import annotations

from typing import get_args

import pytest
import typer.main

from archspec.catalogue.ops.base import ArityName, Family
from archspec.catalogue.plugins import ARITIES as PLUGIN_ARITIES
from archspec.catalogue.plugins import FAMILIES
from archspec.catalogue.training import DATASET_NAMES, NOISE_NAMES, TASK_NAMES
from archspec.cli import app, main
from archspec.graph.plan import ARITIES
from archspec.keras.backend import BACKENDS
from archspec.spec.models import TrainSpec
from archspec.train.data import NOISES
from archspec.train.strategies import STRATEGIES
from archspec.train.sweep_file import PRUNERS, SAMPLERS, SweepFile
from archspec.train.task_base import DATASETS
from archspec.train.tasks import TASKS


def run(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def quoted(names) -> str:
    return ", ".join(f"'{name}'" for name in names)


def test_the_train_section_and_the_train_registries_take_their_names_from_one_declaration():
    properties = TrainSpec.model_json_schema()["properties"]
    assert tuple(properties["task"]["enum"]) == TASK_NAMES == tuple(TASKS)
    assert tuple(properties["dataset"]["enum"]) == DATASET_NAMES == DATASETS
    noise = properties["noise"]["anyOf"][0]
    assert tuple(noise["propertyNames"]["enum"]) == NOISE_NAMES == tuple(NOISES)


def test_a_task_name_is_refused_with_the_declared_choices_and_a_suggestion(tmp_path):
    from archspec.errors import SpecError
    from archspec.spec.frontend import load_spec

    path = tmp_path / "bad.yaml"
    path.write_text("archspec: 1\ninputs: {x: [4]}\nnodes:\n  y: {op: dense, units: 2}\nedges: [x -> y]\n"
                    "train:\n  task: clasify\n")
    with pytest.raises(SpecError) as raised:
        load_spec(str(path))
    choices = ", ".join(f"'{name}'" for name in TASK_NAMES[:-1]) + f" or '{TASK_NAMES[-1]}'"
    assert str(raised.value) == (f"{path}:7:9: invalid value for 'train.task': Input should be {choices}\n"
                                 "  got:      'clasify'\n"
                                 "  hint: did you mean 'classify'?")


def test_sweep_files_take_sampler_and_pruner_names_from_their_lists():
    from archspec.train import sweep_study

    schema = SweepFile.model_json_schema()
    assert schema["properties"]["sampler"]["anyOf"][0]["enum"] == list(SAMPLERS) == list(sweep_study.SAMPLERS)
    assert schema["$defs"]["Pruning"]["properties"]["pruner"]["enum"] == list(PRUNERS) == list(sweep_study.PRUNERS)


def test_each_noise_kind_has_its_tensorflow_twin():
    from archspec.train.pipeline import NOISE_FUNCTIONS

    assert list(NOISE_FUNCTIONS) == list(NOISES)


def test_arities_and_families_are_declared_once():
    assert set(ARITIES) == set(get_args(ArityName))
    assert PLUGIN_ARITIES == ("one", "many", "attention")
    assert get_args(Family) == FAMILIES


@pytest.mark.parametrize(("option", "registry"), [("--task", TASKS), ("--strategy", STRATEGIES),
                                                  ("--backend", BACKENDS)])
def test_a_name_not_in_the_registry_exits_2_listing_the_registry(capsys, option, registry):
    code, output = run(capsys, "fit", "spec.yaml", option, "nope")
    assert code == 2
    assert output.rstrip().endswith(f"Invalid value for '{option}': Value error, 'nope' is not one of "
                                    f"{quoted(registry)}.")


def test_a_noise_kind_not_in_the_registry_exits_2(capsys):
    code, output = run(capsys, "fit", "spec.yaml", "--noise", "pink:0.5")
    assert code == 2
    assert output.rstrip().endswith(f"Invalid value for --noise: the noise kind 'pink' is not one of {quoted(NOISES)}")


def test_help_and_shell_completion_list_the_registry(capsys):
    code, output = run(capsys, "fit", "--help")
    assert code == 0
    assert "--task <" + "|".join(TASKS) + ">" in output
    assert "--strategy <" + "|".join(STRATEGIES) + ">" in output
    command = typer.main.get_command(app).commands["fit"]
    task = next(param for param in command.params if param.name == "task")
    with command.make_context("fit", [], resilient_parsing=True) as context:
        assert [item.value for item in task.shell_complete(context, "")] == list(TASKS)
        assert [item.value for item in task.shell_complete(context, "de")] == ["denoise"]


def test_the_importers_old_loader_name_still_works_with_a_warning():
    import archspec.keras.importer as importer

    with pytest.warns(DeprecationWarning, match="load_keras_model is now load_model_to_import"):
        assert importer.load_keras_model is importer.load_model_to_import
    with pytest.raises(AttributeError):
        importer.no_such_name  # noqa: B018
