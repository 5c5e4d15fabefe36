"""``sim/accept_errors.py``: asyncio's per-connection EMFILE accept() records become one
line per burst, with a count; every other record passes. (The flood itself, against a real
server in a process with a lowered file limit, is tests/reliability/test_attack.py's.)"""

from __future__ import annotations

import errno
import logging
import sys

import pytest
from support import drain_stopping

from ucwa_nb.sim import accept_errors
from ucwa_nb.sim.accept_errors import AcceptErrorSummary


def _record(error: OSError, msg: str = "socket.accept() out of system resource"
            ) -> logging.LogRecord:
    try:
        raise error
    except OSError:
        exc_info = sys.exc_info()
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, exc_info)


EMFILE = OSError(errno.EMFILE, "Too many open files")


def test_a_burst_is_one_line_with_its_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = [100.0]
    summary = AcceptErrorSummary(quiet=3.0, every=60.0, now=lambda: clock[0])
    caplog.set_level(logging.WARNING, "ucwa_nb.sim.server")
    for _ in range(500):
        assert summary.filter(_record(EMFILE)) is False
        clock[0] += 0.002
    summary.flush()  # not over yet: nothing
    assert caplog.records == []
    clock[0] += 3.0
    summary.flush()
    summary.cancel()  # nothing left to say
    assert [r.getMessage() for r in caplog.records] == [
        f"accept() failed 500 times in {1.0 + 3.0 - 0.002:.1f} s: [Errno 24] Too many open "
        f"files (this process may open {accept_errors._file_limit()} files); the waiting "
        "connections were accepted once files were free"]


def test_a_long_burst_says_so_every_minute(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    summary = AcceptErrorSummary(quiet=3.0, every=60.0, now=lambda: clock[0])
    caplog.set_level(logging.WARNING, "ucwa_nb.sim.server")
    for _ in range(130):  # one failure a second for 130 s
        summary.filter(_record(EMFILE))
        clock[0] += 1.0
        summary.flush()
    summary.cancel()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3, messages
    assert messages[0].startswith("accept() failed 60 times in 60.0 s")
    assert [int(m.split()[2]) for m in messages] == [60, 60, 10]  # every failure counted
    assert messages[0].endswith("connections wait in the listen backlog")


def test_other_records_pass(caplog: pytest.LogCaptureFixture) -> None:
    summary = AcceptErrorSummary()
    assert summary.filter(_record(OSError(errno.ECONNRESET, "reset"))) is True
    assert summary.filter(_record(EMFILE, "Task exception was never retrieved")) is True
    plain = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "x", None, None)
    assert summary.filter(plain) is True
    enfile = _record(OSError(errno.ENFILE, "Too many open files in system"))
    assert summary.filter(enfile) is False
    summary.cancel()


def test_the_filter_is_on_the_asyncio_logger_while_a_server_runs() -> None:
    def installed() -> list[logging.Filter]:
        return [f for f in logging.getLogger("asyncio").filters
                if isinstance(f, AcceptErrorSummary)]

    drain_stopping()  # earlier tests' simulators stop in the background: wait for them
    before = len(installed())
    accept_errors.install()
    accept_errors.install()
    assert len(installed()) == 1
    accept_errors.uninstall()
    assert len(installed()) == 1  # another server still runs
    accept_errors.uninstall()
    assert len(installed()) == before == 0
