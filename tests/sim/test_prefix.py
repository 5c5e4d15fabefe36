"""The simulator behind a proxy prefix (``[server] root_path``, ``ucwa-nb serve --prefix``):
through a real reverse proxy on loopback that forwards only ``/services/ucwa-nb/...`` and
passes paths and the Host header unchanged, as JupyterHub's proxy does for a service."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from support import ALICE, JOHN, fast_scenario, wait_for_parked_poll

import ucwa_nb
from ucwa_nb import Simulator
from ucwa_nb.sim import paths
from ucwa_nb.sim.cli import _parser
from ucwa_nb.sim.scenario import ScenarioError
from ucwa_nb.sim.scenario_loader import scenario_from_dict

PREFIX = "/services/ucwa-nb"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream_port = upstream_port
        self.forwarded: list[str] = []


class _Forward(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        if not self.path.startswith(PREFIX + "/"):  # the hub's proxy routes it elsewhere
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.forwarded.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST = do_DELETE = do_PUT = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def behind_proxy() -> Iterator[tuple[Simulator, _Proxy]]:
    sim = Simulator(fast_scenario(), root_path=PREFIX + "/")
    proxy = _Proxy(sim.port)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield sim, proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        sim.stop()


def _proxy_url(proxy: _Proxy) -> str:
    return f"http://127.0.0.1:{proxy.server_address[1]}"


def test_a_call_connects_through_the_proxy_with_every_href_under_the_prefix(
        behind_proxy: tuple[Simulator, _Proxy]) -> None:
    sim, proxy = behind_proxy
    root = _proxy_url(proxy) + PREFIX + paths.ROOT
    assert sim.url.endswith(PREFIX + paths.ROOT)
    with ucwa_nb.connect(root, username=ALICE[0], password=ALICE[1], poll_timeout=2) as session:
        wait_for_parked_poll(sim)
        call = session.add_phone_audio(session.conversations()[0], to=JOHN)
        call.wait(10)
        assert call.status == "Success"
        rows = session.log.rows
    # Location: the invitation, under the prefix (the log writes it absolute).
    locations = [row.location for row in rows if row.rel == "addPhoneAudio"]
    assert locations, [(r.rel, r.status, r.location) for r in rows if r.kind == "http"]
    invitations = _proxy_url(proxy) + PREFIX + "/ucwa/oauth/v1/applications/"
    assert all((loc or "").startswith(invitations) for loc in locations)
    # Every logged request went through the proxy's origin and under the prefix.
    assert all(row.url.startswith(_proxy_url(proxy) + PREFIX + "/")
               for row in rows if row.kind == "http" and row.url)
    bodies = " ".join(row.response_body or "" for row in rows)
    hrefs = re.findall(r'"href":\s*"([^"]+)"', bodies)
    assert hrefs, "the log holds the resources' links"
    assert all(h.startswith(PREFIX + "/") for h in hrefs), [h for h in hrefs
                                                            if not h.startswith(PREFIX)][:5]
    assert all(p.startswith(PREFIX + "/") for p in proxy.forwarded)


def test_the_challenge_names_the_token_url_under_the_prefix(
        behind_proxy: tuple[Simulator, _Proxy]) -> None:
    _, proxy = behind_proxy
    base = _proxy_url(proxy)
    answer = httpx.get(base + PREFIX + paths.USER)
    assert answer.status_code == 401
    challenge = [v for v in answer.headers.get_list("www-authenticate") if "MsRtcOAuth" in v]
    assert f'href="{base}{PREFIX}{paths.TOKEN}"' in challenge[0]
    root = httpx.get(base + PREFIX + paths.ROOT).json()
    assert root["_links"]["user"]["href"] == PREFIX + paths.USER


def test_a_path_outside_the_prefix_is_not_found(behind_proxy: tuple[Simulator, _Proxy]
                                                ) -> None:
    sim, _ = behind_proxy
    answer = httpx.get(sim.base_url + paths.ROOT)  # straight to the simulator, no prefix
    assert answer.status_code == 404
    assert answer.json()["code"] == "NotFound"


def test_hrefs_of_a_simulator_without_prefix_are_unchanged_meanwhile(
        behind_proxy: tuple[Simulator, _Proxy]) -> None:
    with Simulator(fast_scenario()) as plain:
        root = httpx.get(plain.url).json()
    assert root["_links"]["user"]["href"] == paths.USER


@pytest.mark.parametrize(("given", "normal"), [("/services/ucwa-nb/", "/services/ucwa-nb"),
                                               ("services/x", "/services/x"), ("/", ""),
                                               ("", "")])
def test_prefixes_are_normalised(given: str, normal: str) -> None:
    assert paths.normal_prefix(given) == normal


@pytest.mark.parametrize("bad", ['/a b', '/a"b', "/a?b", "/a#b", "/a\nb"])
def test_a_prefix_that_cannot_be_written_into_an_href_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a URL path prefix"):
        paths.normal_prefix(bad)
    with pytest.raises(ScenarioError, match="root_path"):
        scenario_from_dict({"users": [{"uri": "sip:a@b.c", "password": "x"}],
                            "server": {"root_path": bad}})


def test_serve_takes_a_prefix() -> None:
    args = _parser().parse_args(["serve", "--prefix", "/services/ucwa-nb/"])
    assert args.prefix == "/services/ucwa-nb/"
