"""Rate limits for the simulator's sign-in: token buckets by key, the ones the token endpoint
and the trainer's page apply, and who signed in from where lately.

A bucket holds up to ``burst`` tokens and gains ``rate`` per second; an attempt takes one.
Full buckets are forgotten by ``sweep``, so the memory is that of the keys seen lately.

Why keyed by account rather than by address: on JupyterHub a whole class reaches the
simulator from one address (the hub host, or its proxy), and presses Run All at the same
moment. Limits by address alone let 60 attendees in and made the other 140 wait a second
each (issue 25: 200 attendees, p95 134 s). Only what an attacker can do without knowing a
password is counted by address: failed attempts (guessing, or unknown accounts).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ucwa_nb.sim.scenario import ServerSettings

__all__ = ["Buckets", "RecentAccounts", "SignInLimits"]


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
        """Count one attempt of ``key``."""
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


class RecentAccounts:
    """The accounts signed in from each address within the last ``window`` seconds.

    Only a successful sign-in adds one, so the memory is bounded by the real accounts and the
    addresses they sign in from, not by what an attacker sends."""

    def __init__(self, window: float, now: Callable[[], float]) -> None:
        self.window = window
        self.now = now
        self._at: dict[str, dict[str, float]] = {}

    def add(self, address: str, account: str) -> None:
        self._at.setdefault(address, {})[account] = self.now()

    def has(self, address: str, account: str) -> bool:
        when = self._at.get(address, {}).get(account)
        return when is not None and self.now() - when <= self.window

    def count(self, address: str) -> int:
        """How many accounts signed in from ``address`` lately."""
        return len(self._at.get(address, ()))

    def sweep(self) -> None:
        oldest = self.now() - self.window
        for address, accounts in list(self._at.items()):
            for account, when in list(accounts.items()):
                if when < oldest:
                    del accounts[account]
            if not accounts:
                del self._at[address]


class SignInLimits:
    """What the token endpoint (and the trainer's page) allow one client.

    * Every attempt at an account takes from that account's bucket: one attendee's flood
      of sign-ins stops there, whatever address it comes from, and a class of separate
      accounts behind one address is not slowed by it.
    * A failed attempt takes from the bucket of (account, address), the account's and the
      address's. Counting failures per address first means one attendee hammering
      another's account locks only themself out of it; the account's own bucket, larger,
      stops guessing spread over many addresses; the address's stops one address spraying
      guesses over many accounts. When an address has used up its failures, it may still
      sign in to the accounts that signed in from there lately (``signed_in``): an
      attendee spraying from a hub's address does not lock out the class already there.
    * ``via_peer``: the accounts signed in through each TCP peer (the proxy's address
      behind a trusted proxy), which raise that peer's connection cap (guard.py).
    """

    def __init__(self, settings: ServerSettings, now: Callable[[], float] = time.monotonic
                 ) -> None:
        self.per_account_attempts = Buckets(settings.signin_burst_per_account,
                                            settings.signin_rate_per_account, now)
        failures, rate = (settings.signin_failures_per_account,
                          settings.signin_failure_rate_per_account)
        self.per_account_address = Buckets(failures, rate, now)
        self.per_account = Buckets(failures * 5, rate * 5, now)
        self.per_address = Buckets(settings.signin_failures_per_address,
                                   settings.signin_failure_rate_per_address, now)
        # [infer] "lately" is a token's lifetime: an account counts for an address as long
        # as the sign-in made there may still be in use.
        self.signed_in = RecentAccounts(float(settings.token_lifetime), now)
        self.via_peer = RecentAccounts(float(settings.token_lifetime), now)
        self.refused = 0

    def wait(self, address: str) -> float:
        """Seconds before ``address`` may try at all (checked before a request's body is
        read, so a flood of failures costs no parsing): it has used up its failures and no
        account signed in from it lately."""
        if self.signed_in.count(address):
            return 0.0
        return self._refuse(self.per_address.wait(address))

    def attempt_wait(self, address: str, account: str, *, failures: bool = True) -> float:
        """Seconds before ``address`` may try ``account`` (0: go ahead, and the attempt is
        counted against the account). ``failures=False``: the failures are checked later
        (a handshake's start; its last step is checked with ``account_wait``)."""
        wait = self.per_account_attempts.wait(account)
        if failures:
            wait = max(wait, self.account_wait(address, account, counted=False))
        if wait:
            return self._refuse(wait)
        self.per_account_attempts.take(account)
        return 0.0

    def account_wait(self, address: str, account: str, *, counted: bool = True) -> float:
        """Seconds before ``address`` may try ``account`` again after failures (the
        attempt itself is not counted: a step of a handshake already counted)."""
        wait = max(self.per_account_address.wait((account, address)),
                   self.per_account.wait(account))
        if not self.signed_in.has(address, account):
            wait = max(wait, self.per_address.wait(address))
        return self._refuse(wait) if counted else wait

    def _refuse(self, wait: float) -> float:
        if wait > 0:
            self.refused += 1
        return wait

    def failed(self, address: str, account: str) -> None:
        """A wrong password, an unknown account, a refused handshake."""
        self.per_account_address.take((account, address))
        self.per_account.take(account)
        self.per_address.take(address)

    def succeeded(self, address: str, account: str, peer: str | None = None) -> None:
        """``account`` signed in from ``address`` (through ``peer``, its TCP peer)."""
        self.signed_in.add(address, account)
        if peer is not None:
            self.via_peer.add(peer, account)

    def accounts_via(self, peer: str) -> int:
        """How many accounts signed in through ``peer`` lately (the connection guard)."""
        return self.via_peer.count(peer)

    def sweep(self) -> None:
        for buckets in (self.per_account_attempts, self.per_account_address, self.per_account,
                        self.per_address):
            buckets.sweep()
        self.signed_in.sweep()
        self.via_peer.sweep()
