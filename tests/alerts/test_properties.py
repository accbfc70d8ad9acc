"""Properties that must hold for any text from outside (Hypothesis)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from newsradar.alerts.digest import Digest, Section, Segment, Story, segments
from newsradar.alerts.message import build_message
from tests.alerts.support import NOW

hostile = st.text(
    alphabet=st.sampled_from(list("aZ <>&\"'\r\n\t:;@,=\x00\x0b\u2028\u202eé中")) | st.characters(),
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(title=hostile, watch=hostile, outlet=hostile)
def test_no_text_from_outside_reaches_the_headers(title: str, watch: str, outlet: str) -> None:
    story = Story(
        story_id="s1", title=(Segment(title or "x"),), url=None, outlet=outlet or "o",
        when="2026-11-29 07:00 UTC", sort_key=NOW, watches=(watch or "w",), snippets=(),
        also_in=(), kind="match",
    )  # fmt: skip
    digest = Digest(
        id="d1",
        recipient="analyst@example.org",
        subject=f"newsradar: 1 story for {watch}",
        sections=(Section(watch or "w", (story,)),),
        alert_ids=("x1",),
    )
    raw = build_message(digest, sender="radar@example.net", now=NOW).as_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_all("To") == ["analyst@example.org"]
    assert msg.get_all("Cc") is None and msg.get_all("Bcc") is None
    assert len(msg.keys()) == 9
    assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    text = draw(st.text(alphabet="ab cd\n", min_size=1, max_size=300))
    starts = sorted(set(draw(st.lists(st.integers(0, len(text) - 1), min_size=1, max_size=8))))
    spans: list[tuple[int, int]] = []
    for start in starts:
        end = min(len(text), start + draw(st.integers(1, 6)))
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    return text, spans


@settings(max_examples=150, deadline=None)
@given(case=text_and_spans(), width=st.integers(20, 200))
def test_snippets_highlight_only_mentions_and_stay_short(
    case: tuple[str, list[tuple[int, int]]], width: int
) -> None:
    text, spans = case
    mentioned = {" ".join(text[s:e].split()) for s, e in spans}
    for snippet in segments(text, spans, width):
        hits = [p.text for p in snippet if p.hit]
        assert all(" ".join(h.split()) in mentioned for h in hits)
        # About `width` characters, plus the mention that opened it and the ellipses.
        assert sum(len(p.text) for p in snippet) <= width + 6 + 4
