"""The matching engine: a whole watchlist compiled once, then applied to each document.

    >>> matcher = Matcher.compile(load_watchlist(Path("config/watchlist.toml")))
    >>> matcher.match(Document(title="NATO chief in Seoul", body="..."))
    {'nato': [Mention(watch_id='nato', field='title', start=0, end=4, text='NATO')], ...}

Every term of every watch (``terms``, ``exclude`` and the words of queries) goes into ONE
multi-pattern index over folded text (:mod:`newsradar.normalize`): whole-word keys in a
Hyperscan literal database (:mod:`newsradar.scanner`), the few keys with punctuation or in
scripts without spaces in an Aho-Corasick automaton. A document is folded and scanned once per
field; each hit is checked against its term's rules (:mod:`newsradar.terms`), and only the
watches one of whose terms occurred are evaluated (:mod:`newsradar.evaluate`). Mentions come
back as spans of the ORIGINAL field text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from newsradar.compiler import CompiledWatchlist, compile_watchlist
from newsradar.config import WatchConfig
from newsradar.evaluate import Hit, Scan, collapse, evaluate_watch
from newsradar.models import Mention
from newsradar.normalize import Folded, fold, fold_words, is_word_char, word_view
from newsradar.snippet import snippet
from newsradar.terms import CAPS_OR_TITLE

__all__ = ["Document", "Matcher", "snippet"]

# Fields mentions are reported for; url and source only serve as conditions in queries.
TEXT_FIELDS = ("title", "body")


@dataclass(frozen=True, slots=True)
class Document:
    """What the matcher reads: the text fields of an article and a little metadata."""

    title: str
    body: str
    url: str = ""
    # Feed id or outlet name, for source:(...).
    source: str = ""
    # Language code ("en", "pt-BR"), for lang:xx.
    lang: str | None = None


class Matcher:
    """A compiled watchlist. Build with :meth:`compile`; :meth:`match` is pure and thread-safe."""

    def __init__(self, compiled: CompiledWatchlist) -> None:
        watches, terms = compiled.watches, compiled.terms
        by_trigger = compiled.by_trigger
        self._watches = watches
        self._terms = terms
        self._words, self._keys = compiled.words, compiled.keys
        self._literals = compiled.literals
        # Per term id: the term-only watches it belongs to, as (index, id, its other terms,
        # min_mentions), so that match() goes from the few terms that occurred straight to
        # the watches they make fire; and the other watches it may make fire.
        solo: list[list[_Solo]] = [[] for _ in terms]
        for index, w in enumerate(watches):
            if w.simple:
                # Two spellings of one term ("Korea", "korea") share an id: once is enough.
                for term_id in dict.fromkeys(w.terms):
                    others = tuple(t for t in dict.fromkeys(w.terms) if t != term_id)
                    solo[term_id].append((index, w.id, others, w.min_mentions))
        self._solo = tuple(tuple(entries) for entries in solo)
        self._by_trigger = {
            term_id: composite
            for term_id, indexes in by_trigger.items()
            if (composite := tuple(i for i in indexes if not watches[i].simple))
        }
        # Per term: the acronym mode when it is a one-word acronym (rule 3), which a hit in
        # ASCII text can check with two str methods; 0 when Term.accepts must decide.
        self._acronym = tuple(
            t.acronyms[0] if len(t.acronyms) == 1 and not t.case_sensitive else 0 for t in terms
        )
        self._definitions = compiled.definitions
        self._hashes = compiled.hashes
        self._index = {w.id: i for i, w in enumerate(watches)}
        self._conditions = frozenset(
            name for w in watches if w.plan is not None for name in w.plan.fields
        ) - set(TEXT_FIELDS)

    @classmethod
    def compile(cls, watches: Sequence[WatchConfig], *, source: str = "watchlist.toml") -> Matcher:
        """Compile watches; raises :class:`WatchlistError` naming the watch, column and fix."""
        return cls(compile_watchlist(watches, source))

    @property
    def watch_ids(self) -> tuple[str, ...]:
        return tuple(w.id for w in self._watches)

    def rule_hash(self, watch_id: str) -> str:
        """Hash of the watch definition, including the watches it refers to."""
        return self._hashes[self._index[watch_id]]

    def definition(self, watch_id: str) -> str:
        """The watch as TOML text (stored in ``watches.definition`` for reference)."""
        return self._definitions[self._index[watch_id]]

    def match(self, doc: Document) -> dict[str, list[Mention]]:
        """Mentions per watch, for the watches that fire on ``doc`` (in watchlist order)."""
        if self._words is None and self._literals is None:
            return {}
        scan = Scan(doc.lang)
        fields = [("title", doc.title)] if doc.title else []
        if doc.body:
            fields.append(("body", doc.body))
        # url and source are only ever conditions of queries: scanned when a query asks.
        if self._conditions:
            if doc.url and "url" in self._conditions:
                fields.append(("url", doc.url))
            if doc.source and "source" in self._conditions:
                fields.append(("source", doc.source))
        self._scan(scan, fields)
        occurrences = scan.occurrences
        if not occurrences:
            return {}
        # (watch index, watch id, mentions as hits) of every watch that fires.
        fired: list[tuple[int, str, list[Hit]]] = []
        # Watches to evaluate in full: with a query or exclusions, or with hits of more than
        # one of their terms (which may overlap: rule 8).
        composite: set[int] = set()
        solo, by_trigger = self._solo, self._by_trigger
        keep_text_only = bool(self._conditions)
        for term_id, hits in occurrences.items():
            entries = solo[term_id]
            if entries:
                if keep_text_only:
                    hits = [h for h in hits if h[0] in TEXT_FIELDS]
                count = len(hits)
                for index, watch_id, others, min_mentions in entries:
                    for other in others:
                        if other in occurrences:
                            composite.add(index)
                            break
                    else:
                        if count and count >= min_mentions:
                            fired.append((index, watch_id, hits))
            if by_trigger:
                composite.update(by_trigger.get(term_id, ()))
        watches = self._watches
        for index in composite:
            watch = watches[index]
            if watch.simple:
                found_hits: list[Hit] = []
                for term_id in watch.terms:
                    more = occurrences.get(term_id)
                    if more:
                        found_hits = collapse(found_hits + more) if found_hits else more
            else:
                found_hits = evaluate_watch(watches, index, scan)
            if keep_text_only:
                found_hits = [h for h in found_hits if h[0] in TEXT_FIELDS]
            if found_hits and len(found_hits) >= watch.min_mentions:
                fired.append((index, watch.id, found_hits))
        fired.sort()  # watchlist order (an index is never there twice)
        found: dict[str, list[Mention]] = {}
        new, set_watch, set_field, set_start, set_end, set_text = _MENTION_FAST
        for _, watch_id, hits in fired:
            mentions = []
            for hit in hits:
                # Mention(watch_id, field, first, after, text) without the frozen dataclass
                # __init__ (a Python call doing object.__setattr__ per field): about twice as
                # cheap, same object.
                mention = new(Mention)
                set_watch(mention, watch_id)
                set_field(mention, hit[0])
                set_start(mention, hit[3])
                set_end(mention, hit[4])
                set_text(mention, hit[5])
                mentions.append(mention)
            found[watch_id] = mentions
        return found

    def _scan(self, scan: Scan, fields: list[tuple[str, str]]) -> None:
        # Keys with punctuation may span any run of spaces: only they need all runs collapsed.
        folder = fold if self._literals is not None else fold_words
        for name, text in fields:
            scan.folded[name] = folder(text)
            scan.originals[name] = text
        if self._words is not None and fields:
            self._scan_words(scan, fields)
        if self._literals is not None:
            for name, text in fields:
                self._scan_literals(scan, name, text, scan.folded[name])

    def _scan_words(self, scan: Scan, fields: list[tuple[str, str]]) -> None:
        """Whole-word terms: the scan finds them, a few need a look at the original case."""
        assert self._words is not None
        # Keys are " key " (or " key" for a prefix) in a view where every non-word character
        # is a space: a raw hit is already a whole-word hit. All fields are scanned at once,
        # with two spaces between two fields (a key never has two in a row), so each field is
        # padded with one space on either side. An end is the offset after the key's last
        # character; offsets in a field's padded view are one more than in its folded text.
        texts = [scan.folded[name].text for name, _ in fields]
        view = word_view("\0" + "\0\0".join(texts) + "\0")
        found = self._words.ends(view)
        if not found:
            return
        terms, keys, acronym = self._terms, self._keys, self._acronym
        occurrences = scan.occurrences
        field = -1
        limit = base = 0
        name = text = ""
        folded = scan.folded[fields[0][0]]
        same = False
        for last, key in found:
            while last > limit:  # the next field (hits come in order of end)
                field += 1
                base = limit
                limit = base + len(texts[field]) + 2
                name, text = fields[field]
                folded = scan.folded[name]
                # Offsets the same in the original (no map to look up): see fold_words.
                same = folded.starts is None and folded.pieces is None
            size, prefix, plain, checked = keys[key]
            last -= base
            start = last - size
            if prefix:
                stop = view.find(" ", base + last) - base - 1
                end = last - 1
            else:
                end = stop = last - 2
            first, after = (start, stop) if same else folded.span(start, stop)
            hit = (name, start, stop, first, after, text[first:after])
            for term_id in plain:
                seen = occurrences.get(term_id)
                if seen is None:
                    occurrences[term_id] = [hit]
                else:
                    seen.append(hit)
            if not checked:
                continue
            if end != stop:
                first, after = folded.span(start, end)
            written = text[first:after]
            for term_id in checked:
                mode = acronym[term_id]
                if mode and written.isascii():
                    # Term.accepts for one ASCII word: an acronym is written without a lower
                    # case letter, or (4-5 letters) in title case.
                    if not written.isupper() and not (mode == CAPS_OR_TITLE and written.istitle()):
                        continue
                elif not terms[term_id].accepts(written):
                    continue
                occurrences.setdefault(term_id, []).append(hit)

    def _scan_literals(self, scan: Scan, name: str, text: str, folded: Folded) -> None:
        """Terms with punctuation or in scripts without spaces: checked hit by hit."""
        assert self._literals is not None
        haystack = folded.text
        size = len(haystack)
        terms = self._terms
        occurrences = scan.occurrences
        for last, (length, _, plain, checked) in self._literals.iter(haystack):
            start, end = last - length + 1, last + 1
            for term_id in plain + checked:
                term = terms[term_id]
                if not term.at_boundaries(haystack, start, end):
                    continue
                stop = end
                if term.prefix:
                    while stop < size and is_word_char(haystack[stop]):
                        stop += 1
                if term.needs_original:
                    first, after = folded.span(start, end)
                    if not term.accepts(text[first:after]):
                        continue
                first, after = folded.span(start, stop)
                occurrences.setdefault(term_id, []).append(
                    (name, start, stop, first, after, text[first:after])
                )


# A term-only watch as seen from one of its terms: index, id, its other terms, min_mentions.
_Solo = tuple[int, str, tuple[int, ...], int]

# object.__new__ and the slot descriptors of Mention, in field order (see Matcher.match; a
# field appended to Mention breaks the unpacking there loudly, never silently).
_MENTION_FAST: tuple[Any, ...] = (
    object.__new__,
    *(Mention.__dict__[f.name].__set__ for f in fields(Mention)),
)
