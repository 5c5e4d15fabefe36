"""The TOML writer, read back by tomllib."""

from __future__ import annotations

import math
import tomllib
from datetime import UTC, datetime

import pytest

from ucwa_nb.record.toml import dumps


def test_what_a_scenario_uses_reads_back() -> None:
    data = {
        "name": 'quote " and \\ and\nnewline, é',
        "server": {"ucwa_version": "1.7", "min_poll_timeout": 5.0, "token_lifetime": 28800,
                   "lenient_uri_spacing": False},
        "users": [{"uri": "sip:a@x.com", "scopes": ["A", "B"],
                   "own_phone": {"behaviour": "answers", "after": 0.2},
                   "conversations": [{"subject": "S", "participants": ["sip:b@x.com"],
                                      "created": datetime(2026, 1, 5, 9, 0, tzinfo=UTC)}],
                   "conversation_logs": []}],
        "strict": {"resources": [{"path": "/p", "body": '{"a": "{app}"}'}], "links": []},
        "odd key": 1,
    }
    text = dumps(data, header="a header\nof two lines")
    assert text.startswith("# a header\n# of two lines\n")
    assert tomllib.loads(text) == data


@pytest.mark.parametrize("bad", [math.nan, object()])
def test_what_toml_cannot_hold_is_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        dumps({"x": bad})
