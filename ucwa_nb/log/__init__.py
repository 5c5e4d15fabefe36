"""The record of everything a session did: HTTP exchanges and delivered events as rows.

``exchange_log`` (ExchangeLog: exchanges and events in, rows out; HAR files in and out),
``columns`` (the one spec of the rows' columns: type, default, dtype, source, redaction, HAR
member), ``store`` (the typed, incremental DataFrame build), ``derive`` (what a row says
about an exchange or an event, one derivation for live rows and HAR import), ``har`` (rows
to HAR 1.2 documents and back, below the log), ``har_input`` (a HAR anyone wrote, read
member by member: ``HarError`` names what is wrong and where), ``csv_export`` (CSV no
spreadsheet runs as formulas) and ``redaction`` (secrets replaced when a row
is recorded, never later). The log imports nothing of the client: it records plain data.
"""

from ucwa_nb.log.exchange_log import ExchangeLog, read_har
from ucwa_nb.log.har_input import HarError

__all__ = ["ExchangeLog", "HarError", "read_har"]
