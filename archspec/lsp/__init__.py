"""The language server for spec files (`archspec lsp`): diagnostics, hover, shapes as inlay hints, completion,
navigation, rename and formatting. Only `server` imports pygls; nothing here imports TensorFlow."""
