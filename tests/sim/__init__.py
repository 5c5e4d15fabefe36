"""Tests of the UCWA simulator (ucwa_nb.sim) over loopback HTTP."""
