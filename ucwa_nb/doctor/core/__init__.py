"""The doctor's core: a plain record of exchanges, the rules, their findings.

Imports nothing of ucwa_nb but the protocol layer (an import-linter contract), so that the
simulator's trainer view can explain what it sees as well as the client side can.
"""

from ucwa_nb.doctor.core.diagnosis import Diagnosis, diagnose, findings_html
from ucwa_nb.doctor.core.finding import Finding, Rule, page_url
from ucwa_nb.doctor.core.record import Exchange, Record
from ucwa_nb.doctor.core.redact import scrub
from ucwa_nb.doctor.core.rules import RULES, rule

__all__ = ["RULES", "Diagnosis", "Exchange", "Finding", "Record", "Rule", "diagnose",
           "findings_html", "page_url", "rule", "scrub"]
