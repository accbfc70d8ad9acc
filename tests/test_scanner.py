"""The key scanner: every occurrence, overlapping ones too, as character offsets."""

from __future__ import annotations

import pickle
import threading

import pytest

from newsradar.scanner import KeyScanner, Pattern


@pytest.mark.parametrize(
    ("keys", "text", "expected"),
    [
        ([" nato "], " nato and nato ", [(6, 0), (15, 0)]),
        ([" nato "], " donato ", []),
        # Overlapping keys are all reported, in order of end.
        ([" north korea ", " korea ", " north "], " north korea ", [(7, 2), (13, 0), (13, 1)]),
        # Adjacent words share the space between them.
        ([" us "], " us us ", [(4, 0), (7, 0)]),
        # Character offsets, not UTF-8 byte offsets, in text that is not ASCII.
        ([" nato "], " é nato ", [(8, 0)]),
        ([" 북한 ", " nato "], " 북한 nato 북한 ", [(4, 0), (9, 1), (12, 0)]),
        ([" москва "], " в москва ", [(10, 0)]),
        ([" a "], "", []),
    ],
)
def test_ends(keys: list[str], text: str, expected: list[tuple[int, int]]) -> None:
    found = KeyScanner(keys).ends(text)
    assert sorted(found) == found
    assert sorted(found) == sorted(expected)
    for end, key in found:
        assert text[end - len(keys[key]) : end] == keys[key]


def test_no_keys_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        KeyScanner([])


def test_threads_scan_at_once() -> None:
    scanner = KeyScanner([" nato ", " korea "])
    text = " nato korea " * 2000
    expected = scanner.ends(text)
    results: list[list[tuple[int, int]]] = []

    def work() -> None:
        for _ in range(20):
            results.append(scanner.ends(text))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    assert all(found == expected for found in results)


@pytest.mark.parametrize(
    ("text", "found"),
    [("kim  jong", True), ("kim jong", False), ("kim.  jong", False), ("", False), ("a   b", True)],
)
def test_pattern(text: str, found: bool) -> None:
    assert Pattern(rb"[a-z]  +[a-z]").search(text) is found


@pytest.mark.parametrize("compiled", [KeyScanner([" nato "]), Pattern(rb"nato")])
def test_refuses_to_pickle(compiled: object) -> None:
    with pytest.raises(TypeError, match="compile the watchlist in each process"):
        pickle.dumps(compiled)
