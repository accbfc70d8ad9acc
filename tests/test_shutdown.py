"""A stop request waits for the transaction in progress, then takes effect."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from newsradar.shutdown import Terminated, deferred_termination, sigterm_unwinds


class Stop(Exception):
    pass


@pytest.fixture
def stop_on_sigterm() -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, stop)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("stop_on_sigterm")
def test_sigterm_inside_the_block_takes_effect_after_it() -> None:
    steps = []
    # Whatever SIGINT was (a background job starts with it ignored), the block restores it.
    sigint_before = signal.getsignal(signal.SIGINT)
    with pytest.raises(Stop):
        with deferred_termination():
            steps.append("write")
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("commit")
        steps.append("after")  # pragma: no cover

    assert steps == ["write", "commit"]
    assert signal.getsignal(signal.SIGINT) is sigint_before


@pytest.mark.usefixtures("stop_on_sigterm")
def test_no_signal_no_effect_and_handlers_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with deferred_termination():
        pass
    assert signal.getsignal(signal.SIGTERM) is before


def test_outside_the_main_thread_it_does_nothing() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with deferred_termination():
                pass
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []


def test_sigterm_unwinds_raises_terminated_and_says_so() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_unwinds() as terminated:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal lands at the next bytecode: never reached
    assert terminated.is_set()
    assert signal.getsignal(signal.SIGTERM) is before
