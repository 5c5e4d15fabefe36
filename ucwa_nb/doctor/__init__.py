"""The doctor: reads a log or a HAR and says why a call failed, in UCWA's terms.

``core`` (the record, the rules, the findings) imports only the protocol layer, so the
simulator may use it; ``sources`` reads an ExchangeLog, a DataFrame or a HAR file into a
record; ``explain`` is ``ucwa_nb.explain``; ``cli`` is ``ucwa-nb explain FILE.har``. This
package's own namespace holds only the core's names, so importing it loads no log.
"""

from ucwa_nb.doctor.core import RULES, Diagnosis, Exchange, Finding, Record, Rule, diagnose

__all__ = ["RULES", "Diagnosis", "Exchange", "Finding", "Record", "Rule", "diagnose"]
