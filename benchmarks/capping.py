"""Timing a benchmark step under a cap (SIGALRM), and the peak memory of the process."""

from __future__ import annotations

import resource
import signal
import time
from collections.abc import Callable
from types import FrameType


class Capped(BaseException):
    """A step ran past the cap.

    A BaseException, like KeyboardInterrupt, so that a library's ``except Exception`` does not
    swallow it (the Turtle loader turned it into a syntax error of the file being parsed).
    """


def _alarm(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001 -- signal handler signature
    raise Capped


def arm() -> None:
    """Install the handler that turns the cap's alarm into :class:`Capped` (call once per process)."""
    signal.signal(signal.SIGALRM, _alarm)


def run_step(results: dict[str, float | None], name: str, action: Callable[[], object], cap: float) -> object:
    """Time ``action`` once under the cap; record None if it was cut off.

    rdflib and pySHACL are pure Python, so the alarm interrupts them.
    """
    signal.setitimer(signal.ITIMER_REAL, cap)
    started = time.perf_counter()
    try:
        value = action()
        results[name] = time.perf_counter() - started
        return value
    except Capped:
        results[name] = None
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def peak_mb() -> float:
    """Return this process's peak resident memory plus its largest child's, in MB.

    HermiT runs in a child process beside the build, so the sum is what the two may hold at
    once (an upper bound: their peaks need not coincide).
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024
