"""Which block use an expanded node came from: kept by expansion so tools can fold the graph back.

Expansion (archspec.spec.expand) flattens block uses into plain nodes named
`use_node`; the names alone cannot say where one use ends (`conv3_block2_1_conv`
could be node `block2_1_conv` of use `conv3` or node `1_conv` of copy 2 of
`conv3_block`). So each expanded node records its chain of uses, outermost
first, and each use its ports: `archspec render --fold` draws a use as one
box with its ports from this. Nothing else reads it; the model is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class BlockCopy:
    """One copy of one block use: `conv3_block2` is copy 2 of use `conv3_block` (block `identity`, repeat 3).

    `inputs` maps each input port to the node that feeds it; `outputs` maps
    each output port to the node inside the copy it comes from (or, for an
    output that passes an input through, that input's source).
    """

    name: str
    use: str
    block: str
    index: int | None = None
    repeat: int | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
