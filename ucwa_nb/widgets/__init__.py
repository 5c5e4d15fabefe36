"""The widget layer: thin ipywidgets over the Session and the log (no protocol logic here)."""

from __future__ import annotations

from ucwa_nb.widgets.forms import (
    AddPhoneAudioForm,
    ContinuePhoneAudioForm,
    StartPhoneAudioForm,
)
from ucwa_nb.widgets.log_view import LogView

__all__ = ["AddPhoneAudioForm", "ContinuePhoneAudioForm", "LogView", "StartPhoneAudioForm"]
