"""Sweep files obey the folder rules of `extends:`: a plain study name, spec files of the project only.

A sweep's name becomes its output folder and its spec files are read (and
their values echoed in errors), so a name that is a path, or a `spec:` /
`specs:` path leading anywhere, would write or read outside the project.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from archspec.train.sweep_file import SweepError, load_sweep
from tests.cli.test_cli import run_cli
from tests.conftest import ROOT

MLP = ROOT / "specs" / "mlp_functional.yaml"
SECRET = "password: hunter2-very-secret"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with the MLP spec in it, as the current directory; a secret file outside it."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "mlp.yaml").write_text(MLP.read_text())
    (tmp_path / "secret.yaml").write_text(SECRET + "\n")
    monkeypatch.chdir(folder)
    return folder


def sweep_text(name: str = "width", spec: str = "mlp.yaml", extra: str = "") -> str:
    return f"""\
archspec_sweep: 1
name: {name}
spec: {spec}
objective: {{metric: validation.loss}}
dimensions:
  width: {{set: nodes.hidden.units, values: [8, 16]}}
{extra}"""


def refused(path: Path) -> SweepError:
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    assert SECRET not in str(caught.value)
    return caught.value


@pytest.mark.parametrize("name", ["/tmp/archspec-owned", "../../escaped", "a/b", "..", "'.'", "'-rf'"])
def test_a_name_that_is_a_path_is_refused_at_its_line(project, name):
    path = project / "sweep.yaml"
    path.write_text(sweep_text(name=name))
    error = refused(path)
    assert str(error).startswith(f"{path}:2:7: a sweep's name must be a plain name, not a path")
    assert "hint: name: skip_study" in str(error)


def test_a_path_name_creates_no_folder_anywhere(project, tmp_path, capsys):
    target = tmp_path / "written_here"
    path = project / "sweep.yaml"
    path.write_text(sweep_text(name=str(target)))
    code, _out, err = run_cli(["sweep", str(path)], capsys)
    assert code == 1
    assert "must be a plain name" in err
    assert not target.exists()
    assert not (project / "runs").exists()


@pytest.mark.parametrize(("spec", "message"), [
    ("/etc/passwd", "'spec' must be a relative path to a .yaml spec file"),
    ("../secret.yaml", "'spec' leads outside this sweep file's folder and the current directory"),
    ("../../../../../../etc/hostname", "'spec' must be a relative path to a .yaml spec file"),
])
def test_a_spec_outside_the_project_is_refused_without_reading_it(project, spec, message):
    path = project / "sweep.yaml"
    path.write_text(sweep_text(spec=spec))
    error = refused(path)
    assert str(error).startswith(f"{path}:3:7: {message}")


def test_a_specs_dimension_item_outside_the_project_is_located_at_the_item(project):
    path = project / "sweep.yaml"
    path.write_text(sweep_text(extra="  variant: {specs: [mlp.yaml, ../secret.yaml]}\n"))
    error = refused(path)
    assert str(error).startswith(f"{path}:7:31: 'spec' leads outside this sweep file's folder")


def test_a_spec_in_a_subfolder_of_the_working_directory_is_read(project):
    (project / "sub").mkdir()
    path = project / "sub" / "sweep.yaml"
    path.write_text(sweep_text(spec="../mlp.yaml"))
    assert load_sweep(path).base.resolve() == (project / "mlp.yaml").resolve()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_before_it_is_opened(project):
    os.mkfifo(project / "pipe.yaml")
    path = project / "sweep.yaml"
    path.write_text(sweep_text(spec="pipe.yaml"))
    assert "is not a regular file" in str(refused(path))  # returning at all proves it never blocked on the pipe


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_extends_refuses_a_named_pipe_before_opening_it(project, capsys):
    os.mkfifo(project / "pipe.yaml")
    (project / "variant.yaml").write_text("extends: pipe.yaml\nname: v\n")
    code, _out, err = run_cli(["validate", "variant.yaml"], capsys)
    assert code == 1
    assert "variant.yaml:1:10: 'extends' names something that is not a regular file" in err
