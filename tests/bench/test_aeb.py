"""The AEB metric (word 4-gram shingles, per-document normalised, F1 of the corpus means)."""

from __future__ import annotations

import pytest
from bench._aeb import score

ARTICLE = "The alliance met in Brussels on Monday to discuss arms transfers to the region"


@pytest.mark.parametrize(
    ("truth", "prediction", "precision", "recall"),
    [
        (ARTICLE, ARTICLE, 1.0, 1.0),
        (ARTICLE, "", 0.0, 0.0),
        (ARTICLE, "Completely unrelated words about football and the weather today", 0.0, 0.0),
        # 10 of the truth's 11 shingles found, plus 3 shingles that start in the menu.
        (ARTICLE, "Home News Sport " + ARTICLE[:-7], 10 / 13, 10 / 11),
        # Punctuation and spacing are not tokens.
        (ARTICLE, ARTICLE.replace(" ", "  ,") + "!", 1.0, 1.0),
        # Fewer than four tokens make one short shingle.
        ("Short one", "Short one", 1.0, 1.0),
    ],
)
def test_document_scores(truth: str, prediction: str, precision: float, recall: float) -> None:
    result = score({"a": truth}, {"a": prediction})

    assert result["precision"] == pytest.approx(precision)
    assert result["recall"] == pytest.approx(recall)


def test_corpus_f1_is_the_harmonic_mean_of_the_mean_precision_and_recall() -> None:
    truth = {"a": ARTICLE, "b": ARTICLE}
    result = score(truth, {"a": ARTICLE, "b": "Home News " + ARTICLE})

    p, r = (1.0 + 11 / 13) / 2, 1.0
    assert result["f1"] == pytest.approx(2 * p * r / (p + r))
    assert result["accuracy"] == 0.5
