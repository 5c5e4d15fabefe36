"""Real-browser end-to-end tests: the notebooks in JupyterLab, driven through Chromium."""
