"""The typed column store that turns log rows into a DataFrame, cheaply again and again.

Why ``ExchangeLog.df`` is cheap to call again and again: recording a row only stages it.
``ColumnStore.flush`` converts just the rows staged since the previous flush and writes them
into typed column buffers that have spare capacity (doubling, like a list); the frame is a
zero-copy slice of those buffers. ``tests/perf/bench_log.py`` measures a one-row update and
a cached read against a full build. The columns and their dtypes are ``ucwa_nb.log.columns``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import pandas as pd

from ucwa_nb.log.columns import COLUMNS, DTYPES, LogRow

__all__ = ["ColumnStore"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def _typed(column: Any, dtype: Any) -> Any:
    """An object array of str/None/int/... as an array of ``dtype`` (None is missing)."""
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.full(len(column), -1, dtype=np.int8)
        for code, category in enumerate(dtype.categories):
            codes[column == category] = code
        return pd.Categorical.from_codes(codes, dtype=dtype)
    if isinstance(dtype, pd.Int64Dtype):
        missing = pd.isna(column)
        return pd.arrays.IntegerArray(np.where(missing, 0, column).astype(np.int64), missing)
    if dtype == np.dtype(np.float64):
        return np.where(pd.isna(column), np.nan, column).astype(np.float64)
    if isinstance(dtype, np.dtype):
        return column.astype(dtype)
    return pd.array(column, dtype=dtype)


def _empty(dtype: Any) -> Any:
    return _typed(np.empty(0, dtype=object), dtype)


# Every field as an object: np.fromiter with this dtype transposes a list of rows into
# columns in one C loop, which is faster than zip(*rows) and than staging each row column by
# column as it is recorded, and leaves numpy arrays, which pandas converts faster than lists.
_TABLE: Final = np.dtype([(name, object) for name in COLUMNS])


class ColumnStore:
    """Rows waiting to be typed, then typed buffers with spare capacity that ``frame()``
    slices without copying.

    Not thread-safe on its own: the ExchangeLog calls it under its lock.
    """

    def __init__(self) -> None:
        self.size = 0  # rows in the typed buffers
        self._capacity = 0
        self._pending: list[LogRow] = []
        self._pending_ns: list[int] = []
        self._buffers: dict[str, Any] = {name: _empty(dtype) for name, dtype in DTYPES.items()}
        self._root = self._wrap()

    def _wrap(self) -> pd.DataFrame:
        # Explicit dtypes stop pandas from scanning object buffers to infer types. Frames
        # handed out are row slices of this root frame, so copy-on-write knows they share
        # memory with it: editing a returned frame copies instead of writing into a buffer.
        series = {
            name: pd.Series(buffer, dtype=DTYPES[name], copy=False)
            for name, buffer in self._buffers.items()
        }
        return pd.DataFrame(series, copy=False)

    def _grow(self, capacity: int) -> None:
        keep = self.size
        for name, old in self._buffers.items():
            if isinstance(old, np.ndarray):
                new: Any = np.empty(capacity, dtype=old.dtype)
                new[:keep] = old[:keep]
            else:
                indexer = np.full(capacity, -1, dtype=np.intp)
                indexer[:keep] = np.arange(keep)
                new = old.take(indexer, allow_fill=True)
            self._buffers[name] = new
        self._capacity = capacity
        # Frames sliced from the previous root keep the old buffers alive and never see
        # later rows, which are written to the new buffers only.
        self._root = self._wrap()

    def stage(self, row: LogRow) -> None:
        """Keep ``row`` (its time in UTC) for the next ``flush``."""
        self._pending.append(row)
        # The time column is built from integers: nanoseconds since the epoch, exact to the
        # microsecond that a datetime holds.
        self._pending_ns.append((row.time - _EPOCH) // _MICROSECOND * 1000)

    @property
    def staged(self) -> int:
        """How many rows wait for the next ``flush``."""
        return len(self._pending)

    def flush(self) -> None:
        """Type the pending rows and write them after the rows already typed."""
        count = len(self._pending)
        if not count:
            return
        end = self.size + count
        if end > self._capacity:
            # Headroom past `end` too: a first build of a long log must not make the very
            # next row copy every buffer again.
            self._grow(max(end + end // 2, 2 * self._capacity, 1024))
        table = np.fromiter(self._pending, dtype=_TABLE, count=count)
        for name, dtype in DTYPES.items():
            if name == "time":
                naive = pd.array(np.array(self._pending_ns, dtype=np.int64).view("M8[ns]"))
                array: Any = naive.tz_localize("UTC")
            else:
                array = _typed(np.ascontiguousarray(table[name]), dtype)
            self._buffers[name][self.size : end] = array
        self._pending.clear()
        self._pending_ns.clear()
        self.size = end

    def frame(self) -> pd.DataFrame:
        """The typed rows so far, as a slice of the buffers (no copy)."""
        return self._root.iloc[: self.size]
