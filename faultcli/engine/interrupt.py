"""Stopping on SIGINT / SIGTERM at a step boundary: the engine finishes the step it is in, saves where it
stopped in ``last.pt`` and raises ``Interrupted``; ``--resume`` continues from that batch. A second signal
stops at once."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from faultcli.errors import TrainingError


class Interrupted(TrainingError):
    """Training stopped on a signal; the run folder and its resumable checkpoint are kept."""

    exit_code = 130  # the shell's code for a process stopped by Ctrl-C


@contextlib.contextmanager
def stop_on_signals(engine: Any) -> Iterator[None]:
    """While training, SIGINT and SIGTERM ask ``engine`` to stop after its current step."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if engine.stop_request is not None:  # asked twice: stop now
            raise KeyboardInterrupt
        engine.stop_request = signal.Signals(signum).name

    # a signal the process was started to ignore (a background job's Ctrl-C) stays ignored
    watched = [sig for sig in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, handler) for sig in watched}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
