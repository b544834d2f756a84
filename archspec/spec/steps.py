"""One step of an inline chain read into its parts: `conv2d(64, 3, strides=2)`, `relu`, `stage.out`.

The grammar (docs/spec.md, "Inline chains"):

    chain := step ("->" step)+
    step  := [NAME "="] (NAME | NAME "(" [arg ("," arg)*] ")" | "+" NAME) | REFERENCE
    arg   := [NAME "="] value
    value := "[" [value ("," value)*] "]" | "${" ... "}" | 'quoted' | "quoted" | plain

A plain value is read by the YAML 1.2 core rules a spec's values follow
(`3` an integer, `1e-6` a float, `true` a boolean, `same` a string). A
REFERENCE is anything else the later stages read (`${name}`, `use.port`).
Offsets are counted in the step's chain text, so an error names its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archspec.spec import scalars
from archspec.spec.composer import MAX_DEPTH as MAX_LIST_DEPTH
from archspec.spec.syntax import is_name, is_name_template

_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*", re.DOTALL)
_STOP = ",)]"


class StepError(ValueError):
    """A step that cannot be read; `offset` is where, in the step's text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.hint = hint


@dataclass
class Arg:
    """One argument of a call step: its keyword (None if positional), value and offset."""

    keyword: str | None
    value: Any
    offset: int


@dataclass
class ChainStep:
    """A chain step: `name` alone (a node or an op), a call `name(args)`, or a reference (name None).

    `label` is the name a new node is given in place (`out=add`), else None.
    """

    text: str
    offset: int
    name: str | None
    args: list[Arg] = field(default_factory=list)
    call: bool = False
    label: str | None = None
    residual: str | None = None  # `+x`: a new `add` node that also reads x (the step before it is its first input)


_LABEL = re.compile(r"((?:[A-Za-z0-9_]|\{index\})*[A-Za-z_](?:[A-Za-z0-9_]|\{index\})*)\s*=(?!=)\s*")
"""A step's name: inside a block it may start with a digit (`1_conv=conv2d(64, 1)`, so a use
`conv2_block1` makes Keras's `conv2_block1_1_conv`) or hold the use's number (`conv_dw_{index}_bn=...`);
at the top level the name rules reject both."""


_RESIDUAL = re.compile(r"\+\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)")
RESIDUAL_OP = "add"
"""`... -> +x`: the sum of the step before and x, written as in the maths (ResNet's F(x) + x)."""


def read_step(text: str, offset: int) -> ChainStep:
    """The step `text`, written at `offset` of its chain; StepError (offset in the chain) if malformed."""
    label = _LABEL.match(text)
    if label:
        second = _LABEL.match(text, label.end())
        if second:  # `a=b=dense(8)`: one step, one node, one name
            raise StepError(f"a step names its node twice: '{label.group(1)}=' and then '{second.group(1)}='",
                            offset + second.start(),
                            hint="a step declares one node, with one name: keep one 'name='")
        step = read_step(text[label.end():], offset + label.end())
        if step.name is None:
            use, dot, port = step.text.partition(".")
            hint = (f"to feed input '{port}' of a use '{use}', connect it without a name: '... -> {step.text}'; "
                    f"to make a new use of a block '{use}', call it and feed its other inputs by name: "
                    f"{label.group(1)}={use}(ARGS, INPUT=SOURCE)"
                    if dot and is_name(use) and is_name(port) else "write name=op or name=op(arguments), e.g. out=add")
            raise StepError(f"'{label.group(1)}=' names a new node, but {step.text!r} is no op or block",
                            step.offset, hint=hint)
        step.text, step.offset, step.label = text, offset, label.group(1)
        return step
    if is_name(text) or is_name_template(text):
        return ChainStep(text, offset, text)
    residual = _RESIDUAL.fullmatch(text)
    if residual:
        return ChainStep(text, offset, RESIDUAL_OP, residual=residual.group(1))
    match = _CALL.fullmatch(text)
    if match is None:
        if "(" in text and not text.startswith("${"):
            unclosed = text.count("(") + text.count("[") > text.count(")") + text.count("]")
            raise StepError(f"a bracket without its closing one in step {text!r}" if unclosed else
                            f"cannot read step {text!r}", offset,
                            hint="in a flow list [a -> b, ...] YAML splits at every comma: write the chain "
                            "as its own '- ' item (or quote it)" if unclosed else
                            "write a step as op(arguments), e.g. conv2d(64, 3, strides=2)")
        return ChainStep(text, offset, None)
    reader = _ArgReader(match.group(2), offset + match.start(2))
    return ChainStep(text, offset, match.group(1), reader.args(), call=True)


class _ArgReader:
    """Reads `arg, arg, ...` from the text between a call's parentheses."""

    def __init__(self, text: str, offset: int) -> None:
        self.text, self.base, self.at, self.depth = text, offset, 0, 0

    def args(self) -> list[Arg]:
        found: list[Arg] = []
        self._space()
        if self.at == len(self.text):
            return found
        while True:
            start = self.at
            keyword = None
            match = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*").match(self.text, self.at)
            if match:
                keyword, self.at = match.group(1), match.end()
            value_at = self.at
            value = self._value()
            found.append(Arg(keyword, value, self.base + (start if keyword else value_at)))
            self._space()
            if self.at == len(self.text):
                return found
            if self.text[self.at] != ",":
                bracket = self.text[self.at] in "()" or "(" in self.text[value_at:self.at]
                raise self._error(f"expected ',' between arguments, got {self.text[self.at]!r}",
                                  hint="quote a value that holds brackets, e.g. expr(\"abs(x - y)\")" if bracket
                                  else None)
            self.at += 1
            self._space()

    def _value(self) -> Any:
        self._space()
        if self.at == len(self.text) or self.text[self.at] in ",)]":
            raise self._error("missing a value", hint="write name=value or a value, e.g. conv2d(64, 3)")
        char = self.text[self.at]
        if char == "[":
            return self._list()
        if char in "'\"":
            end = self.text.find(char, self.at + 1)
            if end < 0:
                raise self._error("unclosed quote")
            value, self.at = self.text[self.at + 1:end], end + 1
            return value
        if self.text.startswith("${", self.at):
            end = self.text.find("}", self.at)
            if end < 0:
                raise self._error("'${' without a closing '}'", hint="close the expression: ${name}")
            value, self.at = self.text[self.at:end + 1], end + 1
            return value
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in _STOP:
            self.at += 1
        plain = self.text[start:self.at].strip()
        try:
            return scalars.construct(scalars.resolve(plain), plain)
        except ValueError as error:
            raise StepError(f"cannot read {plain!r}: {error}", self.base + start) from None

    def _list(self) -> list[Any]:
        if self.depth >= MAX_LIST_DEPTH:  # before recursing: the loader's nesting limit, for chain text too
            raise self._error(f"lists nested more than {MAX_LIST_DEPTH} deep in a step's argument",
                              hint="a parameter is a number, a string or a short list")
        self.depth += 1
        items = self._items()
        self.depth -= 1
        return items

    def _items(self) -> list[Any]:
        self.at += 1
        items: list[Any] = []
        self._space()
        if self.at < len(self.text) and self.text[self.at] == "]":
            self.at += 1
            return items
        while True:
            items.append(self._value())
            self._space()
            if self.at == len(self.text):
                raise self._error("'[' without a closing ']'")
            if self.text[self.at] == "]":
                self.at += 1
                return items
            if self.text[self.at] != ",":
                raise self._error(f"expected ',' or ']' in a list, got {self.text[self.at]!r}")
            self.at += 1

    def _space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def _error(self, message: str, hint: str | None = None) -> StepError:
        return StepError(message, self.base + self.at, hint)
