"""Evaluating compiled watches on one scanned document.

A *hit* is ``(field, start, end, first, after, text)``: ``start``/``end`` in the folded text
of that field (what the rules compare), ``first``/``after`` the same span in the original text
and ``text`` that original slice (what a mention reports, resolved once per hit). The scan
(:class:`Scan`) holds every verified hit per term id; a watch's mentions are the hits of its
terms plus those of the query leaves that made the query true, minus the hits its ``exclude``
phrases cover, with overlapping hits collapsed to the longest (rule 8). ``@watch-id`` reuses the
referenced watch's mentions, memoised per document.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from newsradar.normalize import Folded
from newsradar.query import And, Field, Lang, Near, Node, Not, Or, Ref, TermNode
from newsradar.terms import Term

__all__ = [
    "CompiledWatch",
    "Hit",
    "QueryPlan",
    "Scan",
    "collapse",
    "evaluate_watch",
    "reachable",
    "triggers",
]

Hit = tuple[str, int, int, int, int, str]
# A compiled query node: ("term", id) | ("ref", index) | ("and"|"or", children) | ("not", child)
# | ("near", left, right, distance, ordered) | ("field", name, child) | ("lang", code).
Plan = tuple[Any, ...]
_TEXT = ("title", "body")
_WORD = re.compile(r"[^\W_]+")
# Sorts after any (first, last, hit) with the same first word.
_AFTER = 1 << 62


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """A parsed query with its terms replaced by term ids and its refs by watch indexes."""

    root: Plan
    # Term ids and watch indexes whose mentions can make the query report something: the
    # watch needs to be evaluated only when one of these occurred.
    positive_terms: tuple[int, ...]
    positive_refs: tuple[int, ...]
    # Field names the query restricts to (title:, url:...): url and source are scanned only
    # when some query needs them.
    fields: frozenset[str] = frozenset()

    @classmethod
    def build(cls, node: Node, term_id: Callable[[Term], int], index: dict[str, int]) -> QueryPlan:
        terms: list[int] = []
        watch_refs: list[int] = []
        fields: set[str] = set()

        def convert(node: Node, positive: bool) -> Plan:
            if isinstance(node, TermNode):
                tid = term_id(node.term)
                if positive:
                    terms.append(tid)
                return ("term", tid)
            if isinstance(node, Ref):
                if positive:
                    watch_refs.append(index[node.watch_id])
                return ("ref", index[node.watch_id])
            if isinstance(node, And):
                return ("and", tuple(convert(item, positive) for item in node.items))
            if isinstance(node, Or):
                return ("or", tuple(convert(item, positive) for item in node.items))
            if isinstance(node, Not):
                return ("not", convert(node.child, False))
            if isinstance(node, Near):
                left, right = convert(node.left, positive), convert(node.right, positive)
                return ("near", left, right, node.distance, node.ordered)
            if isinstance(node, Field):
                fields.add(node.name)
                child = convert(node.child, positive and node.name in _TEXT)
                return ("field", node.name, child)
            assert isinstance(node, Lang)
            return ("lang", node.code)

        root = convert(node, True)
        if not terms and not watch_refs:
            raise ValueError(
                "nothing in this query can be reported as a mention (only NOT, lang:, url: "
                "or source: conditions); add a term for title or body, e.g. `... AND NATO`"
            )
        return cls(root, tuple(terms), tuple(watch_refs), frozenset(fields))


@dataclass(frozen=True, slots=True)
class CompiledWatch:
    id: str
    terms: tuple[int, ...]
    excludes: tuple[int, ...]
    plan: QueryPlan | None
    min_mentions: int
    # Terms only: no exclusions and no query (the fast path).
    simple: bool = False


class Scan:
    """Everything known about one document while it is being matched."""

    __slots__ = ("folded", "lang", "memo", "occurrences", "originals", "_words")

    def __init__(self, lang: str | None) -> None:
        self.lang = (lang or "").lower().replace("_", "-")
        self.folded: dict[str, Folded] = {}
        self.originals: dict[str, str] = {}
        # Verified hits per term id, in document order per field.
        self.occurrences: dict[int, list[Hit]] = {}
        self.memo: dict[int, list[Hit]] = {}
        self._words: dict[str, list[int]] = {}

    def word_at(self, field: str, position: int) -> int:
        """Index of the word that contains (or precedes) ``position`` in the folded field."""
        starts = self._words.get(field)
        if starts is None:
            folded = self.folded.get(field)
            text = folded.text if folded else ""
            starts = self._words[field] = [m.start() for m in _WORD.finditer(text)]
        return bisect_right(starts, position) - 1


def reachable(start: int, edges: Callable[[int], Iterable[int]]) -> set[int]:
    """``start`` and every watch index it refers to, directly or not."""
    seen: set[int] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(edges(current))
    return seen


def triggers(watches: tuple[CompiledWatch, ...], index: int) -> set[int]:
    """Term ids whose occurrence may make watch ``index`` fire."""
    watch = watches[index]
    if watch.plan is None:
        return set(watch.terms)
    found: set[int] = set()

    def positive_refs(current: int) -> tuple[int, ...]:
        plan = watches[current].plan
        return plan.positive_refs if plan is not None else ()

    for current in reachable(index, positive_refs):
        watch = watches[current]
        found.update(watch.terms)
        if watch.plan is not None:
            found.update(watch.plan.positive_terms)
    return found


def evaluate_watch(watches: tuple[CompiledWatch, ...], index: int, scan: Scan) -> list[Hit]:
    """The mentions of watch ``index`` in the scanned document (memoised per document)."""
    done = scan.memo.get(index)
    if done is not None:
        return done
    watch = watches[index]
    occurrences = scan.occurrences
    excluded = [hit for tid in watch.excludes for hit in occurrences.get(tid, ())]
    hits = [hit for tid in watch.terms for hit in occurrences.get(tid, ())]
    if watch.plan is not None:
        result = _evaluate(watch.plan.root, watches, scan, excluded, _TEXT)
        if result:
            hits.extend(result)
    if excluded and hits:
        hits = _uncovered(hits, excluded)
    hits = collapse(hits)
    scan.memo[index] = hits
    return hits


def _uncovered(hits: list[Hit], excluded: list[Hit]) -> list[Hit]:
    """The hits no exclusion covers (exclusions by start, with the furthest end so far)."""
    by_field: dict[str, tuple[list[int], list[int]]] = {}
    for field, start, end, *_ in sorted(excluded):
        starts, furthest = by_field.setdefault(field, ([], []))
        starts.append(start)
        furthest.append(max(end, furthest[-1]) if furthest else end)
    kept = []
    for hit in hits:
        found = by_field.get(hit[0])
        if found is not None:
            i = bisect_right(found[0], hit[1]) - 1
            if i >= 0 and found[1][i] >= hit[2]:
                continue
        kept.append(hit)
    return kept


def collapse(hits: list[Hit]) -> list[Hit]:
    """Rule 8: overlapping hits of one watch collapse to the longest (then the first)."""
    if len(hits) < 2:
        return hits
    ordered = sorted(set(hits), key=_order)
    previous = ordered[0]
    for hit in ordered[1:]:
        if hit[0] == previous[0] and hit[1] < previous[2]:
            break
        previous = hit
    else:
        return ordered
    # Longest first; each kept hit is checked against its neighbours among those kept.
    kept: dict[str, tuple[list[int], list[int]]] = {}
    result: list[Hit] = []
    for hit in sorted(ordered, key=lambda h: (h[1] - h[2], _order(h))):
        starts, ends = kept.setdefault(hit[0], ([], []))
        i = bisect_left(starts, hit[1])
        if (i > 0 and ends[i - 1] > hit[1]) or (i < len(starts) and starts[i] < hit[2]):
            continue
        starts.insert(i, hit[1])
        ends.insert(i, hit[2])
        result.append(hit)
    return sorted(result, key=_order)


def _order(hit: Hit) -> tuple[bool, str, int, int]:
    # Title first, then body, then by position.
    return (hit[0] != "title", hit[0], hit[1], hit[2])


def _evaluate(
    plan: Plan,
    watches: tuple[CompiledWatch, ...],
    scan: Scan,
    excluded: list[Hit],
    fields: tuple[str, ...],
) -> list[Hit] | None:
    """``None`` when the node is false, else the hits that made it true (maybe none)."""
    kind = plan[0]
    if kind == "term" or kind == "ref":
        if kind == "term":
            source: list[Hit] = scan.occurrences.get(plan[1], [])
        else:
            source = evaluate_watch(watches, plan[1], scan)
        hits = [hit for hit in source if hit[0] in fields]
        if excluded and hits:
            hits = _uncovered(hits, excluded)
        return hits or None
    if kind == "and":
        found: list[Hit] = []
        for child in plan[1]:
            result = _evaluate(child, watches, scan, excluded, fields)
            if result is None:
                return None
            found.extend(result)
        return found
    if kind == "or":
        true = False
        found = []
        for child in plan[1]:
            result = _evaluate(child, watches, scan, excluded, fields)
            if result is not None:
                true = True
                found.extend(result)
        return found if true else None
    if kind == "not":
        return [] if _evaluate(plan[1], watches, scan, excluded, fields) is None else None
    if kind == "near":
        left = _evaluate(plan[1], watches, scan, excluded, fields)
        right = _evaluate(plan[2], watches, scan, excluded, fields) if left else None
        if not left or not right:
            return None
        return _near(scan, left, right, plan[3], plan[4])
    if kind == "field":
        return _evaluate(plan[2], watches, scan, excluded, (plan[1],))
    assert kind == "lang"
    code: str = plan[1]
    return [] if scan.lang == code or scan.lang.startswith(code + "-") else None


def _near(
    scan: Scan, left: list[Hit], right: list[Hit], distance: int, ordered: bool
) -> list[Hit] | None:
    """Hits of ``left`` and ``right`` with at most ``distance`` words between a pair."""
    # Right-hand hits by first word, so each left hit only looks at those within reach.
    words: dict[str, list[tuple[int, int, Hit]]] = {}
    for b in right:
        words.setdefault(b[0], []).append(
            (scan.word_at(b[0], b[1]), scan.word_at(b[0], b[2] - 1), b)
        )
    for spans in words.values():
        spans.sort()
    widest = max(last - first for spans in words.values() for first, last, _ in spans)
    used: set[Hit] = set()
    for a in left:
        spans = words.get(a[0], [])
        if not spans:
            continue
        a_first, a_last = scan.word_at(a[0], a[1]), scan.word_at(a[0], a[2] - 1)
        low = bisect_left(spans, (a_first - distance - widest - 1,))
        high = bisect_right(spans, (a_last + distance + 1, _AFTER))
        for b_first, b_last, b in spans[low:high]:
            # Two different mentions: a hit is never near itself, nor near a hit it overlaps
            # ("Korea" inside "North Korea"), so `Russia NEAR/3 Russia` needs two of them.
            if (ordered and b[1] <= a[1]) or (b[1] < a[2] and a[1] < b[2]):
                continue
            between = b_first - a_last - 1 if a[1] <= b[1] else a_first - b_last - 1
            if between <= distance:
                used.add(a)
                used.add(b)
    return sorted(used, key=_order) if used else None
