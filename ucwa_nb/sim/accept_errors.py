"""One log line per burst of failed ``accept()`` calls, with a count, instead of a traceback
for each.

When the process has no file descriptor left (EMFILE; ENFILE: the whole system), asyncio's
accept loop (``BaseSelectorEventLoop._accept_connection``) logs "socket.accept() out of
system resource" with a traceback for each connection it could not accept, up to the
listen backlog (uvicorn's: 2,048) every second until files are free again: 7,925 tracebacks
for 400 idle connections against a limit of 256. The connections are not lost (they wait in
the backlog and asyncio retries), so the server stays usable; the noise hides everything
else. ``AcceptErrorSummary`` is a ``logging.Filter`` on the ``asyncio`` logger that drops
those records and, once a burst is over (no failure for ``quiet`` seconds) or every
``every`` seconds while it lasts, logs one warning on ``ucwa_nb.sim.server``::

    accept() failed 7925 times in 4.1 s: [Errno 24] Too many open files (this process may
    open 256 files); the waiting connections were accepted once files were free

Every other asyncio record passes unchanged. ``install()`` and ``uninstall()`` count the
running servers of the process (several simulators share one ``asyncio`` logger).
"""

from __future__ import annotations

import errno
import logging
import resource
import threading
import time
from collections.abc import Callable
from typing import Final

__all__ = ["AcceptErrorSummary", "install", "uninstall"]

_OUT_OF_FILES: Final = frozenset({errno.EMFILE, errno.ENFILE})
log = logging.getLogger("ucwa_nb.sim.server")


def _file_limit() -> str:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return "any number of" if soft == resource.RLIM_INFINITY else str(soft)


class AcceptErrorSummary(logging.Filter):
    """Drops asyncio's per-connection accept() EMFILE/ENFILE records; summarises each burst
    in one warning. ``quiet``: seconds without a failure that end a burst; ``every``: the
    longest a burst goes without a line; ``now`` is the clock (tests move it)."""

    def __init__(self, quiet: float = 3.0, every: float = 60.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.quiet, self.every, self.now = quiet, every, now
        self._lock = threading.Lock()
        self._count = 0
        self._started = self._last = 0.0
        self._error = ""
        self._timer: threading.Timer | None = None

    @staticmethod
    def is_accept_failure(record: logging.LogRecord) -> bool:
        """asyncio's record of an accept() that failed for want of a file descriptor."""
        error = record.exc_info[1] if record.exc_info else None
        return (record.name == "asyncio" and isinstance(error, OSError)
                and error.errno in _OUT_OF_FILES and "accept" in str(record.msg))

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop) for an accept failure, counted toward the burst's line."""
        if not self.is_accept_failure(record):
            return True
        assert record.exc_info is not None
        with self._lock:
            now = self.now()
            if self._count == 0:
                self._started = now
                self._error = str(record.exc_info[1])
                self._schedule(self.quiet)
            self._count += 1
            self._last = now
        return False

    def _schedule(self, delay: float) -> None:
        # A thread timer rather than the loop's call_later: the line is due even if the
        # loop is the one starved of files, and it works for any loop logging to asyncio.
        self._timer = threading.Timer(delay, self.flush)
        self._timer.daemon = True
        self._timer.start()

    def flush(self, *, force: bool = False) -> None:
        """Log the burst's line if it is over (or ``force``, or it has run ``every``
        seconds); otherwise look again when it could be."""
        with self._lock:
            if self._count == 0:
                return
            now = self.now()
            over = now - self._last >= self.quiet
            if not (force or over or now - self._started >= self.every):
                self._schedule(min(self.quiet - (now - self._last),
                                   self.every - (now - self._started)))
                return
            # A burst that goes on starts a new count with its next failure.
            count, took, error = self._count, now - self._started, self._error
            self._count = 0
        log.warning("accept() failed %d times in %.1f s: %s (this process may open %s "
                    "files); %s", count, took, error, _file_limit(),
                    "the waiting connections were accepted once files were free" if over
                    else "connections wait in the listen backlog")

    def cancel(self) -> None:
        """Stop the pending timer, logging what was counted."""
        timer = self._timer
        if timer is not None:
            timer.cancel()
        self.flush(force=True)


_installed: AcceptErrorSummary | None = None
_users = 0
_install_lock = threading.Lock()


def install() -> None:
    """Summarise accept failures on the ``asyncio`` logger while a server runs."""
    global _installed, _users
    with _install_lock:
        _users += 1
        if _installed is None:
            _installed = AcceptErrorSummary()
            logging.getLogger("asyncio").addFilter(_installed)


def uninstall() -> None:
    """The server stopped; the last one to stop removes the filter (logging what it
    counted)."""
    global _installed, _users
    with _install_lock:
        _users = max(0, _users - 1)
        summary = _installed if _users == 0 else None
        if summary is not None:
            logging.getLogger("asyncio").removeFilter(summary)
            _installed = None
    if summary is not None:
        summary.cancel()
