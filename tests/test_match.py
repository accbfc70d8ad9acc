"""The matching rules of docs/watchlist.md, each with what must and must not match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsradar.config import WatchConfig, load_watchlist
from newsradar.errors import WatchlistError
from newsradar.match import Document, Matcher, snippet
from newsradar.normalize import fold

FIXTURES = Path(__file__).parent / "fixtures"
WATCHLIST = Path(__file__).parents[1] / "config" / "watchlist.toml"


def watch(id: str = "w", **fields: object) -> WatchConfig:
    return WatchConfig.model_validate({"id": id, **fields})


def texts(
    watches: list[WatchConfig], body: str, title: str = "", **doc: str
) -> dict[str, list[str]]:
    """Mention texts per firing watch; also checks every span against the original."""
    found = Matcher.compile(watches).match(Document(title=title, body=body, **doc))
    for mentions in found.values():
        for m in mentions:
            original = title if m.field == "title" else body
            assert original[m.start : m.end] == m.text
    return {w: [m.text for m in ms] for w, ms in found.items()}


# (rule, terms, exclude, text, mentions expected; [] = must not fire)
RULES = [
    ("1 whole word", ["NATO"], [], "NATO summit", ["NATO"]),
    ("1 not inside a word", ["NATO"], [], "Donato cooks", []),
    ("1 hashtag", ["NATO"], [], "trending: #NATO", ["NATO"]),
    ("1 after hyphen", ["NATO"], [], "non-NATO states", ["NATO"]),
    ("1 before hyphen", ["NATO"], [], "a NATO-led force", ["NATO"]),
    ("1 possessive", ["NATO"], [], "NATO's chief", ["NATO"]),
    ("1 curly possessive", ["NATO"], [], "NATO\u2019s chief", ["NATO"]),
    ("1 digit glues", ["NATO"], [], "NATO2 exercise", []),
    ("1 no substring", ["arms"], [], "firearms and farmsteads", []),
    ("1 punctuation term", ["U.S."], [], "the U.S. army", ["U.S."]),
    ("1 punctuation term inside word", ["U.S."], [], "ABU.S.X", []),
    ("2 accent in text", ["Erdogan"], [], "Erdo\u011fan said", ["Erdo\u011fan"]),
    ("2 accent in term", ["Erdo\u011fan"], [], "ERDOGAN said", ["ERDOGAN"]),
    ("2 dotless and umlaut", ["Turkiye"], [], "T\u00fcrkiye", ["T\u00fcrkiye"]),
    ("2 decomposed accent", ["Jose"], [], "Jose\u0301 said", ["Jose\u0301"]),
    (
        "2 curly apostrophe",
        ["Cote d'Ivoire"],
        [],
        "C\u00f4te d\u2019Ivoire",
        ["C\u00f4te d\u2019Ivoire"],
    ),
    ("2 nbsp", ["Kim Jong Un"], [], "Kim\u00a0Jong Un", ["Kim\u00a0Jong Un"]),
    ("2 fullwidth NFKC", ["NATO"], [], "\uff2e\uff21\uff34\uff2f", ["\uff2e\uff21\uff34\uff2f"]),
    ("2 ligature NFKC", ["fine"], [], "\ufb01ne", ["\ufb01ne"]),
    ("2 different letter", ["Erdogan"], [], "Erdogen said", []),
    ("3 acronym in capitals", ["US"], [], "US troops", ["US"]),
    ("3 acronym not lower", ["US"], [], "told us so", []),
    ("3 acronym not title 2", ["US"], [], "Us and them", []),
    ("3 IS", ["IS"], [], "IS fighters", ["IS"]),
    ("3 IS not Is", ["IS"], [], "Is it? It is.", []),
    ("3 title case 4 letters", ["NATO"], [], "Nato allies", ["Nato"]),
    ("3 not lower 4 letters", ["NATO"], [], "nato allies", []),
    ("3 title case 4 letters DPRK", ["DPRK"], [], "Dprk", ["Dprk"]),
    ("3 no title case 3 letters", ["ROK"], [], "Rok forces", []),
    ("3 in a multi-word term", ["US Army"], [], "the US army", ["US army"]),
    ("3 in a multi-word term lower", ["US Army"], [], "let us army", []),
    ("3 not an acronym", ["Seoul"], [], "SEOUL and seoul", ["SEOUL", "seoul"]),
    ("4 cs exact", ['cs("China")'], [], "China said", ["China"]),
    ("4 cs not lower", ['cs("China")'], [], "fine china", []),
    ("4 cs not upper", ['cs("China")'], [], "CHINA", []),
    ("4 cs keeps accents", ['cs("T\u00fcrkiye")'], [], "Turkiye", []),
    (
        "4 cs typographic",
        ['cs("Cote d\'Ivoire")'],
        [],
        "Cote d\u2019Ivoire",
        ["Cote d\u2019Ivoire"],
    ),
    ("5 prefix", ["transfer*"], [], "transfer, transfers", ["transfer", "transfers"]),
    ("5 prefix -ing", ["transfer*"], [], "transferring", ["transferring"]),
    ("5 prefix not mid-word", ["transfer*"], [], "retransfer", []),
    ("5 multi-word prefix", ["North Korean*"], [], "North Koreans", ["North Koreans"]),
    ("6 hyphen", ["Kim Jong Un"], [], "Kim Jong-un", ["Kim Jong-un"]),
    ("6 line break", ["Kim Jong Un"], [], "Kim Jong\nUn", ["Kim Jong\nUn"]),
    ("6 many spaces", ["Kim Jong Un"], [], "Kim  Jong \n  Un", ["Kim  Jong \n  Un"]),
    ("6 en dash", ["Kim Jong Un"], [], "Kim Jong\u2013Un", ["Kim Jong\u2013Un"]),
    ("6 hyphen in term", ["F-16"], [], "F 16 and F-16", ["F 16", "F-16"]),
    ("6 comma is not a space", ["Kim Jong Un"], [], "Kim Jong, Un", []),
    ("6 after an indented line", ["Kim Jong Un"], [], "said.\n    Kim Jong Un", ["Kim Jong Un"]),
    ("6 line break and indent", ["Kim Jong Un"], [], "Kim\n    Jong Un", ["Kim\n    Jong Un"]),
    ("6 no space", ["Kim Jong Un"], [], "KimJongUn", []),
    ("7 Hangul substring", ["\ud55c\uad6d"], [], "\ud55c\uad6d\uc740", ["\ud55c\uad6d"]),
    ("7 Chinese substring", ["\u4e2d\u56fd"], [], "\u4e2d\u56fd\u653f\u5e9c", ["\u4e2d\u56fd"]),
    ("7 Japanese", ["\u65e5\u672c"], [], "\u65e5\u672c\u306e\u9996\u76f8", ["\u65e5\u672c"]),
    ("7 Latin term in Korean", ["NATO"], [], "NATO\ub294", ["NATO"]),
    ("7 Hangul not split", ["\ud55c\uad6d"], [], "\ud55c \uad6d", []),
    ("8 longest", ["Korea", "North Korea"], [], "North Korea", ["North Korea"]),
    ("8 longest of three", ["Kishida", "Fumio Kishida"], [], "Fumio Kishida", ["Fumio Kishida"]),
    ("8 prefix overlap", ["North Korea", "North Korean*"], [], "North Koreans", ["North Koreans"]),
    (
        "8 exclude covers",
        ["Korea", "Korean"],
        ["North Korea"],
        "North Korea and the Korean peninsula",
        ["Korean"],
    ),
    ("8 exclude phrase", ["North Korea"], ["North Korea Open"], "the North Korea Open", []),
    ("8 exclude elsewhere", ["China"], ["South China Sea*"], "China, South China Seas", ["China"]),
]


@pytest.mark.parametrize(
    ("terms", "exclude", "text", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in RULES],
)
def test_term_rules(terms: list[str], exclude: list[str], text: str, expected: list[str]) -> None:
    found = texts([watch(terms=terms, exclude=exclude)], text)
    assert found.get("w", []) == expected


def test_terms_apply_to_title_and_body() -> None:
    found = Matcher.compile([watch(terms=["NATO"])]).match(Document("NATO chief", "NATO met"))
    assert [(m.field, m.start, m.end) for m in found["w"]] == [("title", 0, 4), ("body", 0, 4)]


def test_watches_are_independent() -> None:
    watches = [watch("a", terms=["Korea"]), watch("b", terms=["North Korea"])]
    assert texts(watches, "North Korea") == {"a": ["Korea"], "b": ["North Korea"]}


@pytest.mark.parametrize(
    ("minimum", "text", "fires"),
    [(2, "NATO and NATO", True), (2, "NATO only", False), (1, "NATO only", True)],
)
def test_min_mentions(minimum: int, text: str, fires: bool) -> None:
    assert bool(texts([watch(terms=["NATO"], min_mentions=minimum)], text)) is fires


# (query, title, body, document metadata, mentions expected or None = must not fire)
QUERIES = [
    ("NATO AND Russia", "", "NATO and Russia", {}, ["NATO", "Russia"]),
    ("NATO AND Russia", "", "NATO only", {}, None),
    ("NATO OR Russia", "", "Russia only", {}, ["Russia"]),
    ("NATO OR Russia", "", "neither", {}, None),
    ("NATO AND NOT Russia", "", "NATO met", {}, ["NATO"]),
    ("NATO AND NOT Russia", "", "NATO and Russia", {}, None),
    ("NATO OR Russia AND Ukraine", "", "NATO", {}, ["NATO"]),
    ("(NATO OR Russia) AND Ukraine", "", "NATO", {}, None),
    ('"arms transfer*"', "", "direct arms transfers", {}, ["arms transfers"]),
    ('"arms transfer*"', "", "transfers of arms", {}, None),
    ("arms NEAR/3 transfer*", "", "transfers of the arms", {}, ["transfers", "arms"]),
    ("arms NEAR/3 transfer*", "", "arms, they said, transferred", {}, ["arms", "transferred"]),
    ("arms NEAR/3 transfer*", "", "arms one two three four transfers", {}, None),
    ("arms NEAR/0 supply", "", "arms.\n    supply", {}, ["arms", "supply"]),
    ("arms NEAR/0 supply", "", "arms.\n    the supply", {}, None),
    ("arms ONEAR/3 transfer*", "", "arms transfers", {}, ["arms", "transfers"]),
    ("arms ONEAR/3 transfer*", "", "transfers of arms", {}, None),
    ("(arms OR weapons) NEAR/2 supply", "", "supply tanks and weapons", {}, ["supply", "weapons"]),
    # A NEAR pairs two different mentions: one mention is never near itself or its own part.
    ("Russia NEAR/3 Russia", "", "Russia denied it", {}, None),
    ("Russia NEAR/3 Russia", "", "Russia and Russia", {}, ["Russia", "Russia"]),
    ("(Russia OR Moscow) NEAR/3 (Moscow OR Kremlin)", "", "Moscow said", {}, None),
    (
        "(Russia OR Moscow) NEAR/3 (Moscow OR Kremlin)",
        "",
        "Moscow, Kremlin",
        {},
        ["Moscow", "Kremlin"],
    ),
    ('Korea NEAR/5 "North Korea"', "", "North Korea", {}, None),
    ('"North Korea" ONEAR/5 Korea', "", "North Korea", {}, None),
    ('Korea NEAR/5 "North Korea"', "", "Korea and North Korea", {}, ["Korea", "North Korea"]),
    ("arms NEAR/2 supply", "arms", "supply", {}, None),
    ('cs("China") AND trade', "", "China trade", {}, ["China", "trade"]),
    ('cs("China") AND trade', "", "fine china trade", {}, None),
    ("title:(NATO) AND Russia", "NATO summit", "Russia", {}, ["NATO", "Russia"]),
    ("title:(NATO) AND Russia", "Summit", "NATO and Russia", {}, None),
    ("body:NATO", "NATO", "Russia", {}, None),
    ("body:NATO", "NATO", "NATO", {}, ["NATO"]),
    ("NATO AND url:(summit)", "", "NATO", {"url": "https://x.org/nato-summit/1"}, ["NATO"]),
    ("NATO AND url:(summit)", "", "NATO", {"url": "https://x.org/nato/1"}, None),
    ("NATO AND source:(dw-asia)", "", "NATO", {"source": "dw-asia"}, ["NATO"]),
    ("NATO AND source:(dw-asia)", "", "NATO", {"source": "bbc"}, None),
    ("NATO AND lang:en", "", "NATO", {"lang": "en-GB"}, ["NATO"]),
    ("NATO AND lang:en", "", "NATO", {"lang": "fr"}, None),
    ("NATO AND NOT lang:fr", "", "NATO", {}, ["NATO"]),
]


@pytest.mark.parametrize(("query", "title", "body", "doc", "expected"), QUERIES)
def test_query_operators(
    query: str, title: str, body: str, doc: dict[str, str], expected: list[str] | None
) -> None:
    found = texts([watch(query=query)], body, title, **doc)
    assert found.get("w") == expected


def test_terms_or_query_either_fires() -> None:
    watches = [watch(terms=["NATO"], query="arms NEAR/2 supply")]
    assert texts(watches, "NATO") == {"w": ["NATO"]}
    assert texts(watches, "arms supply") == {"w": ["arms", "supply"]}
    assert texts(watches, "NATO arms supply") == {"w": ["NATO", "arms", "supply"]}


KOREA = [
    watch("north-korea", terms=["North Korea", "Pyongyang"], exclude=["North Korea Open"]),
    watch("russia", terms=["Russia", "Moscow"]),
]


# (query of watch "w" that refers to the two above, text, mentions of "w" or None)
REFS = [
    ("@north-korea NEAR/5 @russia", "North Korea is assisting Russia", ["North Korea", "Russia"]),
    ("@north-korea NEAR/2 @russia", "Pyongyang, they say, quietly helps Moscow", None),
    ("@north-korea AND @russia", "the North Korea Open and Russia", None),
    (
        "(@north-korea NEAR/15 @russia) AND shell*",
        "Pyongyang sends shells to Moscow",
        ["Pyongyang", "shells", "Moscow"],
    ),
    ("(@north-korea NEAR/15 @russia) AND shell*", "Pyongyang talks to Moscow", None),
    ("title:(@russia) AND @north-korea", "North Korea", None),
]


@pytest.mark.parametrize(("query", "text", "expected"), REFS)
def test_watch_references(query: str, text: str, expected: list[str] | None) -> None:
    found = texts([*KOREA, watch("w", query=query)], text)
    assert found.get("w") == expected


def test_reference_chain_and_field() -> None:
    watches = [
        watch("a", terms=["NATO"]),
        watch("b", query="@a OR Alliance"),
        watch("c", query="title:(@b) AND summit"),
    ]
    found = Matcher.compile(watches).match(Document("NATO", "summit in Madrid"))
    assert [(m.field, m.text) for m in found["c"]] == [("title", "NATO"), ("body", "summit")]


# (watches, watch id named, column, words the message must contain)
ERRORS = [
    ([watch(query="arms transfers")], "w", 6, 'quote the phrase ("arms transfers") or add AND'),
    ([watch(query="NATO and Russia")], "w", 6, "capitals: AND"),
    ([watch(query="NATO NOT Russia")], "w", 6, "AND NOT"),
    ([watch(query="(NATO OR Russia")], "w", 1, "add ')'"),
    ([watch(query="NATO OR Russia)")], "w", 15, "remove it or add '('"),
    ([watch(query='"arms transfer')], "w", 1, "closing"),
    ([watch(query="NATO AND")], "w", 9, "add one"),
    ([watch(query="AND NATO")], "w", 1, "needs a term before it"),
    ([watch(query="arms NEAR supply")], "w", 6, "NEAR/5"),
    ([watch(query="arms near/5 supply")], "w", 6, "capitals: NEAR/5"),
    ([watch(query="arms NEAR/x supply")], "w", 6, "a whole number of words after '/', e.g. NEAR/5"),
    (
        [watch(query="arms ONEAR/-1 supply")],
        "w",
        6,
        "a whole number of words after '/', e.g. ONEAR/5",
    ),
    ([watch(query="NATO AND \u201carms transfers\u201d")], "w", 10, "straight double quotes"),
    ([watch(query="NATO AND \u201eRussia\u201c")], "w", 10, "straight double quotes"),
    ([watch(query="NATO AND 'Russia'")], "w", 10, "straight double quotes"),
    ([watch(query="(arms AND x) NEAR/3 supply")], "w", 14, "move AND/NOT"),
    ([watch(query="foo:(x)")], "w", 1, "use title:, body:"),
    ([watch(query="NATO AND lang:")], "w", 10, "lang:en"),
    ([watch(query="NATO AND ()")], "w", 10, "empty parentheses"),
    ([watch(query="NOT NATO")], "w", 1, "add a term"),
    ([watch(query="url:(nato)")], "w", 1, "add a term"),
    ([watch(query="@nort-korea"), *KOREA], "w", 1, "did you mean @north-korea?"),
    ([watch(query="@w AND x")], "w", 1, "cycle (@w -> @w)"),
    (
        [watch("a", query="@b AND x"), watch("b", query="y OR @a")],
        "b",
        6,
        "cycle (@a -> @b -> @a)",
    ),
    ([watch(terms=["trans*fer"])], "w", 6, "'*' may only end a term"),
    ([watch(terms=["ab*"])], "w", 3, "too short"),
    ([watch(terms=["  "])], "w", 3, "empty term"),
    # Past Hyperscan's pattern limit the compile failed as an internal error (exit 70).
    ([watch(terms=["a" * 20_000])], "w", 1, "longer than 1000 characters"),
    ([watch(terms=["NATO", "b " * 600])], "w", 1, "longer than 1000 characters"),
    ([watch(terms=["cs('China')"])], "w", 1, 'cs("China")'),
    ([watch(query="x AND trans*fer")], "w", 12, "'*' may only end a term"),
]


@pytest.mark.parametrize(("watches", "watch_id", "column", "needle"), ERRORS)
def test_compile_errors_name_watch_column_and_fix(
    watches: list[WatchConfig], watch_id: str, column: int, needle: str
) -> None:
    with pytest.raises(WatchlistError) as info:
        Matcher.compile(watches, source="cfg/watchlist.toml")
    error = info.value
    assert (error.file, error.watch_id, error.column) == ("cfg/watchlist.toml", watch_id, column)
    assert needle in str(error)
    assert f"watch '{watch_id}', column {column}" in str(error)


def test_rule_hash_changes_with_definition_and_references() -> None:
    base = Matcher.compile([watch("a", terms=["NATO"]), watch("b", query="@a AND x")])
    renamed = Matcher.compile([watch("a", terms=["NATO"], name="N"), watch("b", query="@a AND x")])
    edited = Matcher.compile([watch("a", terms=["OTAN"]), watch("b", query="@a AND x")])
    assert base.rule_hash("a") == renamed.rule_hash("a")
    assert base.rule_hash("a") != edited.rule_hash("a")
    assert base.rule_hash("b") != edited.rule_hash("b")  # b refers to a
    assert base.watch_ids == ("a", "b")
    assert 'terms = ["NATO"]' in base.definition("a")
    assert "query = '''@a AND x'''" in base.definition("b")


# Patterns written independently of the engine: where each watch must find the seed story.
SEED_EXPECTED = {
    "nato": r"NATO",
    "north-korea": r"North Korea|Pyongyang",
    "south-korea": r"South Korean?|Seoul",
    "japan": r"Japan(?:ese)?|Fumio Kishida|Kishida|Tokyo",
    "china": r"China(?! Seas)",
    "russia": r"Russia",
    "ukraine": r"Ukraine",
    "united-states": r"US",
    "arms-transfers": r"arms transfers|transferring|weapons(?= into)|supply|tanks|fighter jets",
}


def test_example_watchlist_on_the_seed_story() -> None:
    story = (FIXTURES / "stoltenberg-asia-visit.txt").read_text(encoding="utf-8")
    matcher = Matcher.compile(load_watchlist(WATCHLIST), source=str(WATCHLIST))
    found = matcher.match(Document(title="", body=story))
    assert set(found) == set(SEED_EXPECTED)
    for watch_id, pattern in SEED_EXPECTED.items():
        expected = [m.span() for m in re.finditer(rf"\b(?:{pattern})\b", story)]
        assert [(m.start, m.end) for m in found[watch_id]] == expected, watch_id
        assert all(story[m.start : m.end] == m.text and m.field == "body" for m in found[watch_id])


def test_example_watchlist_composite_watch() -> None:
    matcher = Matcher.compile(load_watchlist(WATCHLIST))
    body = "North Korea has shipped artillery shells to Russia, officials in Seoul said."
    found = matcher.match(Document(title="", body=body))
    assert [m.text for m in found["dprk-russia-munitions"]] == [
        "North Korea",
        "artillery shells",
        "Russia",
    ]


def test_example_watchlist_is_silent_on_an_unrelated_story() -> None:
    story = (FIXTURES / "unrelated-cooking-and-football.txt").read_text(encoding="utf-8")
    title = "Sunday lunch for a crowd, then the derby"
    assert Matcher.compile(load_watchlist(WATCHLIST)).match(Document(title, story)) == {}


SPAN_MATCHER = Matcher.compile([watch(terms=["NATO", "Korea*", "\ud55c\uad6d", "U.S."])])


@given(
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    written=st.sampled_from(["NATO", "Nato", "\uff2e\uff21\uff34\uff2f", "NA\u00adTO"]),
)
# The machine is shared: slow data generation is not a failure of the property.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_spans_point_into_the_original_text(before: str, after: str, written: str) -> None:
    body = f"{before} {written} {after}"
    found = SPAN_MATCHER.match(Document(title=before, body=body))
    mentions = found["w"]
    for m in mentions:
        original = body if m.field == "body" else before
        assert original[m.start : m.end] == m.text
        assert m.text.strip() == m.text and m.text
    assert any(fold(m.text).text == "nato" and m.field == "body" for m in mentions)


@given(text=st.text(max_size=80))
# The machine is shared: slow data generation is not a failure of the property.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fold_offsets_are_ordered_and_in_bounds(text: str) -> None:
    folded = fold(text)
    previous = 0
    for i in range(len(folded.text)):
        start, end = folded.span(i, i + 1)
        assert previous <= start < end <= len(text)
        previous = start


@pytest.mark.parametrize(
    ("text", "start", "end", "width", "expected"),
    [
        ("The head of NATO also urged Seoul.", 12, 16, 200, "The head of NATO also urged Seoul."),
        ("The head of NATO also urged Seoul to act.", 12, 16, 20, "… of NATO also …"),
        ("NATO\nmet  in\tMadrid today", 0, 4, 14, "NATO met in …"),
        ("far away words then NATO", 20, 24, 12, "… then NATO"),
    ],
)
def test_snippet(text: str, start: int, end: int, width: int, expected: str) -> None:
    assert snippet(text, start, end, width) == expected


@pytest.mark.parametrize(
    ("watches", "needle"),
    [
        ([watch(query="(" * 3000 + "a" + ")" * 3000)], "nests too deeply"),
        (
            [watch(f"w{i}", query=f"@w{i + 1} OR x") for i in range(40)]
            + [watch("w40", terms=["a"])],
            "more than 32 deep",
        ),
    ],
)
def test_too_deep_is_an_error_not_a_crash(watches: list[WatchConfig], needle: str) -> None:
    with pytest.raises(WatchlistError, match=needle):
        Matcher.compile(watches)


# (sentence, does the example "arms-transfers" watch fire): everyday senses of its words
# next to a weapon word must not make it fire; real transfers must.
ARMS_SENTENCES = [
    ("Another U.S. firm may be used to supply radiator tanks for the plant.", False),
    ("The incumbent has the sales tax weapon, the professor said.", False),
    ("Air and missile raids prevented it from exporting oil.", False),
    ("Aircraft delivering dozens of weapons struck a group of buildings.", False),
    ("Strikes destroyed three supply caches and two artillery systems.", False),
    ("The think tank supplies research to the ministry.", False),
    ("The state-owned arms manufacturer is up for sale.", False),
    ("It agreed to supply tanks to Poland.", True),
    ("Paris suspended deliveries of fighter jets to Egypt.", True),
    ("He admitted it was wrong to sell arms to Iran.", True),
]


@pytest.mark.parametrize(("sentence", "fires"), ARMS_SENTENCES)
def test_example_arms_watch_on_everyday_senses(sentence: str, fires: bool) -> None:
    found = Matcher.compile(load_watchlist(WATCHLIST)).match(Document(title="", body=sentence))
    assert ("arms-transfers" in found) is fires
