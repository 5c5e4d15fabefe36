"""A faithful, stateful UCWA simulator for the phone-audio slice of Skype for Business."""

from __future__ import annotations

from ucwa_nb.sim.scenario import (
    ContactSpec,
    ConversationLogSpec,
    ConversationSpec,
    FaultSpec,
    PhoneSpec,
    PollFaultSpec,
    Scenario,
    ScenarioError,
    ServerSettings,
    UserSpec,
)
from ucwa_nb.sim.scenario_loader import scenario_from_dict, scenario_from_toml
from ucwa_nb.sim.server import Simulator, SimulatorError

__all__ = [
    "ContactSpec",
    "ConversationLogSpec",
    "ConversationSpec",
    "FaultSpec",
    "PhoneSpec",
    "PollFaultSpec",
    "Scenario",
    "ScenarioError",
    "ServerSettings",
    "Simulator",
    "SimulatorError",
    "UserSpec",
    "scenario_from_dict",
    "scenario_from_toml",
]
