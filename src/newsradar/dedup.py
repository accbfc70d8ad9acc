"""Near-duplicate stories: articles whose bodies overlap heavily share a ``story_id``.

Each body becomes a set of word 5-gram shingles, summarised in a 64-value MinHash signature
(one-permutation hashing with rotation densification: one hash per shingle, so a long
article costs about a millisecond) and indexed with LSH (32 bands of 2 values). A candidate
joins an existing story when the estimated Jaccard similarity reaches ``jaccard`` (0.5), or
when the estimated containment of the shorter text in the longer reaches ``containment``
(0.8) and their sizes are comparable: a wire story under different boilerplate, or a trimmed
copy of it. The first article of a story is its lead, and the story id is the lead's id.

Exact copies (the same headline and body, :func:`newsradar.identity.copy_key`) join the story
of the first one whatever their length: a one-line brief has too few shingles to compare, but
two feeds carrying it word for word still carry one story.

The index is incremental: :meth:`StoryIndex.load` rebuilds it from the signatures stored in
DuckDB (``store.stories``), and :meth:`StoryIndex.assign` returns the rows to store next.

    index = StoryIndex.load(load_signatures(con, since=...))
    story_id, is_new = index.assign(article.id, article.text)
    save_signatures(con, index.take_new())        # in the batch's transaction
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SCHEME", "Signature", "SignatureRow", "StoryIndex", "signature", "similarity"]

# The hashing scheme of stored signatures: bump it when signature() changes its values.
SCHEME = 2
NUM_BINS = 64
BANDS = 32
ROWS = NUM_BINS // BANDS
SHINGLE_WORDS = 5
# Fewer shingles than this (a one-line summary) is too little to call two texts one story.
MIN_SHINGLES = 20

_BIN_BITS = 6  # 2**6 == NUM_BINS
_VALUE_BITS = 64 - _BIN_BITS
_VALUE_MASK = (1 << _VALUE_BITS) - 1
_PACK = struct.Struct(f"<{NUM_BINS}Q")
# Word characters as ``\\w`` sees them, for ASCII (index 128 stands for every other code).
_ASCII_WORD = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)] + [False])
_EMPTY = np.zeros(0, dtype=np.uint64)
_BIN_IDS = np.arange(NUM_BINS, dtype=np.uint64)
# Odd multiplier of the word hash, and its inverse modulo 2**64.
_B = np.uint64(0x100000001B3)
_B_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))
# An odd constant per position in the 5-gram, so word order matters.
_GRAM_WEIGHTS = tuple(
    np.uint64((0x9E3779B97F4A7C15 * (2 * k + 1)) & (1 << 64) - 1) for k in range(5)
)


@dataclass(frozen=True, slots=True)
class Signature:
    values: tuple[int, ...]
    # Number of distinct shingles in the text (to estimate containment).
    size: int

    def to_bytes(self) -> bytes:
        return _PACK.pack(*self.values)

    @classmethod
    def from_bytes(cls, data: bytes, size: int) -> Signature:
        return cls(_PACK.unpack(data), size)


@dataclass(frozen=True, slots=True)
class SignatureRow:
    """What the store keeps per article to rebuild the index (table ``story_signatures``)."""

    article_id: str
    story_id: str
    signature: bytes
    shingles: int


def _shingle_hashes(text: str) -> npt.NDArray[np.uint64]:
    """The distinct 64-bit hashes of the text's word 5-grams, sorted.

    Vectorised over the code points of the NFKC-folded text: words are runs of word characters
    (those ``\\w`` matches), each word is hashed by a polynomial over its code points (prefix
    sums, so one pass over the text), and each 5-gram combines its words' hashes, finished by a
    SplitMix64 mix. Stable across processes and versions, unlike ``hash()``.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    is_word = _ASCII_WORD[np.minimum(codes, 128)]
    wide = codes > 127
    if wide.any():
        others = np.unique(codes[wide])
        word_like = np.fromiter((chr(c).isalnum() for c in others.tolist()), bool)
        is_word[wide] = word_like[np.searchsorted(others, codes[wide])]
    # Word boundaries: where is_word flips.
    edges = np.flatnonzero(np.diff(is_word.astype(np.int8), prepend=0, append=0))
    starts, ends = edges[0::2], edges[1::2]
    count = len(starts) - SHINGLE_WORDS + 1
    if count < 1:
        return _EMPTY
    n = len(codes)
    # prefix[k] = sum over j < k of (code_j + 1) * B**(j + 1)  (mod 2**64)
    powers = np.cumprod(np.full(n, _B, dtype=np.uint64))
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum((codes.astype(np.uint64) + np.uint64(1)) * powers, out=prefix[1:])
    # Shift each word's sum back to position 0: multiply by B**-(start + 1) (B is odd, so it
    # is invertible modulo 2**64).
    inverse = np.cumprod(np.full(n, _B_INVERSE, dtype=np.uint64))
    word = _mix(((prefix[ends] - prefix[starts]) * inverse[starts]).astype(np.uint64, copy=False))
    grams = np.zeros(count, dtype=np.uint64)
    for k, weight in enumerate(_GRAM_WEIGHTS):
        grams += word[k : k + count] * weight
    grams = _mix(grams)
    grams.sort()
    return grams[np.concatenate(([True], grams[1:] != grams[:-1]))]


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser, element-wise (uint64 arithmetic wraps)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def signature(text: str) -> Signature | None:
    """The text's signature, or None when it has too few shingles to compare."""
    hashes = _shingle_hashes(text)
    if len(hashes) < MIN_SHINGLES:
        return None
    empty = _VALUE_MASK + 1
    # The hashes are sorted, so each bin (the top bits) is a contiguous run whose first value
    # is the bin's minimum.
    tops = hashes >> np.uint64(_VALUE_BITS)
    firsts = np.searchsorted(tops, _BIN_IDS)
    present = firsts < len(hashes)
    present[present] = tops[firsts[present]] == _BIN_IDS[present]
    bins = [empty] * NUM_BINS
    for b in np.flatnonzero(present).tolist():
        bins[b] = int(hashes[firsts[b]]) & _VALUE_MASK
    # Rotation densification: an empty bin borrows its right neighbour's value, offset by the
    # distance, so two texts agree on it with the same probability as on a filled bin.
    values = list(bins)
    for i in range(NUM_BINS):
        if bins[i] == empty:
            for step in range(1, NUM_BINS):
                j = (i + step) % NUM_BINS
                if bins[j] != empty:
                    values[i] = bins[j] + step * empty
                    break
    return Signature(tuple(v & 0xFFFFFFFFFFFFFFFF for v in values), len(hashes))


def similarity(a: Signature, b: Signature) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment of the smaller in the larger)."""
    jaccard = sum(x == y for x, y in zip(a.values, b.values, strict=True)) / NUM_BINS
    small, large = sorted((a.size, b.size))
    # |A∩B| = J(|A|+|B|)/(1+J)
    containment = min(jaccard * (small + large) / ((1 + jaccard) * small), 1.0)
    return jaccard, containment


def _band_keys(sig: Signature) -> list[tuple[int, ...]]:
    v = sig.values
    return [(band, *v[band * ROWS : (band + 1) * ROWS]) for band in range(BANDS)]


class StoryIndex:
    """Assigns articles to stories, remembering every signature it has seen."""

    def __init__(
        self, *, jaccard: float = 0.5, containment: float = 0.8, size_ratio: float = 0.25
    ) -> None:
        self.jaccard = jaccard
        self.containment = containment
        # Containment is only estimated well when the texts' sizes are comparable.
        self.size_ratio = size_ratio
        self._signatures: dict[str, Signature] = {}
        self._story: dict[str, str] = {}
        self._buckets: dict[tuple[int, ...], list[str]] = {}
        self._new: list[SignatureRow] = []
        # Exact-copy key -> story id (the first article with that key leads).
        self._copies: dict[str, str] = {}

    @classmethod
    def load(cls, rows: Iterable[SignatureRow], **thresholds: float) -> StoryIndex:
        """An index holding stored signatures (``store.stories.load_signatures``)."""
        index = cls(**thresholds)
        for row in rows:
            index._add(
                row.article_id, row.story_id, Signature.from_bytes(row.signature, row.shingles)
            )
        return index

    def add_copies(self, keys: Iterable[tuple[str, str]]) -> None:
        """Remember (copy key, story id) of stored articles, oldest first."""
        for key, story_id in keys:
            self._copies.setdefault(key, story_id)

    def __len__(self) -> int:
        return len(self._story)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._story

    def _add(self, article_id: str, story_id: str, sig: Signature | None) -> None:
        self._story[article_id] = story_id
        if sig is None:
            return
        self._signatures[article_id] = sig
        for key in _band_keys(sig):
            self._buckets.setdefault(key, []).append(article_id)

    def _same_story(self, a: Signature, b: Signature) -> float:
        """A score above 0 when ``a`` and ``b`` carry one story (higher is closer)."""
        jaccard, containment = similarity(a, b)
        if jaccard >= self.jaccard:
            return jaccard
        small, large = sorted((a.size, b.size))
        if containment >= self.containment and small >= self.size_ratio * large:
            return jaccard
        return 0.0

    def find(self, text: str) -> str | None:
        """The story this text belongs to, without recording anything."""
        sig = signature(text)
        return self._best(sig) if sig is not None else None

    def _best(self, sig: Signature) -> str | None:
        candidates: set[str] = set()
        for key in _band_keys(sig):
            candidates.update(self._buckets.get(key, ()))
        best, best_score = None, 0.0
        # Sorted so that ties go to the earliest-stored id deterministically.
        for other in sorted(candidates):
            score = self._same_story(sig, self._signatures[other])
            if score > best_score:
                best, best_score = other, score
        return self._story[best] if best is not None else None

    def assign(self, article_id: str, text: str, copy_key: str | None = None) -> tuple[str, bool]:
        """(story id, is_new_story). An article seen before keeps its story.

        ``copy_key`` (:func:`newsradar.identity.copy_key`): an exact copy of an article
        assigned before joins its story even when the text is too short to compare.
        """
        if article_id in self._story:
            return self._story[article_id], False
        sig = signature(text)
        story = self._copies.get(copy_key) if copy_key else None
        if story is None and sig is not None:
            story = self._best(sig)
        is_new = story is None
        story_id = story or article_id
        self._add(article_id, story_id, sig)
        if copy_key:
            self._copies.setdefault(copy_key, story_id)
        if sig is not None:
            self._new.append(SignatureRow(article_id, story_id, sig.to_bytes(), sig.size))
        return story_id, is_new

    def take_new(self) -> list[SignatureRow]:
        """Rows assigned since the last call, to store with the articles they belong to."""
        rows, self._new = self._new, []
        return rows
