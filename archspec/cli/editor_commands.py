"""Commands for editing specs live: the language server (`lsp`) and the preview page (`serve`)."""

from __future__ import annotations

import typer

from archspec.cli.app import app
from archspec.errors import ArchspecError

LSP_HINT = "install the language server's dependencies: pip install 'archspec[lsp]'"


@app.command()
def lsp() -> None:
    """Run the language server on stdin/stdout (for editors: see docs/editors.md)."""
    try:
        from archspec.lsp.server import serve_stdio
    except ImportError as error:
        raise ArchspecError(f"archspec lsp needs pygls ({error})\n  hint: {LSP_HINT}") from None
    serve_stdio()


@app.command()
def serve(
    specs: list[str] = typer.Argument(..., help="Spec files, or folders of them.", show_default=False),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    fold: bool = typer.Option(False, "--fold", help="Start with block uses folded (a toggle on the page)."),
    timeout: float = typer.Option(10.0, "--render-timeout", help="Seconds graphviz may take to draw a spec."),
) -> None:
    """Serve a live preview on http://127.0.0.1: diagram, summary and errors, redrawn when a spec is saved."""
    from archspec.serve.app import serve as run

    run(specs, port=port, fold=fold, timeout=timeout, announce=typer.echo)
