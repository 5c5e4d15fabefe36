"""The record of everything a session did: HTTP exchanges and delivered events as rows.

``exchange_log`` (ExchangeLog: rows in, a typed DataFrame out), ``har`` (HAR 1.2 export and
import) and ``redaction`` (secrets replaced when a row is recorded, never later).
"""

from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.log.har import read_har

__all__ = ["ExchangeLog", "read_har"]
