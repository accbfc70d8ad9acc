"""Compiling a watchlist: terms parsed and shared, queries planned, references checked.

:func:`compile_watchlist` turns validated watch configurations into what a
:class:`newsradar.match.Matcher` is made of: the compiled watches, the terms, the two
multi-pattern indexes (whole-word keys for :class:`newsradar.scanner.KeyScanner`, the keys
with punctuation or in scripts without spaces in an Aho-Corasick automaton), and per watch its
definition and rule hash. Every problem is a :class:`WatchlistError` naming the watch, the
column and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from newsradar.config import WatchConfig
from newsradar.errors import WatchlistError
from newsradar.evaluate import CompiledWatch, QueryPlan, reachable, triggers
from newsradar.query import QuerySyntaxError, Ref, parse, refs
from newsradar.scanner import KeyScanner
from newsradar.terms import Term, TermError, parse_term

__all__ = ["ENGINE_VERSION", "CompiledWatchlist", "SearchKey", "compile_watchlist"]

# Bump when the meaning of a definition changes, so that rule hashes (and rematch) notice.
ENGINE_VERSION = "newsradar-match/1"
# Longest chain of @references (a refers to b refers to c...): evaluation recurses along it.
MAX_REFERENCE_DEPTH = 32

# A search key's length (padding included), whether it is a prefix, and the ids of its terms
# that need no check and that need a look at the original text.
SearchKey = tuple[int, bool, tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class CompiledWatchlist:
    """Everything a matcher needs, in watchlist order."""

    watches: tuple[CompiledWatch, ...]
    terms: tuple[Term, ...]
    # Whole-word keys (padded with spaces) and, by key index, what each key stands for.
    words: KeyScanner | None
    keys: tuple[SearchKey, ...]
    # Keys with punctuation or in scripts without spaces; values are SearchKeys too.
    literals: ahocorasick.Automaton | None
    # Term id -> indexes of the watches its occurrence may make fire.
    by_trigger: dict[int, tuple[int, ...]]
    definitions: tuple[str, ...]
    hashes: tuple[str, ...]


def compile_watchlist(watches: Sequence[WatchConfig], source: str) -> CompiledWatchlist:
    """Compile ``watches`` (read from ``source``, named in errors)."""
    return _Compiler(watches, source).build()


class _Compiler:
    """Turns validated watch configurations into a :class:`CompiledWatchlist`."""

    def __init__(self, watches: Sequence[WatchConfig], source: str) -> None:
        self.configs = tuple(watches)
        self.source = source
        self.index = {w.id: i for i, w in enumerate(self.configs)}
        self.terms: list[Term] = []
        self.term_ids: dict[Term, int] = {}
        self.by_text: dict[str, int] = {}
        # The @references of each watch's query, in order.
        self.refs: list[list[Ref]] = [[] for _ in self.configs]

    def error(self, watch_id: str, problem: str, column: int | None = None) -> WatchlistError:
        return WatchlistError(self.source, watch_id, problem, column)

    def term_id(self, term: Term) -> int:
        found = self.term_ids.get(term)
        if found is None:
            found = self.term_ids[term] = len(self.terms)
            self.terms.append(term)
        return found

    def parse_terms(self, watch: WatchConfig, key: str, written: Sequence[str]) -> tuple[int, ...]:
        ids: list[int] = []
        for number, text in enumerate(written, start=1):
            known = self.by_text.get(text)
            if known is not None:  # large watchlists repeat the same names
                ids.append(known)
                continue
            try:
                ids.append(self.term_id(parse_term(text)))
                self.by_text[text] = ids[-1]
            except TermError as exc:
                raise self.error(
                    watch.id, f"{key}[{number}] {text!r}: {exc.problem}", exc.column
                ) from None
        return tuple(ids)

    def build(self) -> CompiledWatchlist:
        compiled: list[CompiledWatch] = []
        for watch in self.configs:
            terms = self.parse_terms(watch, "terms", watch.terms)
            excludes = self.parse_terms(watch, "exclude", watch.exclude)
            plan = self.parse_query(watch, len(compiled)) if watch.query else None
            if not terms and plan is None:
                raise self.error(watch.id, "give it `terms` or a `query` (or both)")
            compiled.append(
                CompiledWatch(
                    watch.id,
                    terms,
                    excludes,
                    plan,
                    watch.min_mentions,
                    simple=not excludes and plan is None,
                )
            )
        self.check_cycles()
        watches = tuple(compiled)
        by_trigger: dict[int, list[int]] = {}
        for index in range(len(watches)):
            for term_id in triggers(watches, index):
                by_trigger.setdefault(term_id, []).append(index)
        semantics = tuple(_definition(w) for w in self.configs)
        words, keys = self.scanner()
        return CompiledWatchlist(
            watches,
            tuple(self.terms),
            words,
            keys,
            self.automaton(),
            {t: tuple(ws) for t, ws in by_trigger.items()},
            tuple(_named(w, d) for w, d in zip(self.configs, semantics, strict=True)),
            tuple(self.rule_hash(i, semantics) for i in range(len(self.configs))),
        )

    def parse_query(self, watch: WatchConfig, position: int) -> QueryPlan:
        assert watch.query is not None
        try:
            node = parse(watch.query)
        except QuerySyntaxError as exc:
            raise self.error(watch.id, f"query: {exc.problem}", exc.column) from None
        self.refs[position] = refs(node)
        for ref in self.refs[position]:
            if ref.watch_id not in self.index:
                close = difflib.get_close_matches(ref.watch_id, list(self.index), n=1)
                fix = f"did you mean @{close[0]}?" if close else "define that watch or fix the id"
                raise self.error(
                    watch.id, f"query: unknown watch @{ref.watch_id}; {fix}", ref.column
                )
        try:
            return QueryPlan.build(node, self.term_id, self.index)
        except ValueError as exc:
            raise self.error(watch.id, f"query: {exc}", 1) from None

    def check_cycles(self) -> None:
        done: set[str] = set()

        def visit(watch_id: str, path: list[str]) -> None:
            if watch_id in done:
                return
            if len(path) > MAX_REFERENCE_DEPTH:
                raise RecursionError
            position = self.index[watch_id]
            for found in self.refs[position]:
                ref = found.watch_id
                if ref in path or ref == watch_id:
                    cycle = path[path.index(ref) :] if ref in path else []
                    chain = " -> ".join(f"@{w}" for w in [*cycle, watch_id, ref])
                    raise self.error(
                        watch_id,
                        f"query: @{ref} makes a cycle ({chain}); remove one of these references",
                        found.column,
                    )
                visit(ref, [*path, watch_id])
            done.add(watch_id)

        for watch in self.configs:
            try:
                visit(watch.id, [])
            except RecursionError:
                raise self.error(
                    watch.id,
                    f"query: watch references nest more than {MAX_REFERENCE_DEPTH} deep; "
                    "shorten the chain",
                ) from None

    def keys(self, *, literal: bool) -> dict[tuple[str, bool], SearchKey]:
        """Search key -> (its length, prefix, term ids without and with an original check)."""
        by_key: dict[tuple[str, bool], list[int]] = {}
        for term_id, term in enumerate(self.terms):
            if term.literal == literal:
                by_key.setdefault((term.key, term.prefix), []).append(term_id)
        found: dict[tuple[str, bool], SearchKey] = {}
        for (key, prefix), ids in by_key.items():
            # Terms that need no look at the original text are kept apart: no check per hit.
            plain = tuple(i for i in ids if not self.terms[i].needs_original)
            checked = tuple(i for i in ids if self.terms[i].needs_original)
            found[key, prefix] = (
                len(key) + (0 if literal else 1 if prefix else 2),
                prefix,
                plain,
                checked,
            )
        return found

    def scanner(self) -> tuple[KeyScanner | None, tuple[SearchKey, ...]]:
        """Plain word terms: keys padded with spaces, found by Hyperscan."""
        keys = self.keys(literal=False)
        if not keys:
            return None, ()
        padded = [" " + key + ("" if prefix else " ") for key, prefix in keys]
        return KeyScanner(padded), tuple(keys.values())

    def automaton(self) -> ahocorasick.Automaton | None:
        """Terms with punctuation or in scripts without spaces, found by Aho-Corasick."""
        keys = self.keys(literal=True)
        if not keys:
            return None
        automaton = ahocorasick.Automaton()
        for (key, _), value in keys.items():
            automaton.add_word(key, value)
        automaton.make_automaton()
        return automaton

    def rule_hash(self, index: int, definitions: tuple[str, ...]) -> str:
        seen = (
            reachable(index, lambda current: [self.index[r.watch_id] for r in self.refs[current]])
            if self.refs[index]
            else {index}
        )
        # The watch's own definition first, then those it refers to, in watchlist order.
        ordered = sorted(seen, key=lambda i: (i != index, i))
        text = "\n".join([ENGINE_VERSION, *(definitions[i] for i in ordered)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _definition(watch: WatchConfig) -> str:
    """What the rule hash covers: the watch as TOML without its name."""
    lines = [f"id = {json.dumps(watch.id)}"]
    for key in ("terms", "exclude"):
        values: tuple[str, ...] = getattr(watch, key)
        if values:
            lines.append(f"{key} = {json.dumps(list(values), ensure_ascii=False)}")
    if watch.query and "'''" not in watch.query and not watch.query.endswith("'"):
        lines.append(f"query = '''{watch.query}'''")
    elif watch.query:
        lines.append(f"query = {json.dumps(watch.query, ensure_ascii=False)}")
    if watch.min_mentions != 1:
        lines.append(f"min_mentions = {watch.min_mentions}")
    return "\n".join(lines)


def _named(watch: WatchConfig, definition: str) -> str:
    """The definition shown to people: with the display name after the id."""
    if not watch.name:
        return definition
    first, _, rest = definition.partition("\n")
    name = f"name = {json.dumps(watch.name, ensure_ascii=False)}"
    return "\n".join(part for part in (first, name, rest) if part)
