"""The newcomer's first hour: every `archspec` command of the README's set-up section, run twice in a row
in a fresh folder holding only the specs, exits 0 (the second `compare runs/*` once failed on its own
output folder, and `fmt --check specs/*.yaml` on the shipped specs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, needs_mnist

TINY = {"fit": ["--subset", "64"]}
"""What a command gets added here so that it takes seconds: the README's fit trains a full epoch."""


def readme_commands() -> list[str]:
    """The `archspec ...` commands of the README's set-up section, in order (code block and prose)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"(?:&& |`)(archspec [^`\n]+?)(?:`|\n)", section)
    return [command.strip() for command in found]


def test_the_readme_set_up_names_the_commands_a_newcomer_runs():
    commands = [command.split()[1] for command in readme_commands()]
    assert commands[0] == "fit" and {"validate", "render", "compare"} <= set(commands)


@needs_mnist
@pytest.mark.slow
def test_each_readme_command_exits_0_twice_in_a_fresh_folder(tmp_path):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    commands = [*readme_commands(), "archspec fmt --check specs/*.yaml"]
    for round_ in (1, 2):
        for command in commands:
            verb = command.split()[1]
            line = command.replace("archspec", f"{sys.executable} -m archspec.cli", 1)
            line += "".join(f" {arg}" for arg in TINY.get(verb, []))
            result = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                    timeout=600)
            assert result.returncode == 0, f"round {round_}: {command}\n{result.stderr[-2000:]}"
    assert len(list((tmp_path / "runs").glob("mnist_denoise_unet-*"))) == 2
    assert not (tmp_path / "specs" / "mnist_denoise_unet.svg").exists()  # render writes here, not into specs/
