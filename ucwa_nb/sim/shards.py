"""A class on several simulators (shards): which shard an attendee is on, and the trainer's
view of all of them merged.

Beyond what one simulator serves well (docs/classroom.md: the class-burst benchmark's
figures), a hub runs N simulator services, ``ucwa-nb-0`` .. ``ucwa-nb-(N-1)``, and sends
each user to one by a stable hash of their hub name (docs/jupyterhub_config.py computes the
same ``shard_of``): no shared state between shards, nothing to coordinate, the same shard on
every spawn. Each shard's trainer's page lists its own calls; ``merged_activity`` reads every
shard's JSON and puts them together, each row labelled with its shard.

[infer] Modulo hashing, not a consistent hash: a class's shard count is fixed before the
class starts (changing it moves most users, and their accounts' history, elsewhere).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["MergedActivity", "merged_activity", "shard_of"]


def shard_of(name: str, shards: int) -> int:
    """The shard (0 .. ``shards`` - 1) of hub user ``name``: the first 8 bytes of its
    SHA-256, modulo ``shards`` (stable across processes and machines)."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    digest = hashlib.sha256(name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


@dataclass
class MergedActivity:
    """Every shard's calls (``rows``: each the shard's activity row with a ``shard`` key
    first) and the shards that could not be read (``unreachable``: shard -> why)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        missing = f", unreachable: {', '.join(self.unreachable)}" if self.unreachable else ""
        return f"<MergedActivity {len(self.rows)} calls{missing}>"


def merged_activity(shards: Mapping[str, str] | Sequence[str], *,
                    auth: httpx.Auth | tuple[str, str] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float = 10.0,
                    client: httpx.Client | None = None) -> MergedActivity:
    """Read each shard's ``/_simulator/activity`` as JSON and merge them.

    ``shards``: the activity URLs, or a mapping of shard names to them (the URL is the
    name otherwise). ``auth``: the trainer's credentials for a ``ucwa-nb serve`` with a
    ``[trainer]`` (``("trainer", password)``); on a hub, ``headers={"Authorization":
    f"token {token}"}`` with a hub API token of a member of the trainers' group. A shard
    that does not answer 200 with a JSON list is listed in ``unreachable``; the others are
    still merged.

    >>> merged_activity(["http://sim-0:8080/_simulator/activity",
    ...                  "http://sim-1:8080/_simulator/activity"], auth=("trainer", pw))
    ... # doctest: +SKIP
    """
    named = dict(shards) if isinstance(shards, Mapping) else {url: url for url in shards}
    merged = MergedActivity()
    own = client is None
    http = client or httpx.Client(timeout=timeout, trust_env=False)
    try:
        for name, url in named.items():
            try:
                answer = http.get(url, auth=auth, headers={**(headers or {}),
                                                           "Accept": "application/json"},
                                  follow_redirects=False)
            except httpx.HTTPError as exc:
                merged.unreachable[name] = f"{type(exc).__name__}: {exc}"
                continue
            rows = _rows(answer)
            if rows is None:
                merged.unreachable[name] = f"HTTP {answer.status_code}" + (
                    " (not signed in: a login page)" if answer.is_redirect else "")
                continue
            merged.rows += [{"shard": name, **row} for row in rows]
    finally:
        if own:
            http.close()
    return merged


def _rows(answer: httpx.Response) -> list[dict[str, Any]] | None:
    if answer.status_code != 200:
        return None
    try:
        data = answer.json()
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        return None
    return data
