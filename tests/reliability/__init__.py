"""Reliability: the classroom load, and faults on the event channel (issue 7)."""
