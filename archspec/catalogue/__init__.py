"""The catalogue every stage reads: op kinds (`ops/`, the registry `OPS`), edge kinds (`connections.py`,
`CONNECTIONS`), the shape rules they share (`shape_rules.py`), the `expr` node's arithmetic
(`expression.py`) and the small records they pass around (`primitives.py`).

It sits below `spec/` (which validates each node against its op's `Params`) and imports nothing of
archspec but the layer below it (`errors`, `moved`); see docs/architecture.md.
"""
