"""The query parser: structure and precedence (errors are tested through the matcher)."""

from __future__ import annotations

import pytest

from newsradar.query import And, Field, Lang, Near, Not, Or, QuerySyntaxError, Ref, TermNode, parse


def shape(node: object) -> object:
    """A compact picture of a tree for assertions."""
    if isinstance(node, TermNode):
        return node.term.key + ("*" if node.term.prefix else "")
    if isinstance(node, Ref):
        return "@" + node.watch_id
    if isinstance(node, And | Or):
        return (type(node).__name__, *(shape(i) for i in node.items))
    if isinstance(node, Not):
        return ("Not", shape(node.child))
    if isinstance(node, Near):
        return (
            "ONEAR" if node.ordered else "NEAR",
            node.distance,
            shape(node.left),
            shape(node.right),
        )
    if isinstance(node, Field):
        return (node.name, shape(node.child))
    assert isinstance(node, Lang)
    return "lang:" + node.code


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a OR b AND c", ("Or", "a", ("And", "b", "c"))),
        ("NOT a AND b", ("And", ("Not", "a"), "b")),
        ("a NEAR/3 b OR c", ("Or", ("NEAR", 3, "a", "b"), "c")),
        ("a ONEAR/0 b NEAR/2 c", ("NEAR", 2, ("ONEAR", 0, "a", "b"), "c")),
        ('"arms transfer*" AND x', ("And", "arms transfer*", "x")),
        ("title:(a OR b) AND lang:pt_BR", ("And", ("title", ("Or", "a", "b")), "lang:pt-br")),
        ("@north-korea NEAR/15 @russia", ("NEAR", 15, "@north-korea", "@russia")),
        ('cs("China")', "china"),
        ("NEARBY AND ORBIT", ("And", "nearby", "orbit")),
        ("(((a)))", "a"),
        # Apostrophes inside words are text; only a word wrapped in quotes is refused.
        ("don't OR O'Brien", ("Or", "don't", "o'brien")),
    ],
)
def test_parse(query: str, expected: object) -> None:
    assert shape(parse(query)) == expected


def test_syntax_error_has_column() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("a AND (b OR")
    assert info.value.column == 12
