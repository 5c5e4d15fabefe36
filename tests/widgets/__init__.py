"""Headless tests of the ipywidgets layer (ucwa_nb.widgets) against a fast local simulator."""
