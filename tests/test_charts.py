import smtplib
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from newsradar.charts import (
    digest_chart,
    digest_chart_alt,
    digest_chart_png,
    embed_chart,
    story_chart_svg,
)
from newsradar.store import open_reader
from newsradar.trends import build_series, detect_spikes
from tests.conftest import SmtpSink
from tests.trends_data import build_trends_db

D0 = date(2026, 11, 1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_story_chart_is_an_inline_svg_with_the_spike_marked() -> None:
    counts = {D0 + timedelta(days=i): 3 for i in range(20)} | {D0 + timedelta(days=17): 12}
    series = build_series("nato", counts, D0, D0 + timedelta(days=19))
    scan = detect_spikes(series, observed_from=D0, k=3, min_count=5)
    svg = story_chart_svg(
        series.since(D0 + timedelta(days=14)), scan, title="NATO <&>", observed_from=D0
    )
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata" not in svg
    assert "spike: 12" in svg
    assert "NATO &lt;&amp;&gt;" in svg  # matplotlib escapes the text it writes
    assert 'id="figure_1"' not in svg
    assert "before monitoring began" not in svg
    young = story_chart_svg(series, observed_from=D0 + timedelta(days=5))
    assert "before monitoring began" in young
    other = story_chart_svg(build_series("dprk", counts, D0, D0 + timedelta(days=3)))
    ids = lambda s: {p.split('"')[0] for p in s.split(' id="')[1:]}  # noqa: E731
    assert not ids(svg) & ids(other)  # two charts can share one page


def test_digest_chart_png_and_alt_text() -> None:
    series = [
        build_series("nato", {D0 + timedelta(days=3): 7, D0: 1}, D0, D0 + timedelta(days=13)),
        build_series("arms", {}, D0, D0 + timedelta(days=13)),
    ]
    png = digest_chart_png(series, ["nato", "arms"])
    assert png.startswith(PNG_MAGIC) and 2_000 < len(png) < 200_000
    assert digest_chart_alt(series, {"nato": "NATO"}) == (
        "Stories per day, 01 Nov to 14 Nov: NATO 8 (peak 7 on 04 Nov); arms none."
    )
    assert digest_chart_alt([]) == "Stories per day: no data yet."


def test_digest_with_inline_chart_arrives_intact(
    tmp_path: Path, smtp_server: tuple[Controller, SmtpSink]
) -> None:
    last = date(2026, 11, 28)
    planted = build_trends_db(tmp_path / "t.duckdb", last_day=last, days=14)
    with open_reader(planted.path, lock_timeout=5) as con:
        chart = digest_chart(con, ["nato", "dprk"], today=last, labels={"dprk": "North Korea"})
    assert "North Korea" in chart.alt and chart.src == f"cid:{chart.cid}"

    msg = EmailMessage()
    msg["From"] = "newsradar@example.org"
    msg["To"] = "analyst@example.org"
    msg["Subject"] = "newsradar: digest"
    msg.set_content("3 stories")
    msg.add_alternative(f'<p>3 stories</p><img src="{chart.src}" alt="{chart.alt}">', "html")
    embed_chart(msg, chart)

    controller, sink = smtp_server
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as smtp:
        smtp.send_message(msg)
    (_, _, received), *_ = sink.messages
    assert received.get_content_type() == "multipart/alternative"
    html_part, image = None, None
    for part in received.walk():
        if part.get_content_type() == "text/html":
            html_part = part.get_payload(decode=True).decode()
        if part.get_content_type() == "image/png":
            image = part
    assert html_part is not None and image is not None
    assert f'src="cid:{chart.cid}"' in html_part
    assert image["Content-ID"] == f"<{chart.cid}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True) == chart.png  # byte for byte
    related = [p for p in received.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
