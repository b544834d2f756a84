"""The specs benchmarks/frontend_scaling.py times besides its base: compact forms at their limits and
one error of each class in a spec of N nodes (issues 26 and 28).

Each maker returns the files to write (name -> text) and the one to validate.
"""

from __future__ import annotations

BLOCKS = """\
blocks:
  pair:
    inputs: [i]
    outputs: [b]
    nodes:
      a: {op: dense, units: "${width}"}
      b: {op: dense, units: "${width}"}
    edges: [i -> a -> b]
  spare:
    nodes:
      a: {op: dense, units: "${width}"}
      b: {op: dense, units: "${width}"}
      dead: {op: dense, units: 4}
    edges: [x -> a -> b, a -> dead]
    outputs: [b]
"""
INLINE_HEAD = "archspec: 1\nname: c\ninputs: {x: [8]}\nedges:\n"

Files = tuple[dict[str, str], str]


def long_chain(steps: int) -> Files:
    """One chain of `steps` inline steps `dense(8)`."""
    return {"s.yaml": INLINE_HEAD + "  - x -> " + " -> ".join(["dense(8)"] * steps) + "\n"}, "s.yaml"


def short_chains(chains: int, steps: int = 10) -> Files:
    """`chains` chains of `steps` labelled steps, each continuing the one before."""
    lines, previous = [INLINE_HEAD.rstrip()], "x"
    for number in range(chains):
        lines.append(f"  - {previous} -> " + " -> ".join(f"s{number}_{step}=dense(8)" for step in range(steps)))
        previous = f"s{number}_{steps - 1}"
    return {"s.yaml": "\n".join(lines) + "\n"}, "s.yaml"


def labels(count: int) -> Files:
    """One step with `count` labels, `l0=l1=...=dense(8)`."""
    return {"s.yaml": INLINE_HEAD + "  - x -> " + "=".join(f"l{n}" for n in range(count)) + "=dense(8)\n"}, "s.yaml"


def nesting(depth: int) -> Files:
    """An argument of lists nested `depth` deep."""
    return {"s.yaml": INLINE_HEAD + "  - x -> dense(units=" + "[" * depth + "8" + "]" * depth + ")\n"}, "s.yaml"


COMPACT = {
    "chain of 20,000 steps": lambda: long_chain(20_000),
    "chain of 100,000 steps": lambda: long_chain(100_000),
    "10,000 chains of 10 steps": lambda: short_chains(10_000),
    "1,000 chains of 10 steps": lambda: short_chains(1_000),
    "3,000 labels on one step": lambda: labels(3_000),
    "lists nested 3,000 deep": lambda: nesting(3_000),
}


def with_error(size: int, error: str) -> Files:
    """A base of about `size` nodes (vars, a block used by 1% of them) with one `error`, and a variant
    extending it; the variant is validated.

    typo: an edge into a misspelt node; cycle: an edge from the last node back to the middle; vars: a
    misspelt var; param: a block use with a misspelt param; shape: a reshape that cannot be; repeat: a
    block with a dead-end node repeated size // 100 times; extends: the variant names a base node misspelt.
    """
    uses = size // 100
    spare = 4 * uses if error == "repeat" else 0  # the repeated copies' nodes, kept within the node limit
    names = [f"n{index}" for index in range(size - 3 * uses - 10 - spare)]
    kinds = {name: '{op: dense, units: "${width}"}' for name in names}
    for index in range(uses):
        names.insert(index * 100 + 50, f"p{index}")
        kinds[f"p{index}"] = "{block: pair}"
    middle = names[len(names) // 2 + 1]
    kinds[middle] = {"vars": '{op: dense, units: "${widht}"}', "shape": "{op: reshape, shape: [3]}",
                     "repeat": f"{{block: spare, repeat: {uses}}}"}.get(error, kinds[middle])
    if error == "param":
        kinds["p1"] = "{block: pair, widht: 8}"
    lines = ["archspec: 1", "name: big", "vars: {width: 8}", "inputs:", "  x: {shape: [8]}", BLOCKS.rstrip(),
             "nodes:", *[f"  {name}: {kinds[name]}" for name in names], "edges:", f"  - x -> {names[0]}"]
    for index in range(1, len(names)):
        target = "m" + names[index][1:] if error == "typo" and names[index] == middle else names[index]
        lines.append(f"  - {names[index - 1]} -> {target}")
    if error == "cycle":
        lines.append(f"  - {names[-1]} -> {middle}")
    lines.append(f"outputs: [{names[-1]}]")
    source = "m" + names[-1][1:] if error == "extends" else names[-1]
    variant = (f"archspec: 1\nextends: base.yaml\nnodes:\n  extra: {{op: dense, units: 2}}\n"
               f"edges:\n  - {source} -> extra\noutputs: [extra]\n")
    return {"base.yaml": "\n".join(lines) + "\n", "variant.yaml": variant}, "variant.yaml"


ERRORS = ("typo", "cycle", "vars", "param", "shape", "repeat", "extends")
