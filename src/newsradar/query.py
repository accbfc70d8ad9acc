"""The watch query language: lexer, parser and syntax tree.

    (@north-korea NEAR/15 @russia) AND (arms OR munition* OR "artillery shell*")

Operators (upper case): ``AND``, ``OR``, ``NOT``, ``a NEAR/n b`` (at most n words between, either
order), ``a ONEAR/n b`` (a before b), parentheses. Operands: bare words, ``"phrases"``,
``cs("Exact Case")``, ``@watch-id``, fields ``title:(...)``, ``body:(...)``, ``url:(...)``,
``source:(...)`` and ``lang:xx``. Binding, tightest first: NEAR/ONEAR, NOT, AND, OR.

:func:`parse` returns the tree or raises :class:`QuerySyntaxError` with a 1-based column and the
fix. Terms inside follow the same rules as ``terms`` (see :mod:`newsradar.terms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsradar.terms import Term, TermError, parse_term

__all__ = [
    "And",
    "Field",
    "Lang",
    "Near",
    "Node",
    "Not",
    "Or",
    "QuerySyntaxError",
    "Ref",
    "TermNode",
    "parse",
    "refs",
]

FIELDS = ("title", "body", "url", "source")


class QuerySyntaxError(ValueError):
    """A query that does not parse; ``column`` is 1-based in the query text."""

    def __init__(self, problem: str, column: int) -> None:
        self.problem = problem
        self.column = column
        super().__init__(f"column {column}: {problem}")


@dataclass(frozen=True, slots=True)
class TermNode:
    term: Term
    written: str
    column: int


@dataclass(frozen=True, slots=True)
class Ref:
    """``@watch-id``: any mention of another watch."""

    watch_id: str
    column: int


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    # Largest number of words allowed between the two mentions.
    distance: int
    # ONEAR: the left mention must come first.
    ordered: bool
    column: int


@dataclass(frozen=True, slots=True)
class Field:
    """``title:(...)`` and friends: the child is evaluated on that field only."""

    name: str
    child: Node


@dataclass(frozen=True, slots=True)
class Lang:
    code: str


Node = TermNode | Ref | And | Or | Not | Near | Field | Lang


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ( ) AND OR NOT NEAR WORD PHRASE CS REF FIELD LANG END
    value: str
    column: int
    distance: int = 0


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<cs>cs\(\s*"[^"]*"\s*\))
  | (?P<phrase>"[^"]*")
  | (?P<quote>")
  | (?P<near>O?NEAR(?:/\d+)?(?![^\s()"]))
  | (?P<ref>@[^\s()"]*)
  | (?P<field>[A-Za-z]+:)
  | (?P<word>[^\s()"]+)
    """,
    re.X,
)
_OPERATORS = {"AND", "OR", "NOT"}
_CURLY_QUOTES = frozenset("\u201c\u201d\u201e\u201f\u00ab\u00bb")
_STARTS_OPERAND = {"(", "WORD", "PHRASE", "CS", "REF", "FIELD", "LANG", "NOT"}
_REF_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        assert found is not None  # the last alternative matches any non-space character
        kind, value, column = found.lastgroup or "", found.group(), pos + 1
        pos = found.end()
        if kind == "space":
            continue
        if kind == "quote":
            raise QuerySyntaxError('unclosed quote; add the closing " after the phrase', column)
        if kind == "near":
            if "/" not in value:
                raise QuerySyntaxError(f"{value} needs a distance in words, e.g. {value}/5", column)
            name, distance = value.split("/")
            tokens.append(_Token("NEAR", name, column, int(distance)))
        elif kind == "field":
            name = value[:-1]
            if name == "lang":
                code = re.match(r"[^\s()\"]*", text[pos:])
                lang = code.group() if code else ""
                if not _LANG.match(lang):
                    raise QuerySyntaxError(
                        "lang: needs a language code right after it, e.g. lang:en", column
                    )
                tokens.append(_Token("LANG", lang.lower().replace("_", "-"), column))
                pos += len(lang)
            elif name in FIELDS:
                tokens.append(_Token("FIELD", name, column))
            else:
                raise QuerySyntaxError(
                    f"unknown field '{value}'; use title:, body:, url:, source: or lang:, "
                    "or quote the text if the colon belongs to it",
                    column,
                )
        elif kind == "word" and value in _OPERATORS:
            tokens.append(_Token(value, value, column))
        elif kind == "word" and re.fullmatch(r"(?i)o?near/\d+", value):
            raise QuerySyntaxError(f"write the operator in capitals: {value.upper()}", column)
        elif kind == "word" and re.match(r"O?NEAR/", value):
            name = value.split("/")[0]
            raise QuerySyntaxError(
                f"{name} needs a whole number of words after '/', e.g. {name}/5", column
            )
        elif kind == "word" and (
            _CURLY_QUOTES.intersection(value) or (len(value) > 2 and value[0] == value[-1] == "'")
        ):
            # Curly quotes (a query pasted from a word processor) or single quotes would be
            # matched as text, so the term would silently never match.
            raise QuerySyntaxError(
                'write a phrase between straight double quotes: "arms transfers"', column
            )
        else:
            tokens.append(
                _Token({"lparen": "(", "rparen": ")"}.get(kind, kind.upper()), value, column)
            )
    tokens.append(_Token("END", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if self.peek.kind == "END":
            raise QuerySyntaxError("empty query; write terms or remove `query`", 1)
        node = self.parse_or()
        token = self.peek
        if token.kind == ")":
            raise QuerySyntaxError("')' without a matching '('; remove it or add '('", token.column)
        if token.kind != "END":  # pragma: no cover - parse_and reports every other leftover
            raise QuerySyntaxError(f"unexpected {token.value!r}", token.column)
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.peek.kind == "OR":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while True:
            token = self.peek
            if token.kind == "AND":
                self.take()
                items.append(self.parse_not())
            elif token.kind in _STARTS_OPERAND:
                raise self._side_by_side(token)
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def _side_by_side(self, token: _Token) -> QuerySyntaxError:
        before = self.tokens[self.pos - 1]
        if token.kind == "NOT":
            fix = f"write {before.value} AND NOT ..."
        elif token.value.lower() in {"and", "or", "not"} and token.kind == "WORD":
            fix = f"write the operator in capitals: {token.value.upper()}"
        elif before.kind in {"WORD", "PHRASE"} and token.kind in {"WORD", "PHRASE"}:
            phrase = f"{before.value.strip(chr(34))} {token.value.strip(chr(34))}"
            fix = f'quote the phrase ("{phrase}") or add AND or OR between them'
        else:
            fix = "add AND or OR between them"
        return QuerySyntaxError(
            f"{before.value!r} and {token.value!r} stand side by side without an operator; {fix}",
            token.column,
        )

    def parse_not(self) -> Node:
        if self.peek.kind == "NOT":
            self.take()
            return Not(self.parse_not())
        return self.parse_near()

    def parse_near(self) -> Node:
        node = self.parse_primary()
        while self.peek.kind == "NEAR":
            op = self.take()
            right = self.parse_primary()
            for side in (node, right):
                if not _spans(side):
                    raise QuerySyntaxError(
                        f"{op.value} joins terms, phrases, @watches or (a OR b) groups; move "
                        "AND/NOT/lang: outside, e.g. (a NEAR/5 b) AND NOT c",
                        op.column,
                    )
            node = Near(node, right, op.distance, op.value == "ONEAR", op.column)
        return node

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "(":
            if self.peek.kind == ")":
                raise QuerySyntaxError(
                    "empty parentheses; put terms inside or remove them", token.column
                )
            node = self.parse_or()
            if self.peek.kind != ")":
                raise QuerySyntaxError(
                    "'(' is never closed; add ')' where the group ends", token.column
                )
            self.take()
            return node
        if token.kind in {"WORD", "PHRASE", "CS"}:
            written = token.value[1:-1] if token.kind == "PHRASE" else token.value
            start = token.column + (1 if token.kind == "PHRASE" else 0)
            try:
                return TermNode(parse_term(written), token.value, token.column)
            except TermError as exc:
                raise QuerySyntaxError(exc.problem, start + (exc.column or 1) - 1) from None
        if token.kind == "REF":
            ref = token.value[1:]
            if not _REF_ID.match(ref):
                raise QuerySyntaxError(
                    f"'{token.value}' is not a watch reference; write @ and a watch id, "
                    "e.g. @north-korea",
                    token.column,
                )
            return Ref(ref, token.column)
        if token.kind == "FIELD":
            if self.peek.kind in {"NOT", "FIELD", "LANG", "END", ")", "AND", "OR", "NEAR"}:
                raise QuerySyntaxError(
                    f"{token.value}: needs a term or a group right after it, "
                    f'e.g. {token.value}:(NATO OR "North Atlantic")',
                    token.column,
                )
            return Field(token.value, self.parse_primary())
        if token.kind == "LANG":
            return Lang(token.value)
        if token.kind == "END":
            raise QuerySyntaxError("the query ends where a term is expected; add one", token.column)
        if token.kind == ")":
            raise QuerySyntaxError("')' without a matching '('; remove it or add '('", token.column)
        what = "NEAR/ONEAR" if token.kind == "NEAR" else token.value
        raise QuerySyntaxError(f"{what} needs a term before it", token.column)


def _spans(node: Node) -> bool:
    """True when ``node`` yields positioned mentions that NEAR can measure."""
    if isinstance(node, TermNode | Ref):
        return True
    if isinstance(node, Or):
        return all(_spans(item) for item in node.items)
    if isinstance(node, Near):
        return True
    if isinstance(node, Field):
        return node.name in ("title", "body") and _spans(node.child)
    return False


def parse(text: str) -> Node:
    """Parse a query into its tree; raises :class:`QuerySyntaxError`."""
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise QuerySyntaxError("the query nests too deeply; remove some parentheses", 1) from None


def refs(node: Node) -> list[Ref]:
    """Every ``@watch-id`` in the tree, in order of appearance."""
    if isinstance(node, Ref):
        return [node]
    if isinstance(node, And | Or):
        return [ref for item in node.items for ref in refs(item)]
    if isinstance(node, Not | Field):
        return refs(node.child)
    if isinstance(node, Near):
        return refs(node.left) + refs(node.right)
    return []
