"""Matching speed: the compiled watchlist against flashtext, and at 100,000 watches.

    python -m bench.matching [--quick]

Texts: Reuters-21578 articles (``../shared/corpus/reuters21578/*.sgm.gz``, or
``$NEWSRADAR_SHARED/corpus/...``). Watches are generated deterministically from the corpus's own
vocabulary (capitalised 1-3 word n-grams, most frequent first), so terms really occur.

1. 10,000 term-only watches: newsradar's :class:`Matcher` and flashtext's ``KeywordProcessor``
   with the same terms, side by side over the same texts (title and body). Ratio = newsradar
   articles/s over flashtext articles/s (higher is better; target >= 3x).
2. 100,000 watches, one in five a NEAR or AND query over two vocabulary terms: compile time,
   articles/s on one core, and peak RSS, measured in a fresh child process.
"""

from __future__ import annotations

import gzip
import html
import json
import random
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._aeb import shared_dir
from bench._row import row
from newsradar.config import WatchConfig
from newsradar.match import Document, Matcher

STAGE = "matching"
_ARTICLE = re.compile(r"<REUTERS.*?</REUTERS>", re.S)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_WORD = r"(?:[A-Z][a-z]{2,}|[A-Z]{2,5})"
_CAPS_RUN = re.compile(rf"\b{_WORD}(?:[ -]{_WORD})*\b")
_LOWER_WORD = re.compile(r"\b[a-z]+\b")


def load_reuters(limit: int | None = None) -> list[Document]:
    """Reuters articles that have a body, in corpus order."""
    docs: list[Document] = []
    paths = sorted((shared_dir() / "corpus" / "reuters21578").glob("*.sgm.gz"))
    if not paths:
        raise FileNotFoundError(
            f"no Reuters corpus under {shared_dir()}/corpus/reuters21578; "
            "set NEWSRADAR_SHARED to the shared directory"
        )
    for path in paths:
        raw = gzip.decompress(path.read_bytes()).decode("latin-1")
        for article in _ARTICLE.findall(raw):
            body = _BODY.search(article)
            if not body:
                continue
            title = _TITLE.search(article)
            docs.append(
                Document(
                    title=html.unescape(title.group(1)) if title else "",
                    body=html.unescape(body.group(1)),
                    source="reuters",
                    lang="en",
                )
            )
            if limit is not None and len(docs) >= limit:
                return docs
    return docs


def vocabulary(docs: list[Document]) -> list[str]:
    """Names of the corpus: capitalised 1-3 word n-grams, most frequent first (ties by text).

    Only names: an n-gram with a word that occurs more often in lower case ("The", "But",
    "Sales") is a sentence start, not something anyone would watch.
    """
    counts: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for doc in docs:
        lower.update(_LOWER_WORD.findall(doc.body))
        for run in _CAPS_RUN.findall(doc.body):
            words = re.split(r"[ -]", run)
            capital.update(words)
            for n in (1, 2, 3):
                counts.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    names = [
        (text, n)
        for text, n in counts.items()
        if all(lower[w.lower()] < capital[w] for w in text.split(" "))
    ]
    return [text for text, _ in sorted(names, key=lambda kv: (-kv[1], kv[0]))]


def term_watches(
    vocab: list[str], count: int, *, per_watch: int = 2, frequent: bool = False
) -> list[WatchConfig]:
    """``count`` watches of ``per_watch`` names each.

    By default names are drawn uniformly (fixed seed) from the vocabulary, as a watchlist of
    entities is: most are rarely in the news. ``frequent`` takes the most frequent names
    instead, so that nearly every capitalised word of every article is watched (a stress case).
    """
    slots = count * per_watch
    if frequent:
        picks = [vocab[i % len(vocab)] for i in range(slots)]
    else:
        rng = random.Random(20_260_101)
        picks = [vocab[rng.randrange(len(vocab))] for _ in range(slots)]
    return [
        WatchConfig(id=f"w{i}", terms=tuple(picks[i * per_watch : (i + 1) * per_watch]))
        for i in range(count)
    ]


def mixed_watches(vocab: list[str], count: int) -> list[WatchConfig]:
    """Two-name watches, and every fifth watch a NEAR or AND query over two names."""
    rng = random.Random(20_260_102)
    watches = []
    for i in range(count):
        a, b = vocab[rng.randrange(len(vocab))], vocab[rng.randrange(len(vocab))]
        if i % 10 == 0:
            watches.append(WatchConfig(id=f"q{i}", query=f'"{a}" NEAR/10 "{b}"'))
        elif i % 10 == 5:
            watches.append(WatchConfig(id=f"q{i}", query=f'"{a}" AND ("{b}" OR NOT lang:fr)'))
        else:
            watches.append(WatchConfig(id=f"w{i}", terms=(a, b)))
    return watches


def _cpu_rate(func: Any, docs: list[Document]) -> tuple[float, int]:
    """Articles per CPU-second of this process (the machine is shared: wall time is noise)."""
    found = 0
    start = time.process_time()
    for doc in docs:
        found += func(doc)
    return len(docs) / max(time.process_time() - start, 1e-9), found


def versus_flashtext(
    docs: list[Document], vocab: list[str], count: int, *, frequent: bool = False
) -> dict[str, Any]:
    """Both engines with the same terms over the same texts, interleaved in chunks."""
    from flashtext import KeywordProcessor

    watches = term_watches(vocab, count, frequent=frequent)
    matcher = Matcher.compile(watches)
    processor = KeywordProcessor()
    by_term: dict[str, list[str]] = {}
    for watch in watches:
        for term in watch.terms:
            processor.add_keyword(term)
            by_term.setdefault(term.lower(), []).append(watch.id)

    def ours(doc: Document) -> int:
        return len(matcher.match(doc))

    def theirs(doc: Document) -> int:
        fired: set[str] = set()
        for text in (doc.title, doc.body):
            for keyword, _, _ in processor.extract_keywords(text, span_info=True):
                fired.update(by_term.get(keyword.lower(), ()))
        return len(fired)

    ours(docs[0]), theirs(docs[0])  # warm caches on both sides
    ours_s = theirs_s = 0.0
    ours_found = theirs_found = 0
    chunks = [docs[i : i + 500] for i in range(0, len(docs), 500)]
    for number, chunk in enumerate(chunks):
        # Alternate who goes first so that drift in machine load hits both sides alike.
        order = (ours, theirs) if number % 2 == 0 else (theirs, ours)
        for func in order:
            rate, found = _cpu_rate(func, chunk)
            if func is ours:
                ours_s, ours_found = ours_s + len(chunk) / rate, ours_found + found
            else:
                theirs_s, theirs_found = theirs_s + len(chunk) / rate, theirs_found + found
    return {
        "ours": len(docs) / ours_s,
        "theirs": len(docs) / theirs_s,
        "ours_found": ours_found,
        "theirs_found": theirs_found,
    }


def flashtext_rows(docs: list[Document], vocab: list[str], count: int) -> list[dict[str, Any]]:
    rows = []
    for frequent in (False, True):
        r = versus_flashtext(docs, vocab, count, frequent=frequent)
        ratio = r["ours"] / r["theirs"]
        how = (
            "the most frequent names of the corpus (stress case: nearly every capitalised "
            "word of every article is watched)"
            if frequent
            else f"names drawn uniformly from the corpus's {len(vocab):,} names"
        )
        rows.append(
            _row(
                f"throughput, {count:,} term-only watches"
                + (", stress case" if frequent else "")
                + " (articles per CPU-s, higher is better)",
                r["ours"],
                "flashtext KeywordProcessor",
                r["theirs"],
                "articles/s",
                "informational" if frequent else ">= 3x",
                None if frequent else ratio >= 3,
                f"{len(docs):,} Reuters articles (title + body); {count:,} watches x 2 terms, "
                f"{how}; watch firings per article: newsradar {r['ours_found'] / len(docs):.1f}, "
                f"flashtext {r['theirs_found'] / len(docs):.1f} (flashtext keeps only the "
                "longest of overlapping keywords and has no acronym or case rules); per "
                "article, newsradar = Matcher.match (fold, scan, rules, Mention objects with "
                "watch, field, start/end in the original text and the text), flashtext = "
                "extract_keywords(span_info=True) on title and on body plus a keyword -> "
                "watches lookup; chunks of 500 articles alternate which goes first; CPU time",
            )
        )
    return rows


def _row(
    measure: str,
    value: float,
    baseline_name: str,
    baseline: float,
    unit: str,
    target: str,
    met: bool | None,
    notes: str,
) -> dict[str, Any]:
    return row(
        STAGE, measure, value, baseline_name, baseline, unit=unit, target=target, met=met,
        notes=notes,
    )  # fmt: skip


def at_scale(docs_limit: int | None, count: int) -> dict[str, Any]:
    """Child-process half of the 100,000-watch measure (fresh RSS)."""
    corpus = load_reuters(None)
    docs = corpus[:docs_limit] if docs_limit else corpus
    vocab = vocabulary(corpus)
    watches = mixed_watches(vocab, count)
    del corpus
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, wall = time.process_time(), time.perf_counter()
    matcher = Matcher.compile(watches)
    compile_s, compile_wall = time.process_time() - start, time.perf_counter() - wall
    rate, found = _cpu_rate(lambda d: len(matcher.match(d)), docs)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "compile_s": compile_s,
        "compile_wall": compile_wall,
        "rate": rate,
        "found": found,
        "docs": len(docs),
        "vocab": len(vocab),
        "peak_mb": peak_kb / 1024,
        "before_mb": rss_before / 1024,
    }


def scale_rows(quick: bool, count: int = 100_000) -> list[dict[str, Any]]:
    limit = "2000" if quick else "none"
    out = subprocess.run(
        [sys.executable, "-m", "bench.matching", "--child", limit, str(count)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if out.returncode != 0:
        raise RuntimeError(f"100,000-watch child process failed:\n{out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    notes = (
        f"{count:,} watches (80% two names, 10% NEAR/10, 10% AND) from the corpus's "
        f"{r['vocab']:,} names; {r['docs']:,} Reuters articles, "
        f"{r['found'] / r['docs']:.1f} watch firings per article; one process, CPU time"
    )
    return [
        _row(
            f"throughput per core, {count:,} watches (articles/s, higher is better)",
            r["rate"],
            "target",
            2000.0,
            "articles/s",
            ">= 2000/s",
            r["rate"] >= 2000,
            notes,
        ),
        _row(
            f"compile time, {count:,} watches (CPU s, lower is better)",
            r["compile_s"],
            "target",
            10.0,
            "s",
            "< 10 s",
            r["compile_s"] < 10,
            f"parse, checks, hashes, Hyperscan and Aho-Corasick builds, once per pass "
            f"({r['compile_wall']:.1f} s wall on the shared machine)",
        ),
        _row(
            f"peak memory, {count:,} watches (MB RSS, lower is better)",
            r["peak_mb"],
            "target",
            1024.0,
            "MB",
            "< 1 GB",
            r["peak_mb"] < 1024,
            f"whole child process incl. corpus and interpreter ({r['before_mb']:.0f} MB before "
            "compiling)",
        ),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    """The report rows (see bench/__init__.py); ``quick`` keeps it to about 20 s."""
    corpus = load_reuters(None)
    vocab = vocabulary(corpus)
    rows = flashtext_rows(corpus[:3000] if quick else corpus, vocab, 10_000)
    rows.extend(scale_rows(quick))
    return rows


def _rows_text(rows: list[dict[str, Any]]) -> Iterator[str]:
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        yield (
            f"{ratio:>8}  {r['measure']}: {r['newsradar']} {r['unit']} "
            f"vs {r['baseline_name']} {r['baseline']} (target {r['target']}, "
            f"met={r['met']})\n          {r['notes']}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        limit = None if sys.argv[2] == "none" else int(sys.argv[2])
        print(json.dumps(at_scale(limit, int(sys.argv[3]))))
    else:
        for line in _rows_text(run("--quick" in sys.argv[1:])):
            print(line)
