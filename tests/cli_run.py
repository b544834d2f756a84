"""archspec's console entry point run in-process, as the console script runs it: (exit code, stdout, stderr).

Written once for the test files that call the CLI without a subprocess; the entry point always ends with
SystemExit (typer's standalone mode), and a test that sees it return instead fails here.
"""

from __future__ import annotations

import pytest

from archspec.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return (exit_info.value.code or 0), out, err
