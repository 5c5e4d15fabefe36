"""Secrets stay secret: real flows against the simulator, then a scan of everything they leave
behind for every token and password they used.

The flows: the password grant, a bearer token obtained elsewhere and handed to ``connect``, a
sign-in with a wrong password, one with a made-up token, Windows sign-in (its NTLM handshake
tokens are secrets too) and a refused one, calls that succeed, fail
asynchronously, fail synchronously (a number that does not normalise, an injected
CallbackChannelError) and get cancelled; in JSON and in XML, and for a user whose password
needs escaping in a form, a JSON string and an XML text.

What is scanned: every cell of ``session.log.df``, every field of its rows, the HAR and CSV
exports, the ``LogView`` widget's HTML and a call's HTML, ``str``/``repr`` and the formatted
traceback of every exception raised, the simulator's own log output (its loggers at DEBUG,
uvicorn's access log, and the stdout/stderr of ``ucwa-nb serve`` run as a subprocess), and the
stored outputs of the notebooks in ``notebooks/``.

The secrets: every password used, the wrong ones included, and every token the simulator
issued (read from its world at the end), each in every spelling it can take in a URL, a form,
a JSON string or an XML text, and a token also without its ``cwt=`` prefix. Tokens are random
per run, so the notebooks, executed some other time, are searched for anything shaped like a
simulator token and for the passwords their scenarios define.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

import httpx
import pytest
import spnego
from support import fast_scenario_dict

import ucwa_nb
from ucwa_nb import DiscoveryError, ExchangeLog, Scenario, Session, Simulator, UcwaError
from ucwa_nb.client.errors import SignInError
from ucwa_nb.client.trust import bearer_of
from ucwa_nb.log.redaction import REDACTED
from ucwa_nb.sim.scenario_loader import scenario_from_dict
from ucwa_nb.sim.scenarios import default as default_scenario
from ucwa_nb.widgets import LogView

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALICE = ("alice@contoso.com", "ucwa-demo")
BOB = ("bob@contoso.com", "ucwa-demo-bob")
# A password that every encoding changes: form (& + space %), JSON (" \), XML (< > &), and
# non-ASCII (percent-encoded UTF-8 in a form, \u escapes in ASCII JSON).
CAROL = ("carol@contoso.com", 's3cr&t p@ss/w0rd+"<ü>\\%')
WRONG_PASSWORD = "not-the-password-" + os.urandom(6).hex()
MADE_UP_TOKEN = "cwt=" + os.urandom(24).hex()
JOHN = "sip:john@contoso.com"
NORA = "sip:nora@contoso.com"
WAIT = 10.0
# A token the simulator issues: "cwt=" and secrets.token_urlsafe(32) (world.issue_token).
TOKEN_SHAPE = re.compile(r"cwt(?:=|%3D)(?!\[REDACTED\]|%5BREDACTED)[A-Za-z0-9_\-]{20,}")
BARE_TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])")


def spellings(secret: str) -> set[str]:
    """The ways a secret can be written in a URL, a form, a JSON string or XML/HTML text."""
    as_json = json.dumps(secret, ensure_ascii=False)[1:-1]
    found = {secret, as_json, json.dumps(secret)[1:-1], as_json.replace("/", "\\/"),
             quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret),
             html.escape(secret, quote=True), html.escape(secret, quote=False)}
    if secret.startswith("cwt="):
        found |= spellings(secret.removeprefix("cwt="))
    return {s for s in found if s}


def leaks(text: str, secrets: set[str]) -> list[str]:
    """The secrets that appear in ``text``, in any spelling."""
    return sorted(secret for secret in secrets
                  if any(spelled in text for spelled in spellings(secret)))


def scenario() -> Scenario:
    """The default scenario with short rings, plus carol and her hard-to-escape password."""
    data = fast_scenario_dict()
    data["users"].append({"uri": "sip:" + CAROL[0], "name": "Carol Escape",
                          "password": CAROL[1], "phone": "tel:+14255554444",
                          "conversations": [{"subject": "Escapes",
                                             "participants": [JOHN]}]})
    return scenario_from_dict(data, name="secrets")


class Records(logging.Handler):
    """Every record of the loggers it is attached to, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(1)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # called under the handler's lock
        self.lines.append(self.format(record))


SIMULATOR_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "ucwa_nb",
                     "ucwa_nb.log.exchange_log", "starlette", "asyncio")


@contextlib.contextmanager
def simulator_logs() -> Iterator[Records]:
    """The simulator's own log output, every level down to uvicorn's TRACE: its loggers, and
    uvicorn's access log, which uvicorn writes for every connection opened while that logger
    has a handler. Enter it after the simulator started: uvicorn's logging setup, run at
    every start, replaces the handlers of its loggers."""
    records = Records()
    saved = []
    for name in SIMULATOR_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(1)
        logger.propagate = False  # to this handler only, not to uvicorn's stderr one
        logger.addHandler(records)
    try:
        yield records
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(records)
            logger.setLevel(level)
            logger.propagate = propagate


@dataclass
class Flows:
    """What the flows left behind, and the secrets they used."""

    passwords: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    sessions: list[Session] = field(default_factory=list)
    logs: list[ExchangeLog] = field(default_factory=list)
    exceptions: list[BaseException] = field(default_factory=list)
    shown: list[tuple[str, str]] = field(default_factory=list)  # (what, text) users see
    simulator_log: list[str] = field(default_factory=list)
    sent_credentials: set[str] = field(default_factory=set)
    clients: list[httpx.Client] = field(default_factory=list)  # given to the sessions

    @property
    def secrets(self) -> set[str]:
        return self.passwords | self.tokens


def _expect(flows: Flows, error: type[BaseException] | tuple[type[BaseException], ...],
            fn: Any, *args: Any, **kwargs: Any) -> BaseException:
    with pytest.raises(error) as caught:
        fn(*args, **kwargs)
    flows.exceptions.append(caught.value)
    return caught.value


def _record_credentials(flows: Flows, client: httpx.Client) -> None:
    """Note every Authorization value and form body the client really sends: the secret
    list must hold them all, or the scan would look for the wrong strings."""
    def hook(request: httpx.Request) -> None:
        value = request.headers.get("authorization")
        if value:
            flows.sent_credentials.add(value.removeprefix("Bearer ").strip())
        if request.url.path.endswith("/oauthtoken"):
            body = request.content.decode()
            flows.sent_credentials.update(v for k, v in parse_qsl(body) if k == "password")

    client.event_hooks["request"].append(hook)


def _client(flows: Flows) -> httpx.Client:
    client = httpx.Client(timeout=WAIT, trust_env=False)
    _record_credentials(flows, client)
    return client


class _Echoing(httpx.HTTPTransport):
    """The simulator as a careless server: conversationLogs answers 400 quoting the request's
    Authorization header; a refused token request answers with the form it got."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/conversationLogs"):
            return httpx.Response(400, json={
                "code": "BadRequest",
                "message": "bad header: " + request.headers.get("authorization", "")})
        response = super().handle_request(request)
        if request.url.path.endswith("/oauthtoken") and response.status_code != 200:
            response.close()
            return httpx.Response(400, json={"error": "invalid_grant", "error_description":
                                             "refused: " + request.content.decode()})
        return response


def _connect(flows: Flows, url: str, **kwargs: Any) -> Session:
    return _connect_with(flows, _client(flows), url, **kwargs)


def _connect_with(flows: Flows, client: httpx.Client, url: str, **kwargs: Any) -> Session:
    try:
        session = ucwa_nb.connect(url, http_client=client, **{"poll_timeout": 5.0, **kwargs})
    except BaseException:
        client.close()
        raise
    flows.sessions.append(session)
    flows.clients.append(client)
    flows.logs.append(session.log)
    return session


def _calls(flows: Flows, session: Session, sim: Simulator, subject: str) -> None:
    """A call that succeeds and two that fail synchronously (a number that does not
    normalise, an injected CallbackChannelError); the exceptions and every view of the
    call kept for the scan."""
    conversations = {c.subject: c for c in session.conversations()}
    ok = session.add_phone_audio(conversations[subject], to=JOHN).wait(WAIT)
    assert ok.status == "Success", ok
    flows.shown += [("call repr", repr(ok)), ("call html", ok._repr_html_()),
                    ("call events", repr(ok.events)), ("call reason", repr(ok.reason))]
    bad = _expect(flows, UcwaError, session.add_phone_audio, conversations[subject], to=JOHN,
                  phone_number="555", validate=False)
    assert isinstance(bad, UcwaError)
    assert bad.subcode == "NormalizationFailed"
    sim.inject_fault("addPhoneAudio", "CallbackChannelError")
    _expect(flows, UcwaError, session.add_phone_audio, conversations[subject], to=JOHN,
            validate=False)


@contextlib.contextmanager
def _handshake_tokens() -> Iterator[set[str]]:
    """Every token the client's pyspnego contexts send or receive while inside (base64, as
    the headers carry them)."""
    seen: set[str] = set()
    original = spnego.client

    class Noting:
        def __init__(self, context: Any) -> None:
            self.context = context

        def __getattr__(self, name: str) -> Any:
            return getattr(self.context, name)

        def step(self, *args: Any, **kwargs: Any) -> bytes | None:
            token = args[0] if args else kwargs.get("in_token")
            if token:
                seen.add(base64.b64encode(token).decode())
            out = self.context.step(*args, **kwargs)
            if out:
                seen.add(base64.b64encode(out).decode())
            return out  # type: ignore[no-any-return]

    spnego.client = lambda *args, **kwargs: Noting(original(*args, **kwargs))  # type: ignore[assignment]
    try:
        yield seen
    finally:
        spnego.client = original


def run_flows(sim: Simulator, flows: Flows) -> None:
    flows.passwords |= {ALICE[1], BOB[1], CAROL[1], WRONG_PASSWORD}
    flows.tokens.add(MADE_UP_TOKEN)

    # 1. The password grant, JSON: calls of every outcome.
    alice = _connect(flows, sim.url, username=ALICE[0], password=ALICE[1])
    _calls(flows, alice, sim, "Project sync")
    nora = {c.subject: c for c in alice.conversations()}["Quick question"]
    ringing = alice.add_phone_audio(nora, to=NORA)
    ringing.cancel()
    ringing.wait(WAIT)
    log = alice.conversation_logs()[0]
    cont = alice.continue_phone_audio(log).wait(WAIT)
    flows.shown += [("session repr", repr(alice)), ("cancelled call", repr(ringing)),
                    ("continued call", repr(cont))]

    # 2. A token obtained elsewhere (a plain token request), handed to connect, in XML.
    with _client(flows) as raw:
        challenge = raw.get(sim.base_url + "/autodiscover/autodiscoverservice.svc/root/oauth/user")
        assert challenge.status_code == 401
        grant = raw.post(sim.base_url + "/WebTicket/oauthtoken",
                         data={"grant_type": "password", "username": BOB[0],
                               "password": BOB[1]})
        assert grant.status_code == 200, grant.text
    bob_token = grant.json()["access_token"]
    bob = _connect(flows, sim.url, token=bob_token, format="xml")
    _calls(flows, bob, sim, "Hand-over")
    bob_too = _connect(flows, sim.url, token=f"Bearer {bob_token}")  # with its scheme
    bob_too.conversations()

    # 3. A password that needs escaping everywhere, XML.
    carol = _connect(flows, sim.url, username=CAROL[0], password=CAROL[1], format="xml")
    _calls(flows, carol, sim, "Escapes")

    # 4. Sign-ins that fail: a wrong password, a made-up token. The log is the caller's.
    for kwargs in ({"username": ALICE[0], "password": WRONG_PASSWORD},
                   {"token": MADE_UP_TOKEN}):
        failed_log = ExchangeLog()
        flows.logs.append(failed_log)
        client = _client(flows)
        with client:
            _expect(flows, (DiscoveryError, UcwaError), ucwa_nb.connect, sim.url,
                    http_client=client, log=failed_log, poll_timeout=5.0, **kwargs)
        assert len(failed_log) > 0

    # 5. A server that quotes the Authorization header in an error and a token endpoint that
    # echoes the form: exception messages are redacted like the log.
    echoing = _client(flows)
    echoing._transport = _Echoing()
    echo_session = _connect_with(flows, echoing, sim.url, username=ALICE[0], password=ALICE[1])
    _expect(flows, UcwaError, echo_session.conversation_logs)
    echo_log = ExchangeLog()
    flows.logs.append(echo_log)
    with _client(flows) as client:
        client._transport = _Echoing()
        _expect(flows, SignInError, ucwa_nb.connect, sim.url, http_client=client, log=echo_log,
                username=ALICE[0], password=WRONG_PASSWORD, poll_timeout=5.0)

    # 6. Windows sign-in (NTLM in Negotiate): every handshake token it sends or receives is
    # a secret too (NTLM messages carry password hashes), and a refused one.
    with _handshake_tokens() as handshake:
        _connect(flows, sim.url, username="CONTOSO\\alice", password=ALICE[1],
                 auth="windows")
        windows_log = ExchangeLog()
        flows.logs.append(windows_log)
        with _client(flows) as client:
            _expect(flows, SignInError, ucwa_nb.connect, sim.url, http_client=client,
                    log=windows_log, username="CONTOSO\\alice", password=WRONG_PASSWORD,
                    auth="windows", poll_timeout=5.0)
    assert len(handshake) >= 5
    flows.tokens |= handshake

    # Reprs a notebook may show: the scenario and its users, the client's auth, the channel.
    flows.shown += [("scenario repr", repr(sim.scenario)),
                    ("users repr", repr(sim.scenario.users)),
                    ("auth repr", repr(alice.http_client.auth)),
                    ("channel repr", repr(alice.event_channel))]

    for session in flows.sessions:
        view = LogView(session.log)
        view.redraw()
        flows.shown.append(("LogView", view.table.value))
        view.close()


@pytest.fixture(scope="module")
def flows() -> Flows:
    found = Flows()
    with Simulator(scenario()) as sim, simulator_logs() as records:
        try:
            run_flows(sim, found)
            issued = sim.call(lambda: set(sim.world.tokens))
            found.tokens |= issued
        finally:
            for session in found.sessions:
                session.close()  # its own client; the one it was given stays open
            for client in found.clients:
                client.close()
        time.sleep(0.1)  # let the server log the last closed connections
    found.simulator_log = list(records.lines)
    return found


def test_the_scan_looks_for_the_right_strings(flows: Flows) -> None:
    """Every credential the clients really sent is among the secrets; the simulator issued a
    token per sign-in; the scanner finds a planted secret in any of its spellings."""
    assert flows.sent_credentials <= flows.secrets, flows.sent_credentials - flows.secrets
    assert len(flows.tokens) >= 4
    for secret in (CAROL[1], next(iter(flows.tokens - {MADE_UP_TOKEN}))):
        for spelled in spellings(secret):
            assert leaks(f"...{spelled}...", flows.secrets) == [secret], spelled


def test_log_frames_and_rows_hold_no_secret(flows: Flows) -> None:
    for log in flows.logs:
        df = log.df
        assert len(df) > 0
        for column in df.columns:
            for value in df[column].tolist():
                assert not leaks(str(value), flows.secrets), (column, value)
        for row in log.rows:
            assert not leaks(repr(row), flows.secrets), row
        assert not leaks(repr(log), flows.secrets)
    every_cell = " ".join(str(v) for log in flows.logs for v in log.df.to_numpy().ravel())
    assert REDACTED in every_cell  # the secrets were there, and were replaced


def test_har_and_csv_exports_hold_no_secret(flows: Flows, tmp_path: Path) -> None:
    for n, log in enumerate(flows.logs):
        har, csv = tmp_path / f"{n}.har", tmp_path / f"{n}.csv"
        log.to_har(har)
        log.to_csv(csv)
        for path in (har, csv):
            text = path.read_text(encoding="utf-8")
            assert not leaks(text, flows.secrets), (path.name, leaks(text, flows.secrets))
            assert not TOKEN_SHAPE.search(text), TOKEN_SHAPE.search(text)


def test_exceptions_hold_no_secret(flows: Flows) -> None:
    assert len(flows.exceptions) >= 8
    for exc in flows.exceptions:
        texts = [str(exc), repr(exc), repr(exc.args),
                 "".join(traceback.format_exception(exc))]
        if isinstance(exc, UcwaError):
            texts += [repr(exc.reason), str(exc.url), str(exc.diagnostics)]
        for text in texts:
            assert not leaks(text, flows.secrets), (type(exc).__name__, text)


def test_what_notebook_users_see_holds_no_secret(flows: Flows) -> None:
    assert flows.shown
    for what, text in flows.shown:
        assert not leaks(text, flows.secrets), what
        assert not TOKEN_SHAPE.search(text), (what, TOKEN_SHAPE.search(text))


def test_the_simulators_own_logs_hold_no_secret(flows: Flows) -> None:
    text = "\n".join(flows.simulator_log)
    # The access log did run: one line per request, with its path and query.
    assert '"GET /autodiscover/autodiscoverservice.svc/root HTTP/1.1" 200' in text, text[:3000]
    assert "/WebTicket/oauthtoken" in text
    assert not leaks(text, flows.secrets), leaks(text, flows.secrets)
    assert not TOKEN_SHAPE.search(text)


# ------------------------------------------------------------------------- ucwa-nb serve

class ChildOutput:
    """A child process's stdout and stderr, read line by line in threads as they come, so
    that no read blocks the test: every wait is bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._new = threading.Condition()
        assert process.stdout is not None
        assert process.stderr is not None
        self._threads = [threading.Thread(target=self._read, args=(name, stream), daemon=True,
                                          name=f"ucwa-serve-{name}")
                         for name, stream in (("stdout", process.stdout),
                                              ("stderr", process.stderr))]
        for thread in self._threads:
            thread.start()

    def _read(self, name: str, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            with self._new:
                self.lines[name].append(line)
                self._new.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self._new:
            while True:
                for line in self.lines["stdout"]:
                    found = re.search(pattern, line)
                    if found:
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"ucwa-nb serve never printed {pattern!r}: "
                                         f"{self.lines}")
                self._new.wait(remaining)

    def text(self, name: str) -> str:
        with self._new:
            return "".join(self.lines[name])

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
def test_ucwa_nb_serve_output_holds_no_secret(tmp_path: Path) -> None:
    """The CLI simulator as a trainer runs it; its stdout and stderr are read after flows
    of every kind. Its banner lists the scenario's accounts with their passwords, by
    design (README, "ucwa-nb serve"); nothing after the banner may show a secret, and
    the banner no token."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ucwa_nb.sim.cli", "serve", "--port", "0"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = ChildOutput(process)
    flows = Flows()
    try:
        url = output.wait_for(r"autodiscover root:\s+(\S+)", 60).group(1)
        output.wait_for(r"^Press Ctrl-C", 10)
        banner = output.text("stdout")
        assert url.startswith("http://127.0.0.1:"), url
        flows.passwords |= {ALICE[1], BOB[1], WRONG_PASSWORD}
        flows.tokens.add(MADE_UP_TOKEN)
        # `ucwa-nb serve` runs the default scenario: real servers' 180 s minimum poll.
        alice = _connect(flows, url, username=ALICE[0], password=ALICE[1], poll_timeout=180.0)
        conversation = {c.subject: c for c in alice.conversations()}["Project sync"]
        assert alice.add_phone_audio(conversation, to=JOHN).wait(WAIT).status == "Success"
        _expect(flows, UcwaError, alice.add_phone_audio, conversation, to=JOHN,
                phone_number="555", validate=False)
        with _client(flows) as raw:
            grant = raw.post(url.split("/autodiscover")[0] + "/WebTicket/oauthtoken",
                             data={"grant_type": "password", "username": BOB[0],
                                   "password": BOB[1]})
            token = grant.json()["access_token"]
            flows.tokens |= {token, bearer_of(alice.http_client).token or ""}
            # A careless client that puts its token in the URL.
            raw.get(url + "/oauth/user", params={"access_token": token})
        bob = _connect(flows, url, token=token, format="xml", poll_timeout=180.0)
        bob.conversations()
        for kwargs in ({"username": ALICE[0], "password": WRONG_PASSWORD},
                       {"token": MADE_UP_TOKEN}):
            with _client(flows) as client:
                _expect(flows, (DiscoveryError, UcwaError), ucwa_nb.connect, url,
                        http_client=client, poll_timeout=5.0, **kwargs)
        for session in flows.sessions:
            session.close()
        for client in flows.clients:
            client.close()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        output.join(10)
    stdout, stderr = output.text("stdout"), output.text("stderr")
    assert process.returncode == 0, stderr
    assert flows.sent_credentials <= flows.secrets
    assert not leaks(banner, flows.tokens), banner
    served = stdout.removeprefix(banner) + stderr
    assert "Simulator stopped." in served
    assert not leaks(served, flows.secrets), (leaks(served, flows.secrets), served[-3000:])
    assert not TOKEN_SHAPE.search(served)


# ------------------------------------------------------------------------- notebooks

def _outputs(notebook: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every stored output of every code cell, as text, with what it is; and the widget
    state the notebook saved. Images are skipped: base64 is not text anyone reads."""
    for n, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            where = f"cell {n} {output.get('output_type')}"
            text = output.get("text")
            if text is not None:
                yield where, "".join(text) if isinstance(text, list) else str(text)
            for mime, value in output.get("data", {}).items():
                if mime.startswith("image/"):
                    continue
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    yield f"{where} {mime}", "".join(value)
                else:
                    yield f"{where} {mime}", value if isinstance(value, str) else \
                        json.dumps(value)
            if "traceback" in output:
                yield f"{where} traceback", "\n".join(output["traceback"])
    widgets = notebook.get("metadata", {}).get("widgets")
    if widgets:
        yield "widget state", json.dumps(widgets)


def _scenario_passwords(notebook: dict[str, Any]) -> set[str]:
    """The passwords a notebook's code defines: literals given to a password parameter or
    key, and the accounts of any scenario TOML it writes (classroom attendees included)."""
    found: set[str] = set()
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        found.update(re.findall(r"""password["']?\s*[=:]\s*["']([^"']+)["']""", source))
        for block in re.findall(r"'''(.*?)'''|\"\"\"(.*?)\"\"\"", source, re.DOTALL):
            text = "".join(block)
            if "[[users]]" not in text and "[classroom]" not in text:
                continue
            with contextlib.suppress(tomllib.TOMLDecodeError, ValueError):
                users = scenario_from_dict(tomllib.loads(text)).users
                found.update(user.password for user in users)
    return found


def known_passwords() -> set[str]:
    found = {user.password for user in default_scenario().users}
    for path in NOTEBOOKS:
        found |= _scenario_passwords(json.loads(path.read_text(encoding="utf-8")))
    # Throwaway one-letter values ("y" for an unreachable server) are words, not secrets.
    return {p for p in found if len(p) >= 6}


def test_notebook_password_discovery_finds_the_scenarios() -> None:
    passwords = known_passwords()
    assert {"ucwa-demo", "ucwa-demo-bob", "ucwa-demo-guest"} <= passwords
    if any(p.name.startswith("08-") for p in NOTEBOOKS):  # the classroom's generated accounts
        # The 12 attendees' random passwords (16 characters, from the notebook's seed) and
        # the trainer's.
        assert "trainer-secret" in passwords, passwords
        assert sum(1 for p in passwords if len(p) == 16) >= 12, passwords


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_notebook_outputs_hold_no_token_or_password(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    outputs = list(_outputs(notebook))
    assert outputs, f"{path.name} has no stored outputs to check"
    passwords = known_passwords()
    for where, text in outputs:
        token = TOKEN_SHAPE.search(text) or BARE_TOKEN_SHAPE.search(text)
        assert token is None, (path.name, where, token.group(0) if token else None)
        assert not leaks(text, passwords), (path.name, where, leaks(text, passwords))


def test_the_notebook_scan_would_see_a_leak() -> None:
    """Planted in a copy of a real notebook, a token and a password are found."""
    notebook = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if c.get("outputs"))
    token = "cwt=" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v"
    cell["outputs"].append({"output_type": "stream", "name": "stdout",
                            "text": [f"Authorization: Bearer {token}\n"]})
    cell["outputs"].append({"output_type": "display_data", "metadata": {},
                            "data": {"text/html": ["<td>ucwa-demo</td>"]}})
    texts = [text for _, text in _outputs(notebook)]
    assert any(TOKEN_SHAPE.search(t) for t in texts)
    assert any(BARE_TOKEN_SHAPE.search(t) for t in texts)
    assert any(leaks(t, {"ucwa-demo"}) for t in texts)
