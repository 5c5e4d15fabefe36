"""Rate limits for the simulator's sign-in: token buckets by key, and the three the token
endpoint and the trainer's page apply (per client address, per account and address, per
account).

A bucket holds up to ``burst`` tokens and gains ``rate`` per second; an attempt takes one.
Full buckets are forgotten by ``sweep``, so the memory is that of the keys seen lately.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ucwa_nb.sim.scenario import ServerSettings

__all__ = ["Buckets", "SignInLimits"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """Token buckets by key, all of one ``burst`` and ``rate``; a burst of 0 turns them off."""

    def __init__(self, burst: int, rate: float, now: Callable[[], float]) -> None:
        self.burst = burst
        self.rate = rate
        self.now = now
        self._buckets: dict[object, _Bucket] = {}

    def _level(self, key: object) -> _Bucket:
        now = self.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def wait(self, key: object) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        if self.burst <= 0:
            return 0.0
        bucket = self._level(key)
        if bucket.tokens >= 1.0:
            return 0.0
        return math.inf if self.rate <= 0 else (1.0 - bucket.tokens) / self.rate

    def take(self, key: object) -> None:
        if self.burst > 0:
            self._level(key).tokens -= 1.0

    def sweep(self) -> None:
        """Forget keys whose bucket has filled up again."""
        now = self.now()
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * self.rate >= self.burst:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class SignInLimits:
    """What the token endpoint (and the trainer's page) allow one client.

    * Every attempt from a client address takes from that address's bucket (a burst that a
      whole class signing in at once through one JupyterHub address fits in).
    * A failed attempt takes from the bucket of (account, address) and from the account's.
      Counting failures per address first means one attendee hammering another's account
      locks only themself out of it; the account's own bucket, larger, stops guessing spread
      over many addresses.
    """

    def __init__(self, settings: ServerSettings, now: Callable[[], float] = time.monotonic
                 ) -> None:
        self.per_address = Buckets(settings.signin_burst_per_address,
                                   settings.signin_rate_per_address, now)
        failures, rate = (settings.signin_failures_per_account,
                          settings.signin_failure_rate_per_account)
        self.per_account_address = Buckets(failures, rate, now)
        self.per_account = Buckets(failures * 5, rate * 5, now)
        self.refused = 0

    def wait(self, address: str) -> float:
        """Seconds an attempt from ``address`` must wait (0: go ahead, and it is counted)."""
        wait = self.per_address.wait(address)
        if wait > 0:
            self.refused += 1
            return wait
        self.per_address.take(address)
        return 0.0

    def account_wait(self, address: str, account: str) -> float:
        """Seconds before ``address`` may try ``account`` again (after failures)."""
        wait = max(self.per_account_address.wait((account, address)),
                   self.per_account.wait(account))
        if wait > 0:
            self.refused += 1
        return wait

    def failed(self, address: str, account: str) -> None:
        self.per_account_address.take((account, address))
        self.per_account.take(account)

    def sweep(self) -> None:
        for buckets in (self.per_address, self.per_account_address, self.per_account):
            buckets.sweep()
