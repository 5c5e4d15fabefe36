"""The attendee's own progress, outside UCWA (``protocol/exercises.py``): behind the
attendee's bearer token, so each sees only their own record.

* ``GET  <prefix>/_simulator/progress``: what the server saw the signed-in user do (the
  steps of ``rules/progress.py``) and where they stand on each exercise;
* ``POST <prefix>/_simulator/progress/<exercise>``: check one exercise now (a JSON body may
  carry ``{"answer": "..."}``): one more try, and the verdict with its hint
  (``rules/exercises.py``).

Answers are JSON (``application/json``); errors are UCWA's, in the format the client asks
for. No token: the 401 challenge, as for any UCWA resource.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ucwa_nb.protocol.exercises import EXERCISES, MAX_ANSWER, exercise_named
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import COMMON_HEADERS, read_body
from ucwa_nb.sim.routes.common import max_body, route, token_of, world_of
from ucwa_nb.sim.rules import exercises

__all__ = ["ROUTES"]

_HEADERS = {**COMMON_HEADERS, "Cache-Control": "no-store"}


async def progress(request: Request) -> Response:
    user = token_of(request).user
    record = world_of(request).progress.of(user)
    return JSONResponse({
        "simulator": "ucwa-nb", "user": user.spec.uri,
        "steps": [step.as_json() for step in record.steps],
        "exercises": [{"id": spec.id, "title": spec.title, "notebook": spec.notebook,
                       "passed": exercises.passed(spec, record),
                       "tries": record.tries.get(spec.id, 0)} for spec in EXERCISES],
    }, headers=_HEADERS)


async def check(request: Request) -> Response:
    user = token_of(request).user
    spec = exercise_named(request.path_params["exercise"])
    if spec is None:
        raise SimError(404, "NotFound", None, "There is no exercise of that name.")
    answer = _answer(await read_body(request, max_body(request)))
    world = world_of(request)
    tries = world.progress.count_try(user, spec.id)
    verdict = exercises.check(spec, world.progress.of(user), tries, answer)
    return JSONResponse({"simulator": "ucwa-nb", **verdict.as_json()}, headers=_HEADERS)


def _answer(body: bytes) -> str | None:
    if not body.strip():
        return None
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    answer = data.get("answer") if isinstance(data, dict) else None
    if answer is not None and (not isinstance(answer, str) or len(answer) > MAX_ANSWER):
        data = None
    if not isinstance(data, dict):
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters={
            "answer": f"The body must be a JSON object whose answer is a string of at most "
                      f"{MAX_ANSWER} characters."})
    return answer


ROUTES = [route("progress", progress, "GET"), route("progressCheck", check, "POST")]
