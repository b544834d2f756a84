"""Subgraphs that exporters write for one function, rewritten into that function's node before the
operator check: torch before opset 20 writes exact GELU as x * (erf(x / sqrt 2) + 1) * 0.5."""

from __future__ import annotations

from typing import Any

import numpy as np


def fold_gelu(nodes: list[Any], constants: dict[str, np.ndarray]) -> list[Any]:
    """`nodes` with each Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5 chain as one Gelu node."""
    from onnx import helper

    by_input: dict[str, list[Any]] = {}
    for node in nodes:
        for name in node.input:
            by_input.setdefault(name, []).append(node)

    def only_user(node: Any, op_type: str) -> Any | None:
        users = by_input.get(node.output[0], [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    def constant_input(node: Any, value: float) -> bool:
        return any(name in constants and constants[name].size == 1 and
                   abs(float(constants[name]) - value) < 1e-4 for name in node.input)

    replaced: dict[int, Any] = {}
    dropped: set[int] = set()
    for div in nodes:
        if div.op_type != "Div" or div.input[1] not in constants or not constant_input(div, np.sqrt(2.0)):
            continue
        erf = only_user(div, "Erf")
        add = erf and only_user(erf, "Add")
        mul = add and only_user(add, "Mul")
        half = mul and only_user(mul, "Mul")
        if not (add and constant_input(add, 1.0) and mul and div.input[0] in mul.input and half
                and constant_input(half, 0.5)):
            continue
        gelu = helper.make_node("Gelu", [div.input[0]], [half.output[0]], name=div.name.rsplit("/", 1)[0] + "/Gelu")
        replaced[id(div)] = gelu
        dropped.update(id(item) for item in (erf, add, mul, half))
    return [replaced.get(id(node), node) for node in nodes if id(node) not in dropped]
