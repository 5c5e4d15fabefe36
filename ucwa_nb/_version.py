"""The package's version, in one place: pyproject.toml reads it from here (hatchling's
``[tool.hatch.version]``), ``ucwa_nb.__version__`` re-exports it, and the HAR export names
it as its creator. A leaf module: importing it loads no layer."""

__version__ = "0.1.0"
