"""Near-duplicate stories: shingles + MinHash/LSH, leads, and incremental loading."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from newsradar.dedup import (
    MIN_SHINGLES,
    NUM_BINS,
    SCHEME,
    Signature,
    StoryIndex,
    signature,
    similarity,
)
from newsradar.extract import extract_page

PAGES = Path(__file__).parent / "fixtures" / "pages"


def text_of(name: str) -> str:
    return extract_page((PAGES / name).read_bytes(), f"https://example.org/{name}").text


WIRE_A, WIRE_B, OTHER = (
    text_of("wire-outlet-a.html"),
    text_of("wire-outlet-b.html"),
    text_of("other-story.html"),
)
FILLER = "The committee will meet again next week to review the remaining proposals in full."


def test_fixture_texts_differ_in_boilerplate() -> None:
    assert WIRE_A != WIRE_B
    assert "Tokyo bureau" in WIRE_A and "corrected" in WIRE_B


def test_signature_is_deterministic_and_round_trips() -> None:
    sig = signature(WIRE_A)
    assert sig is not None
    assert sig == signature(WIRE_A)
    assert len(sig.values) == NUM_BINS
    assert Signature.from_bytes(sig.to_bytes(), sig.size) == sig
    assert all(0 <= v < 2**64 for v in sig.values)


def test_signature_values_are_pinned() -> None:
    # Stored signatures must keep meeting new ones: a change here needs a new dedup.SCHEME.
    sig = signature(" ".join(f"word{i}" for i in range(80)))
    assert sig is not None
    assert (SCHEME, sig.size, sig.values[:3]) == (
        2, 76, (254476405003457295, 88310696490330973, 516778280275721)
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Plain ASCII words, with punctuation; digits 2024 and snake_case_names too. " * 2,
        "Ünïcode façade — naïve café “quoted” résumé, ÆØÅ and ß straße STRASSE " * 2,
        "北大西洋公约组织 秘书长 访问 日本 和 韩国。 North Korea's 🚀 launch; Kim Jong-un! " * 2,
        "\u00a0non-breaking\u2009spaces\tand\ttabs\nand new-lines  ﬁ ligature ２０２４ " * 2,
    ],
)
def test_shingles_are_the_word_5grams_regex_would_find(text: str) -> None:
    text += " ".join(f"filler{i}" for i in range(MIN_SHINGLES))
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    grams = {tuple(words[i : i + 5]) for i in range(len(words) - 4)}
    sig = signature(text)
    assert sig is not None
    assert sig.size == len(grams)


def test_short_texts_have_no_signature() -> None:
    assert signature("") is None
    assert signature("one two three four five six") is None
    words = " ".join(f"w{i}" for i in range(MIN_SHINGLES + 4))
    assert signature(words) is not None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (WIRE_A, WIRE_A, True),
        (WIRE_A, WIRE_B, True),  # one wire story, two outlets' boilerplate
        (WIRE_A, WIRE_A.upper(), True),  # case-insensitive
        (WIRE_A, WIRE_A[: len(WIRE_A) * 2 // 3], True),  # a trimmed copy
        (WIRE_A, OTHER, False),  # same topic, different story
        (WIRE_A, (FILLER + " ") * 20, False),
    ],
    ids=["identical", "boilerplate", "case", "trimmed", "other-story", "unrelated"],
)
def test_same_story(a: str, b: str, same: bool) -> None:
    index = StoryIndex()
    story, is_new = index.assign("first", a)
    assert (story, is_new) == ("first", True)
    second, second_new = index.assign("second", b)
    assert (second == "first") is same
    assert second_new is not same


def test_similarity_estimates() -> None:
    a, b, other = signature(WIRE_A), signature(WIRE_B), signature(OTHER)
    assert a and b and other
    assert similarity(a, a) == (1.0, 1.0)
    assert similarity(a, b)[0] >= 0.5
    assert similarity(a, other)[0] < 0.2


def test_first_seen_is_the_lead_and_stays_so() -> None:
    index = StoryIndex()
    assert index.assign("lead", WIRE_A) == ("lead", True)
    assert index.assign("copy1", WIRE_B) == ("lead", False)
    assert index.assign("copy2", WIRE_A + " " + FILLER) == ("lead", False)
    assert index.assign("other", OTHER) == ("other", True)
    # Assigning an article again keeps its story.
    assert index.assign("copy1", OTHER) == ("lead", False)
    assert len(index) == 4 and "copy2" in index


def test_exact_copies_of_a_short_text_share_a_story_by_copy_key() -> None:
    index = StoryIndex()
    index.add_copies([("k-brief", "stored-lead")])
    # Too short for a signature: only the copy key can group these.
    assert index.assign("copy", "NATO chief in Seoul.", "k-brief") == ("stored-lead", False)
    assert index.assign("first", "Tokyo hosts talks.", "k-other") == ("first", True)
    assert index.assign("second", "Tokyo hosts talks.", "k-other") == ("first", False)
    assert index.assign("no-key", "Tokyo hosts talks.") == ("no-key", True)


def test_article_without_signature_is_its_own_story() -> None:
    index = StoryIndex()
    assert index.assign("a", "Short teaser.") == ("a", True)
    assert index.assign("b", "Short teaser.") == ("b", True)
    assert [r.article_id for r in index.take_new()] == []


def test_incremental_across_runs() -> None:
    first_run = StoryIndex()
    first_run.assign("lead", WIRE_A)
    first_run.assign("other", OTHER)
    rows = first_run.take_new()
    assert [r.article_id for r in rows] == ["lead", "other"]
    assert first_run.take_new() == []
    second_run = StoryIndex.load(rows)
    assert second_run.assign("copy", WIRE_B) == ("lead", False)
    assert second_run.find(OTHER) == "other"
    assert [(r.article_id, r.story_id) for r in second_run.take_new()] == [("copy", "lead")]


def test_many_distinct_articles_stay_distinct() -> None:
    # Texts built from disjoint vocabularies: no two share a shingle.
    index = StoryIndex()
    for i in range(300):
        text = " ".join(f"t{i}w{j}" for j in range(40))
        assert index.assign(f"a{i}", text) == (f"a{i}", True)
