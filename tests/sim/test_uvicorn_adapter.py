"""``sim/uvicorn_adapter.py``: the uvicorn it was written for, and its uses of uvicorn's
internals against the installed uvicorn (a real server on a loopback socket)."""

from __future__ import annotations

import asyncio
import socket
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import uvicorn
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ucwa_nb.sim.uvicorn_adapter import (
    UVICORN_VERSIONS,
    Connection,
    HookedServer,
    client_address,
    observed_protocol,
    reading_request,
    response_started,
    transport_serving,
    waiting_for_request,
)

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirement(name: str) -> Requirement:
    with PYPROJECT.open("rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    found = [Requirement(d) for d in dependencies if Requirement(d).name == name]
    assert len(found) == 1, f"pyproject.toml should list {name} once"
    return found[0]


def test_the_installed_uvicorn_is_one_the_adapter_was_written_for() -> None:
    installed = Version(version("uvicorn"))
    assert installed in SpecifierSet(UVICORN_VERSIONS), (
        f"uvicorn {installed} is installed, but ucwa_nb/sim/uvicorn_adapter.py was written "
        f"for uvicorn{UVICORN_VERSIONS}: check each use of uvicorn's internals listed in its "
        "docstring against this version, then widen UVICORN_VERSIONS and pyproject.toml")


def test_pyproject_allows_the_same_uvicorn_as_the_adapter() -> None:
    assert _requirement("uvicorn").specifier == SpecifierSet(UVICORN_VERSIONS), \
        "pyproject.toml's uvicorn range and UVICORN_VERSIONS must say the same"


def test_pyproject_bounds_starlette() -> None:
    # Starlette follows semantic versioning since 1.0: a major version may break the app.
    specifier = _requirement("starlette").specifier
    assert Version(version("starlette")) in specifier
    assert not specifier.contains("2.0")


class _Seen:
    """A ConnectionObserver that notes what it was told, and what the connection said."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.addresses: list[str] = []
        self.waiting_when_admitted: list[bool] = []

    def admit(self, connection: Connection) -> None:
        self.calls.append("admit")
        self.addresses.append(client_address(connection))
        self.waiting_when_admitted.append(waiting_for_request(connection))

    def data(self, connection: Connection) -> None:
        self.calls.append("data")

    def response_complete(self, connection: Connection) -> None:
        self.calls.append("response_complete")

    def forget(self, connection: Connection) -> None:
        self.calls.append("forget")


class _Server(HookedServer):
    moments: list[str]

    async def after_startup(self) -> None:
        self.moments.append("after_startup")

    async def before_shutdown(self) -> None:
        self.moments.append("before_shutdown")


def test_connections_are_observed_and_read_through_the_adapter() -> None:
    seen = _Seen()
    during: dict[str, Any] = {}
    holder: list[_Server] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await receive()
        server = holder[0]
        transport = transport_serving(server.connections, scope)
        connection = next(c for c in server.connections
                          if getattr(c, "transport", None) is transport)
        during.update(found=transport is not None, body=body["body"],
                      reading=reading_request(connection),
                      started_before=response_started(connection))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        during["started_after"] = response_started(connection)
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> bytes:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                        http=observed_protocol(seen)))
        server.moments = []
        holder.append(server)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.is_started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        writer.write(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
                     b"Connection: close\r\n\r\nhi")
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        server.ask_to_exit()
        assert server.is_exiting
        await asyncio.wait_for(serving, 5)
        sock.close()
        return answer

    answer = asyncio.run(main())
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"ok")
    assert seen.calls[0] == "admit"
    assert seen.calls[-1] == "forget"
    assert {"data", "response_complete"} <= set(seen.calls)
    assert seen.addresses == ["127.0.0.1"]
    assert seen.waiting_when_admitted == [True]
    assert during == {"found": True, "body": b"hi", "reading": False,
                      "started_before": False, "started_after": True}
    assert holder[0].moments == ["after_startup", "before_shutdown"]
