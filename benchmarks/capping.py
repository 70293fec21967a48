"""Timing a benchmark step under a cap (SIGALRM), and the peak memory of the process and its children."""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
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
    """Return the peak resident memory of this process and its children together, in MB.

    The largest sum sampled by :class:`TreeSampler` (HermiT runs in child JVMs beside the
    build), or this process's own peak when no sampler ran or the sum never reached it.
    ``RUSAGE_CHILDREN`` is not used: Linux counts in a child's peak the parent's resident
    memory at the moment it was spawned (a child running ``true`` from a process holding
    800 MB reports 810 MB), so adding it counted the build twice (pass 11 reported 2,248 MB).
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max(own, TreeSampler.peak_mb)


class TreeSampler:
    """Sample the resident memory of this process and its descendants every ``interval`` seconds.

    A daemon thread sums ``VmRSS`` over the process tree (``/proc``); the largest sum is kept in
    the class attribute ``peak_mb``. Linux only (elsewhere it samples nothing).
    """

    peak_mb = 0.0

    def __init__(self, interval: float = 0.05) -> None:
        """Start sampling."""
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            TreeSampler.peak_mb = max(TreeSampler.peak_mb, _tree_rss_kb(os.getpid()) / 1024)

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


def _tree_rss_kb(root: int) -> int:
    """Return the summed ``VmRSS`` (kB) of ``root`` and every process descending from it.

    Walks ``/proc/<pid>/task/<tid>/children``; 0 where ``/proc`` does not exist. A child that
    still runs its parent's program is not counted: between fork and exec (``subprocess``
    starting HermiT) it shows the parent's resident pages as its own. One 10^6 first build
    reported 2,047 MB where five others reported 1,100-1,220 MB and the build (1,044 MB)
    and HermiT's two JVMs (159 and 249 MB) peaked at 1.45 GB together: most likely a sample
    taken in that window. The build starts no worker processes of its own program.
    """
    total = 0
    waiting: list[tuple[int, str | None]] = [(root, None)]
    while waiting:
        pid, parent_program = waiting.pop()
        base = Path(f"/proc/{pid}")
        try:
            program = str((base / "exe").readlink())
            status = (base / "status").read_text()
            for task in (base / "task").iterdir():
                waiting += [(int(child), program) for child in (task / "children").read_text().split()]
        except OSError:  # the process ended meanwhile, or no /proc
            continue
        if program == parent_program:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total
