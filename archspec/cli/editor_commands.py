"""Commands for editing specs live: the language server (`lsp`) and the preview page (`serve`)."""

from __future__ import annotations

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
