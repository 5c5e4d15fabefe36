"""The record of everything a session did: HTTP exchanges and delivered events as rows.

``exchange_log`` (ExchangeLog: exchanges and events in, rows out), ``derive`` (what a row says
about an exchange or an event, one derivation for live rows and HAR import), ``columns`` (the
rows' columns and the typed, incremental DataFrame build), ``har`` (HAR 1.2 export and import)
and ``redaction`` (secrets replaced when a row is recorded, never later). The log imports
nothing of the client: it records plain data.
"""

from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.log.har import read_har

__all__ = ["ExchangeLog", "read_har"]
