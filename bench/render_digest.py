"""Alert digests: render speed, and a hostile digest checked as a picture in headless Chromium.

    python -m bench.render_digest [--quick]      # rows on stdout, PNG in bench/out/

Rows:
- render time of a 100-story digest (real article bodies from ../shared/corpus/aeb when present)
  through the whole mail path (digest -> Jinja2 text+HTML -> EmailMessage bytes), side by side
  with a minimal baseline (str.format + html.escape of the same stories, no MIME);
- hostile content (``<script>``, ``<img onerror>``, ``javascript:``) rendered by newsradar and,
  as a control, by the same template with autoescaping off, loaded in Debian's headless
  ``chromium``: the number of injected scripts that ran (read back from the DOM) must be 0 for
  newsradar and at least 1 for the control, which proves the probe can see an execution.
The screenshot of the hostile digest is written to ``bench/out/digest.png`` (git-ignored).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from tests.alerts.support import sample_digest

from bench._aeb import aeb_dir
from bench.report_screenshot import CHROMIUM_FLAGS
from newsradar.alerts.digest import Digest, build_digest
from newsradar.alerts.message import build_message
from newsradar.alerts.render import render_html
from newsradar.store.alerts import MatchRow, PendingAlert, StoryArticle

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
NOW = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
WATCHES = {"china": "China", "russia": "Russia", "president": "President", "police": "police"}


def _bodies(limit: int) -> list[tuple[str, str]]:
    """(url, body) of real articles, or synthetic ones when the corpus is not there."""
    truth = aeb_dir() / "ground-truth.json"
    if truth.exists():
        data = json.loads(truth.read_text(encoding="utf-8"))
        pairs = [(v.get("url") or "", v.get("articleBody") or "") for v in data.values()]
        return [(u, b) for u, b in pairs if b][:limit]
    text = (
        "The President met China's foreign minister on Monday while police closed streets. "
        "Russia said the talks would continue. "
    )
    return [(f"https://news.example.org/{i}", text * 8) for i in range(limit)]


def big_digest(stories: int) -> Digest:
    articles: dict[str, StoryArticle] = {}
    matches: list[MatchRow] = []
    alerts: list[PendingAlert] = []
    pool = _bodies(stories * 10)
    # Cycle through the corpus so the digest has `stories` stories even from a small corpus.
    for i, (url, body) in enumerate(pool * (1 + stories * 10 // max(len(pool), 1))):
        fired = []
        for watch_id, term in WATCHES.items():
            for m in re.finditer(rf"\b{re.escape(term)}\b", body):
                matches.append(MatchRow(f"a{i}", watch_id, "body", m.start(), m.end(), term, ""))
                fired.append(watch_id)
        if not fired:
            continue
        title = body.strip().split(". ")[0][:110]
        articles[f"a{i}"] = StoryArticle(
            f"a{i}", f"s{i}", "wire", url, title, body, None, None, "World Wire",
            NOW - timedelta(minutes=i), NOW,
        )  # fmt: skip
        for watch_id in dict.fromkeys(fired):
            alerts.append(
                PendingAlert(f"x{i}-{watch_id}", "analyst@example.org", watch_id, f"s{i}",
                             f"a{i}", "match", "pending", 0, NOW, NOW, None)
            )  # fmt: skip
        if len(articles) == stories:
            break
    return build_digest(
        "analyst@example.org", alerts, articles, matches, {},
        watch_names=WATCHES, tz=ZoneInfo("Europe/Berlin"), snippet_chars=160, max_snippets=3,
    )  # fmt: skip


def baseline_render(digest: Digest) -> str:
    """The least a renderer must do: escape each value and join the strings."""
    out = [f"<h1>{html.escape(digest.subject)}</h1>"]
    for section in digest.sections:
        out.append(f"<h2>{html.escape(section.watch)}</h2>")
        for s in section.stories:
            title = "".join(html.escape(p.text) for p in s.title)
            out.append(f'<h3><a href="{html.escape(s.url or "")}">{title}</a></h3>')
            for snippet in s.snippets:
                out.append(
                    "<p>"
                    + "".join(
                        f"<mark>{html.escape(p.text)}</mark>" if p.hit else html.escape(p.text)
                        for p in snippet
                    )
                    + "</p>"
                )
    return "\n".join(out)


def baseline_mail(digest: Digest) -> bytes:
    """The baseline HTML (and its tag-stripped text) in the same MIME structure as ours."""
    markup = baseline_render(digest)
    msg = EmailMessage()
    msg["Subject"] = digest.subject
    msg.set_content(re.sub(r"<[^>]+>", "", markup), cte="quoted-printable")
    msg.add_alternative(markup, subtype="html", cte="quoted-printable")
    return msg.as_bytes()


def _best_of(fn: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best * 1000


def unsafe_html(digest: Digest) -> str:
    """The control: the same template with autoescaping turned off."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newsradar.alerts", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("digest.html.j2").render(digest=digest)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(binary: str, page: Path, profile: Path, *extra: str) -> str:
    done = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
         *extra, page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.stdout


# Our probe, not part of the mail: a modal alert() would hang headless Chromium, so it is
# replaced by a marker that counts as one more executed payload.
PROBE = (
    "<script>window.alert = function () {"
    " document.body.setAttribute('data-pwned9', '1'); };</script>"
)


def executed_scripts(binary: str, markup: str, workdir: Path) -> int:
    """How many of the hostile payloads ran: they set data-pwned* attributes on <body>."""
    page = workdir / "page.html"
    page.write_text(markup.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = _chromium(binary, page, workdir / "profile", "--dump-dom")
    body = re.search(r"<body[^>]*>", dom)
    return len(re.findall(r'data-pwned\d*="1"', body.group(0))) if body else 0


def screenshot(binary: str, markup: str, png: Path, workdir: Path) -> bool:
    page = workdir / "shot.html"
    page.write_text(markup, encoding="utf-8")
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    _chromium(binary, page, workdir / "profile", f"--screenshot={png}", "--window-size=900,1300")
    return png.exists() and png.stat().st_size > 0


def run(quick: bool) -> list[dict[str, object]]:
    stories = 100
    digest = big_digest(stories)
    repeat = 5 if quick else 20
    source = "corpus/aeb" if aeb_dir().exists() else "synthetic text"
    ours = _best_of(
        lambda: build_message(digest, sender="r@example.org", now=NOW).as_bytes(), repeat
    )
    base = _best_of(lambda: baseline_mail(digest), repeat)
    rows: list[dict[str, object]] = [
        {
            "stage": "alerts",
            "measure": f"render a {digest.story_count}-story digest as a multipart mail, ms "
            "(lower is better)",
            "newsradar": round(ours, 2),
            "baseline_name": "str.format + html.escape, same multipart/alternative MIME",
            "baseline": round(base, 2),
            "ratio": round(ours / base, 2) if base else None,
            "unit": "ms",
            "target": "< 100 ms",
            "met": ours < 100,
            "notes": f"best of {repeat}; bodies from {source}",
        }
    ]
    binary = chromium()
    if binary is None:
        rows.append(
            {"stage": "alerts", "measure": "hostile scripts executed in headless Chromium",
             "newsradar": None, "baseline_name": "autoescape off", "baseline": None,
             "ratio": None, "unit": "scripts", "target": "0", "met": None,
             "notes": "chromium not installed: apt-get install -y chromium"}
        )  # fmt: skip
        return rows
    hostile = sample_digest()
    with tempfile.TemporaryDirectory(prefix="newsradar-chromium-") as tmp:
        work = Path(tmp)
        ran = executed_scripts(binary, render_html(hostile), work)
        control = executed_scripts(binary, unsafe_html(hostile), work)
        png = OUT / "digest.png"
        shot = screenshot(binary, render_html(hostile), png, work)
    rows.append(
        {
            "stage": "alerts",
            "measure": "hostile payloads (<script>, <img onerror>) that ran in headless Chromium "
            "(lower is better)",
            "newsradar": ran,
            "baseline_name": "same template, autoescape off (control: the probe sees executions)",
            "baseline": control,
            "ratio": None,
            "unit": "scripts",
            "target": "0 (control >= 1)",
            "met": ran == 0 and control >= 1,
            "notes": f"screenshot: {png.relative_to(ROOT) if shot else 'not written'}",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(json.dumps(row))
