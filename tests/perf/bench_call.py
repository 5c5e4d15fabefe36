"""Per-call overhead of ``Session.add_phone_audio`` against a raw httpx POST.

Run:  python tests/perf/bench_call.py [-n 200] [--warmup 20] [--thread]

What is timed, each against the same simulator, with the same token and the same JSON body
shape (``{"operationId": ..., "to": ...}``), one call per fresh conversation:

  raw POST                  ``httpx.Client.post`` of the body to the addPhoneAudio URL
                            (the URL read beforehand, untimed): the floor.
  raw GET + POST            the same, plus the GET of phoneAudio that finds the link: what
                            navigation by link costs any client, however thin.
  add_phone_audio           ``session.add_phone_audio(conversation, to=...)``: the GET of
                            phoneAudio (link lookup), local validation, the POST, the call
                            registration and the log rows written by the httpx hooks.
  PreparedCall.send()       ``session.prepare_add_phone_audio(...)`` beforehand (untimed),
                            then only ``send()``: the POST with the session's bookkeeping.

The four are interleaved in one run, their order rotated each iteration, ``-n`` timed
iterations after ``--warmup`` untimed ones. Between measurements (untimed) the test waits
for the call's ``completed`` event, so the session's event thread is idle while the next one
is timed. Phones ring for 0 s. The simulator runs in a child process by default, so its work
does not compete with the client for this process's GIL (``--thread`` to run it in-process).

The ratios compare medians: add_phone_audio and send() against the raw POST, and
add_phone_audio against raw GET + POST (like for like: both navigate by link).

Importing this module has no side effects; everything starts from ``main()`` or ``run()``
(``tests/perf/report.py`` calls ``run()`` and ``summarize()``).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import httpx

from ucwa_nb.sim.scenario_loader import scenario_from_dict

CALLEE = "sip:john@contoso.com"
USER = ("alice@contoso.com", "ucwa-demo")
JSON = "application/json"
CALL_TIMEOUT = 5.0  # a completed event later than this means the run is broken
KINDS = ("raw POST", "raw GET + POST", "add_phone_audio", "PreparedCall.send()")


def scenario_dict(conversations: int) -> dict[str, Any]:
    """One user with ``conversations`` conversations with John, who answers at once."""
    return {
        "server": {"ring_timeout": 0.0, "min_poll_timeout": 1.0},  # polls of 60 s
        "users": [{
            "uri": "sip:" + USER[0],
            "password": USER[1],
            "name": "Alice Smith",
            "phone": "tel:+14255551234",
            "own_phone": {"behaviour": "answers", "after": 0.0},
            "conversations": [{"subject": f"Bench {i:04d}", "participants": [CALLEE]}
                              for i in range(conversations)],
        }],
        "contacts": [{"uri": CALLEE, "name": "John Doe", "behaviour": "answers",
                      "after": 0.0}],
    }


def _serve(data: dict[str, Any], conn: Connection) -> None:
    """Child process: run the simulator until the parent says stop."""
    from ucwa_nb import Simulator

    sim = Simulator(scenario_from_dict(data, name="bench"))
    conn.send(sim.url)
    conn.recv()
    sim.stop()


class _Server:
    def __init__(self, data: dict[str, Any], in_thread: bool) -> None:
        self._sim: Any = None
        self._process: Any = None
        self._conn: Connection | None = None
        if in_thread:
            from ucwa_nb import Simulator

            self._sim = Simulator(scenario_from_dict(data, name="bench"))
            self.url: str = self._sim.url
            return
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(data, child), daemon=True)
        self._process.start()
        if not parent.poll(30):
            self._process.kill()
            raise RuntimeError("the simulator process did not start")
        self.url = parent.recv()
        self._conn = parent

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()
        if self._conn is not None:
            self._conn.send("stop")
            self._process.join(15)


class _Completed:
    """operationIds whose completed event reached the session's log."""

    def __init__(self) -> None:
        self._done: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, row: Any) -> None:
        if row.kind == "event" and row.event_type == "completed" and row.operation_id:
            with self._cond:
                self._done.add(row.operation_id)
                self._cond.notify_all()

    def wait(self, operation_id: str) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: operation_id in self._done, CALL_TIMEOUT):
                raise RuntimeError(f"call {operation_id} did not complete")


def run(n: int, warmup: int, in_thread: bool) -> dict[str, list[float]]:
    import ucwa_nb
    from ucwa_nb.client.trust import bearer_of
    from ucwa_nb.protocol.representation import build_input

    total = n + warmup
    server = _Server(scenario_dict(len(KINDS) * total), in_thread)
    session = None
    raw = None
    try:
        session = ucwa_nb.connect(server.url, username=USER[0], password=USER[1],
                                  poll_timeout=60)
        completed = _Completed()
        session.log.subscribe(completed)
        conversations = session.conversations()
        if len(conversations) < len(KINDS) * total:
            raise RuntimeError("not enough conversations")
        token = f"Bearer {bearer_of(session.http_client).token}"
        raw = httpx.Client(headers={"Authorization": token}, timeout=10.0)
        json_headers = {"Content-Type": JSON, "Accept": JSON}

        def phone_audio_href(conversation: ucwa_nb.Conversation) -> str:
            link = conversation.resource.link("phoneAudio")
            assert link is not None
            return str(httpx.URL(conversation.href).join(link.href))

        samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
        gc.collect()
        gc.disable()
        clock = time.perf_counter
        for i in range(total):
            order = [KINDS[(i + k) % len(KINDS)] for k in range(len(KINDS))]
            for slot, kind in enumerate(order):
                conversation = conversations[len(KINDS) * i + slot]
                op = uuid.uuid4().hex
                body = build_input({"operationId": op, "to": CALLEE}, "json")
                if kind == "raw POST":
                    url = _add_link(raw, phone_audio_href(conversation), json_headers)
                    t0 = clock()
                    response = raw.post(url, content=body, headers=json_headers)
                    elapsed = clock() - t0
                    _check(response)
                elif kind == "raw GET + POST":
                    t0 = clock()
                    url = _add_link(raw, phone_audio_href(conversation), json_headers)
                    response = raw.post(url, content=body, headers=json_headers)
                    elapsed = clock() - t0
                    _check(response)
                elif kind == "add_phone_audio":
                    t0 = clock()
                    session.add_phone_audio(conversation, to=CALLEE, operation_id=op)
                    elapsed = clock() - t0
                else:
                    prepared = session.prepare_add_phone_audio(conversation, to=CALLEE,
                                                               operation_id=op)
                    t0 = clock()
                    prepared.send()
                    elapsed = clock() - t0
                completed.wait(op)
                if i >= warmup:
                    samples[kind].append(elapsed * 1000)
            if i % 25 == 0:
                gc.collect()
        return samples
    finally:
        gc.enable()
        if raw is not None:
            raw.close()
        if session is not None:
            session.close()
            session.http_client.close()
        server.stop()


def _add_link(client: httpx.Client, phone_audio_url: str, headers: dict[str, str]) -> str:
    from ucwa_nb.protocol.representation import Resource, parse

    response = client.get(phone_audio_url, headers=headers)
    resource = parse(response.content, response.headers.get("content-type"))
    if not isinstance(resource, Resource):
        raise RuntimeError("phoneAudio did not answer a resource")
    link = resource.link("addPhoneAudio")
    if link is None:
        raise RuntimeError("phone audio already in use in this conversation")
    return str(response.url.join(link.href))


def _check(response: httpx.Response) -> None:
    if response.status_code != 201:
        raise RuntimeError(f"raw POST answered {response.status_code}: {response.text}")


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(samples: dict[str, list[float]]) -> dict[str, float]:
    """Median ms of each kind (keys of KINDS) and the three ratios ``report`` prints:
    ``send/raw`` (the aim), ``add/raw`` and ``add/nav`` (add_phone_audio / raw GET + POST)."""
    med = {kind: statistics.median(samples[kind]) for kind in KINDS}
    raw, nav = med["raw POST"], med["raw GET + POST"]
    return med | {
        "send/raw": med["PreparedCall.send()"] / raw,
        "add/raw": med["add_phone_audio"] / raw,
        "add/nav": med["add_phone_audio"] / nav,
    }


def report(samples: dict[str, list[float]], write: Callable[[str], Any] = print) -> None:
    summary = summarize(samples)
    raw = summary["raw POST"]
    write(f"{'measurement':<44} {'n':>4} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8} "
          f"{'/ raw POST':>11}")
    labels = {
        "raw POST": "raw httpx.Client.post",
        "raw GET + POST": "raw GET phoneAudio + POST",
        "add_phone_audio": "add_phone_audio (with its link lookup)",
        "PreparedCall.send()": "PreparedCall.send() only (prepared before)",
    }
    for kind in KINDS:
        values = samples[kind]
        median = statistics.median(values)
        write(f"{labels[kind]:<44} {len(values):>4} {median:>10.3f} "
              f"{_quantile(values, 0.1):>8.3f} {_quantile(values, 0.9):>8.3f} "
              f"{median / raw:>11.2f}")
    write("")
    write(f"PreparedCall.send() / raw POST:              {summary['send/raw']:.2f}  "
          "(aim <= 1.10)")
    write(f"add_phone_audio / raw POST:                  {summary['add/raw']:.2f}  "
          "(includes a GET the raw POST does not make)")
    write(f"add_phone_audio / raw GET + POST:            {summary['add/nav']:.2f}  "
          "(like for like)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="timed iterations (each kind)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed iterations first")
    parser.add_argument("--thread", action="store_true",
                        help="run the simulator in this process (a thread)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    samples = run(args.n, args.warmup, args.thread)
    where = "in-process thread" if args.thread else "child process"
    print(f"add_phone_audio overhead: {args.n} timed iterations of each, interleaved, "
          f"simulator in a {where}, Python {sys.version.split()[0]}, httpx {httpx.__version__}")
    print()
    report(samples)
    print(f"\n(run took {time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
