"""A small, safe grammar for rules about who the patient is.

Routing, clinical windows and lengths of stay may depend on the patient. The
pathway file says so in words a modeller reads aloud::

    when: "age_band in [75-84, 85+] and frailty != fit"
    when: "condition == end_of_life or locality == margate"
    when: "not (frailty in [moderate, severe])"

The grammar is deliberately tiny (comparisons of one attribute with one value or
a list of values, joined by ``and``, ``or``, ``not`` and parentheses) and is
parsed here by recursive descent. Nothing is ever evaluated as code: a rule
compiles to a function over arrays of attribute codes, so one rule is applied to
a month of patients in a single numpy operation.

Grammar::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | atom
    atom       := "(" expr ")" | NAME ("==" | "!=") VALUE | NAME ["not"] "in" "[" VALUE ("," VALUE)* "]"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>==|!=)|
        (?P<punct>[()\[\],])|
        (?P<quoted>"[^"]*"|'[^']*')|
        (?P<word>[A-Za-z0-9_+\-.<>]+)
    )""",
    re.VERBOSE,
)


class RuleError(ValueError):
    """A rule that does not parse or names something unknown."""


@dataclass(frozen=True)
class Comparison:
    attribute: str
    values: tuple[str, ...]
    negate: bool


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Comparison | Not | And | Or


def _tokenise(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise RuleError(f"cannot read {text[position:]!r} in rule {text!r}")
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "quoted":
            tokens.append(("value", value[1:-1]))
        elif kind == "word" and value in ("and", "or", "not", "in"):
            tokens.append((value, value))
        elif kind == "word":
            tokens.append(("value", value))
        else:
            tokens.append((value, value))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenise(text)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "the end"
            expected = "a name or value" if kind == "value" else repr(kind)
            raise RuleError(f"expected {expected} but found {found!r} in rule {self.text!r}")
        value = self.tokens[self.position][1]
        self.position += 1
        return value

    def parse(self) -> Node:
        if not self.tokens:
            raise RuleError("empty rule")
        node = self.or_expr()
        if self.position != len(self.tokens):
            raise RuleError(
                f"unexpected {self.tokens[self.position][1]!r} in rule {self.text!r} "
                "(join conditions with 'and' or 'or')"
            )
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.peek() == "or":
            self.take("or")
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while self.peek() == "and":
            self.take("and")
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self) -> Node:
        if self.peek() == "not":
            self.take("not")
            return Not(self.not_expr())
        return self.atom()

    def atom(self) -> Node:
        if self.peek() == "(":
            self.take("(")
            node = self.or_expr()
            self.take(")")
            return node
        attribute = self.take("value")
        kind = self.peek()
        if kind in ("==", "!="):
            self.take(kind)
            return Comparison(attribute, (self.take("value"),), negate=kind == "!=")
        negate = False
        if kind == "not":
            self.take("not")
            negate = True
        if self.peek() != "in":
            raise RuleError(
                f"after {attribute!r} expected '==', '!=', 'in' or 'not in' in rule {self.text!r}"
            )
        self.take("in")
        self.take("[")
        values = [self.take("value")]
        while self.peek() == ",":
            self.take(",")
            values.append(self.take("value"))
        self.take("]")
        return Comparison(attribute, tuple(values), negate=negate)


def parse_rule(text: str) -> Node:
    """Parse a rule into a syntax tree, raising :class:`RuleError` with a plain message."""
    if not isinstance(text, str):
        raise RuleError(f"expected a rule as text, e.g. \"age_band == 85+\", got {text!r}")
    return _Parser(text).parse()


def check_rule(node: Node, levels: Mapping[str, Sequence[str]]) -> None:
    """Check every attribute and value the rule names exists.

    ``levels`` maps each attribute a patient carries to its allowed values.
    """
    if isinstance(node, Comparison):
        if node.attribute not in levels:
            known = ", ".join(sorted(levels))
            raise RuleError(f"unknown attribute {node.attribute!r} (patients carry: {known})")
        allowed = levels[node.attribute]
        for value in node.values:
            if value not in allowed:
                raise RuleError(
                    f"unknown value {value!r} for {node.attribute} (expected one of: {', '.join(allowed)})"
                )
    elif isinstance(node, Not):
        check_rule(node.operand, levels)
    else:
        for operand in node.operands:
            check_rule(operand, levels)


def compile_rule(
    node: Node, levels: Mapping[str, Sequence[str]]
) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """Compile a checked rule to ``f(codes) -> boolean mask``.

    ``codes`` maps each attribute to an integer array: the index of each
    patient's value in ``levels[attribute]``.
    """
    if isinstance(node, Comparison):
        wanted = np.array([levels[node.attribute].index(v) for v in node.values])
        attribute, negate = node.attribute, node.negate

        def compare(codes: Mapping[str, np.ndarray]) -> np.ndarray:
            mask = np.isin(codes[attribute], wanted)
            return ~mask if negate else mask

        return compare
    if isinstance(node, Not):
        inner = compile_rule(node.operand, levels)
        return lambda codes: ~inner(codes)
    parts = [compile_rule(operand, levels) for operand in node.operands]
    if isinstance(node, And):

        def conjunction(codes: Mapping[str, np.ndarray]) -> np.ndarray:
            mask = parts[0](codes)
            for part in parts[1:]:
                mask = mask & part(codes)
            return mask

        return conjunction

    def disjunction(codes: Mapping[str, np.ndarray]) -> np.ndarray:
        mask = parts[0](codes)
        for part in parts[1:]:
            mask = mask | part(codes)
        return mask

    return disjunction


def attributes_named(node: Node) -> set[str]:
    """The attributes a rule reads (for documentation and reports)."""
    if isinstance(node, Comparison):
        return {node.attribute}
    if isinstance(node, Not):
        return attributes_named(node.operand)
    names: set[str] = set()
    for operand in node.operands:
        names |= attributes_named(operand)
    return names
