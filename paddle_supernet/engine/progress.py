"""A periodic progress line with rate and ETA, and VisualDL scalars.

Example:
    >>> progress = Progress("train", total=400, every_seconds=10)  # doctest: +SKIP
    >>> progress.update(done=120, loss=1.2)  # prints at most every 10 s
    [train] 120/400 (30.0%) 3.21 it/s ETA 1m27s loss=1.2
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path


def format_seconds(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class Progress:
    """Prints ``[name] done/total (pct) rate ETA scalars`` at most every ``every_seconds``."""

    def __init__(self, name: str, total: int, start: int = 0, every_seconds: float = 10.0, unit: str = "it", stream=None,
                 per: str = "s"):
        """``per``: the rate per second (``s``) or per hour (``h``, e.g. archs/hour of an evaluation)."""
        self.name, self.total, self.start, self.unit, self.per = name, total, start, unit, per
        self.every_seconds, self.stream = every_seconds, stream or sys.stdout
        self.t0 = self.last = time.monotonic()

    def update(self, done: int, force: bool = False, **scalars) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every_seconds and done < self.total:
            return
        self.last = now
        rate = (done - self.start) / max(now - self.t0, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        shown = " ".join(f"{k}={v:.4g}" for k, v in scalars.items())
        eta_text = format_seconds(eta) if eta != float("inf") else "?"
        shown_rate = f"{rate * 3600:.0f} {self.unit}/h" if self.per == "h" else f"{rate:.2f} {self.unit}/s"
        print(f"[{self.name}] {done}/{self.total} ({100.0 * done / max(self.total, 1):.1f}%) "
              f"{shown_rate} ETA {eta_text} {shown}".rstrip(), file=self.stream, flush=True)


class JobProgress:
    """The progress of a batch of jobs that end in several threads: after each, one line naming it and
    its outcome, then the whole batch's rate and ETA (jobs already done count from the start).

        >>> jobs = JobProgress("leaderboard", total=39, done=2)  # doctest: +SKIP
        >>> jobs.ended("alg1 seed 0", 0)  # doctest: +SKIP
        [leaderboard] alg1 seed 0: done
        [leaderboard] 3/39 (7.7%) 12 job/h ETA 3h00m00s
    """

    def __init__(self, name: str, total: int, done: int = 0, unit: str = "job"):
        self.name, self.done, self._lock = name, done, threading.Lock()
        self._progress = Progress(name, total, start=done, unit=unit, per="h")

    def ended(self, job: str, code: int) -> None:
        with self._lock:
            self.done += 1
            print(f"[{self.name}] {job}: {'done' if code == 0 else f'exit {code}'}", flush=True)
            self._progress.update(self.done, force=True)


class ScalarLog:
    """Scalars to VisualDL under ``logdir`` (no-op when disabled); opened lazily."""

    def __init__(self, logdir: str | Path, enabled: bool = True):
        self.logdir, self.enabled, self._writer = str(logdir), enabled, None

    def add(self, tag: str, value: float, step: int) -> None:
        if not self.enabled:
            return
        if self._writer is None:
            from visualdl import LogWriter

            self._writer = LogWriter(logdir=self.logdir)
        self._writer.add_scalar(tag=tag, value=float(value), step=int(step))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
