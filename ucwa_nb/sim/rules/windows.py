"""Windows-integrated sign-in at the token endpoint: a real NTLM/Negotiate acceptor.

The Windows grant (``urn:microsoft.rtc:windows``) is the password grant without username
and password: the token endpoint first demands an HTTP ``Negotiate`` (or ``NTLM``) handshake
and the grant is answered on the connection it authenticated (Authentication in UCWA,
https://learn.microsoft.com/en-us/skype-sdk/ucwa/authenticationinucwa). pyspnego is the
acceptor: it checks the initiator's NTLM response against an NTLM user file, written here
from the scenario's accounts (``DOMAIN:user:password`` and ``:user@domain:password``) to a
private temporary file (0600), removed when the server stops.

NTLM authenticates a TCP connection, not a request: the handshake's state is kept per
connection (client address and port), as IIS does, so a client that sends its AUTHENTICATE
message on another connection gets a fresh challenge, as from a real server. Half-open
handshakes are bounded: each lives ``windows_handshake_timeout`` seconds at most, one client
address holds at most ``max_windows_handshakes_per_address`` and the server at most
``max_windows_handshakes`` (the oldest dropped first), so a class server is never starved.

pyspnego's acceptor reads the user file's path from ``NTLM_USER_FILE``, a process-wide
environment variable, when it is created and when it checks an AUTHENTICATE message. Several
simulators may run in one process (tests do): each sets the variable to its own file only for
the duration of its own synchronous pyspnego calls, under one process-wide lock, and puts the
previous value back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import spnego
import spnego.exceptions
from spnego import NegotiateOptions

from ucwa_nb.sim.scenario import Scenario, ServerSettings, UserSpec

__all__ = ["Connection", "Step", "WindowsAcceptor", "netbios_domain"]

log = logging.getLogger("ucwa_nb.sim.windows")

Connection = tuple[str, int]  # the client's address and port: one TCP connection
_ENV = "NTLM_USER_FILE"
_ENV_LOCK = threading.Lock()


class _NoTokensInLogs(logging.Filter):
    """pyspnego logs every NTLM message at DEBUG (they carry password hashes): drop them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "step input" not in record.msg and "step output" not in record.msg \
            if isinstance(record.msg, str) else True


for _name in ("spnego._ntlm", "spnego._negotiate", "spnego._context"):
    logging.getLogger(_name).addFilter(_NoTokensInLogs())


def netbios_domain(username: str) -> str:
    """The NetBIOS name of a user's domain: ``alice@contoso.com`` -> ``CONTOSO``.

    [infer] The scenario names SIP addresses only; an Active Directory domain's NetBIOS name
    is by default the first label of its DNS name, upper case.
    """
    return username.partition("@")[2].split(".")[0].upper()


@dataclass(frozen=True)
class Step:
    """What one Authorization header led to: ``continue`` (send ``token`` back in a 401),
    ``done`` (``user`` is authenticated; ``token`` is the acceptor's last word, if any) or
    ``refused`` (a fresh challenge; ``why`` is for the server's log)."""

    kind: Literal["continue", "done", "refused"]
    token: bytes | None = None
    user: UserSpec | None = None
    why: str = ""


@dataclass
class _Handshake:
    scheme: str
    context: Any  # a pyspnego server context (spnego.ContextProxy)
    started: float


class WindowsAcceptor:
    """The Negotiate/NTLM acceptor of one simulated server."""

    def __init__(self, scenario: Scenario, settings: ServerSettings,
                 now: Callable[[], float]) -> None:
        self._scenario = scenario
        self._settings = settings
        self._now = now
        self._handshakes: OrderedDict[Connection, _Handshake] = OrderedDict()
        self._file: str | None = None
        self._remover: weakref.finalize[Any, Any] | None = None
        self._principals: dict[str, UserSpec] = {}
        self.refused = 0

    @property
    def schemes(self) -> tuple[str, ...]:
        """The HTTP authentication schemes the token endpoint offers, in IIS's order."""
        return {"negotiate": ("Negotiate", "NTLM"), "ntlm": ("NTLM",)}.get(
            self._settings.windows_auth, ())

    def __len__(self) -> int:
        return len(self._handshakes)

    def pending(self, connection: Connection) -> bool:
        """Whether ``connection`` is in the middle of a handshake."""
        return connection in self._handshakes

    # ------------------------------------------------------------------ the handshake

    def step(self, connection: Connection, scheme: str, token: bytes) -> Step:
        """Feed one token of ``connection``'s handshake to the acceptor."""
        if scheme not in self.schemes:
            self._handshakes.pop(connection, None)
            return self._refuse(f"{scheme} is not offered (only {', '.join(self.schemes)})")
        self.sweep()
        handshake = self._handshakes.pop(connection, None)
        if handshake is not None and handshake.scheme != scheme:
            handshake = None
        if token.startswith(b"NTLMSSP\x00\x01\x00\x00\x00") or token[:1] == b"\x60":
            # A NEGOTIATE message (raw, or the first SPNEGO token) starts a new handshake.
            handshake = _Handshake(scheme, None, self._now())
        elif handshake is None:
            return self._refuse("no handshake in progress on this connection (NTLM "
                                "authenticates one connection: was it another?)")
        try:
            with self._user_file():
                if handshake.context is None:
                    handshake.context = spnego.server(
                        hostname=self._settings.server_fqdn, service="HTTP",
                        protocol=scheme.lower(),
                        # pyspnego's own NTLM and SPNEGO, never a system GSSAPI/SSPI.
                        options=NegotiateOptions.use_negotiate if scheme == "Negotiate"
                        else NegotiateOptions.use_ntlm)
                answer = handshake.context.step(token)
                complete = bool(handshake.context.complete)
                principal = str(handshake.context.client_principal) if complete else ""
        except Exception as exc:  # a wrong password, an unknown user, junk: all refusals
            return self._refuse(_why(exc))
        if not complete:
            self._keep(connection, handshake)
            return Step("continue", answer)
        user = self._principals.get(principal.upper())
        if user is None:
            return self._refuse(f"{principal} has no account here")
        return Step("done", answer or None, user)

    def _keep(self, connection: Connection, handshake: _Handshake) -> None:
        address = connection[0]
        per_address = self._settings.max_windows_handshakes_per_address
        if per_address:
            mine = [c for c in self._handshakes if c[0] == address]
            for old in mine[:max(0, len(mine) - per_address + 1)]:
                del self._handshakes[old]
        self._handshakes[connection] = handshake
        limit = self._settings.max_windows_handshakes
        while limit and len(self._handshakes) > limit:
            self._handshakes.popitem(last=False)

    def _refuse(self, why: str) -> Step:
        self.refused += 1
        return Step("refused", why=why)

    def sweep(self) -> None:
        """Forget handshakes older than ``windows_handshake_timeout``."""
        oldest = self._now() - self._settings.windows_handshake_timeout
        while self._handshakes:
            connection, handshake = next(iter(self._handshakes.items()))
            if handshake.started >= oldest:
                break
            del self._handshakes[connection]

    # ------------------------------------------------------------------ the user file

    @contextlib.contextmanager
    def _user_file(self) -> Iterator[None]:
        """NTLM_USER_FILE names this server's file during the block (and only then)."""
        path = self._file or self._write_user_file()
        with _ENV_LOCK:
            before = os.environ.get(_ENV)
            os.environ[_ENV] = path
            try:
                yield
            finally:
                if before is None:
                    os.environ.pop(_ENV, None)
                else:
                    os.environ[_ENV] = before

    def _write_user_file(self) -> str:
        lines = []
        for user in self._scenario.users:
            name, _, domain = user.username.partition("@")
            if any(c in field for field in (name, domain, user.password) for c in ":\r\n"):
                # [infer] The file's fields are colon-separated: such an account cannot be
                # written to it, and cannot sign in the Windows way (its password grant works).
                log.warning("%s cannot use Windows sign-in: a ':' or line break in its "
                            "name or password", user.username)
                continue
            netbios = netbios_domain(user.username)
            lines.append(f"{netbios}:{name}:{user.password}")
            lines.append(f":{user.username}:{user.password}")
            self._principals[f"{netbios}\\{name}".upper()] = user
            self._principals[user.username.upper()] = user
        fd, path = tempfile.mkstemp(prefix="ucwa-nb-ntlm-", suffix=".txt")  # 0600
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        self._file = path
        # Removed by close() when the server stops; else when this acceptor is collected or
        # the interpreter exits (a simulator nobody stopped).
        self._remover = weakref.finalize(self, _remove, path)
        return path

    def close(self) -> None:
        """Remove the user file and forget every handshake (written again if needed)."""
        self._handshakes.clear()
        self._file = None
        if self._remover is not None:
            self._remover()
            self._remover = None


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _why(exc: Exception) -> str:
    """A refusal's reason for the log: pyspnego's context message, never a token."""
    text = str(exc) if isinstance(exc, spnego.exceptions.SpnegoError) else ""
    if "matching credential" in text:
        return "unknown user or domain"
    if "Invalid NTLM response" in text:
        return "wrong password"
    return f"unreadable token ({type(exc).__name__})"
