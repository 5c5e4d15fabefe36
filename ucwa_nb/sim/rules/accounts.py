"""Who may sign in, and with which token: the scenario's users (and JupyterHub users made on
first sign-in), the bearer tokens issued to them and their expiry.

One of the World's parts (``world.py``); tokens are the user's, across applications.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from ucwa_nb.sim.classroom import HubUsersSpec
from ucwa_nb.sim.rules.hub_users import hub_account, hub_name, is_hub_password
from ucwa_nb.sim.scenario import Scenario, UserSpec
from ucwa_nb.sim.state import ConversationLogState, TokenState, UserState

__all__ = ["Accounts", "thread_id"]


def thread_id(*parts: str) -> str:
    """A conversation's (or log's) threadId, from what names it."""
    # Deterministic so that notebooks show the same thread ids on every run.
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


class Accounts:
    """The users by key (``alice@contoso.com``) and the live tokens by value."""

    def __init__(self, scenario: Scenario, now: Callable[[], float]) -> None:
        self.scenario = scenario
        self.settings = scenario.server
        self.now = now
        self.users: dict[str, UserState] = {}
        self.tokens: dict[str, TokenState] = {}
        self.hub_accounts = 0  # made on first sign-in ([classroom] hub_users)
        for spec in scenario.users:
            self._add_user(spec)

    def _add_user(self, spec: UserSpec) -> UserState:
        user = UserState(spec)
        for n, log_spec in enumerate(spec.conversation_logs, start=1):
            log_id = f"{n}"
            user.logs[log_id] = ConversationLogState(
                log_id, log_spec, thread_id(spec.uri, "log", log_id, log_spec.subject))
        self.users[user.key] = user
        return user

    def issue_token(self, username: str, password: str) -> TokenState | None:
        """A new token for these credentials, or None; beyond ``max_tokens_per_user`` the
        user's oldest sign-in is signed out."""
        user = self._signing_in(username, password)
        if user is None:
            return None
        return self.token_for(user)

    def token_for(self, user: UserState) -> TokenState:
        """A new token for ``user``, who signed in (password grant, or Windows sign-in);
        beyond ``max_tokens_per_user`` the user's oldest sign-in is signed out."""
        token = TokenState("cwt=" + secrets.token_urlsafe(32), user, user.spec.scopes,
                           self.now() + self.settings.token_lifetime)
        self.tokens[token.value] = token
        user.tokens.append(token.value)
        limit = self.settings.max_tokens_per_user
        while limit and len(user.tokens) > limit:
            self.tokens.pop(user.tokens.pop(0), None)
        return token

    def _signing_in(self, username: str, password: str) -> UserState | None:
        """The user these credentials open, if any."""
        hub = self.scenario.hub_users
        name = hub_name(hub, username) if hub is not None else None
        if hub is not None and name is not None:
            return self._hub_user(hub, name, password)
        user = self.users.get(username.lower().removeprefix("sip:"))
        # compare_digest refuses str with non-ASCII characters (TypeError, which became a
        # 500 for a password such as "é"): compare the UTF-8 bytes instead.
        if user is None or not secrets.compare_digest(
                user.spec.password.encode("utf-8", "surrogatepass"),
                password.encode("utf-8", "surrogatepass")):
            return None
        return user

    def _hub_user(self, spec: HubUsersSpec, name: str, password: str) -> UserState | None:
        """A JupyterHub user: only the hub's password opens an account in its domain, and
        one the scenario does not list is made on first sign-in (rules/hub_users.py)."""
        if not is_hub_password(spec, name, password):
            return None
        user = self.users.get(f"{name}@{spec.domain.lower()}")
        if user is not None:
            return user
        if self.hub_accounts >= spec.limit:
            return None
        account = hub_account(spec, name, self.scenario.demo_user, self.hub_accounts)
        self.hub_accounts += 1
        return self._add_user(account)

    def purge_expired_tokens(self) -> int:
        """Forget expired tokens (the sweeper calls this); returns how many."""
        now = self.now()
        expired = [t for t in self.tokens.values() if t.expires_at < now]
        for token in expired:
            del self.tokens[token.value]
        for user in {t.user.key: t.user for t in expired}.values():
            user.tokens = [v for v in user.tokens if v in self.tokens]
        return len(expired)

    def authenticate(self, authorization: str | None) -> TokenState | None:
        """The live token of an ``Authorization: Bearer ...`` header, or None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = self.tokens.get(authorization[len("Bearer "):].strip())
        if token is None or token.expires_at < self.now():
            return None
        return token
