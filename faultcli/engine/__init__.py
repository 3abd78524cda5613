"""The one training loop every command uses; tasks plug in through hooks, policies through callbacks."""

from faultcli.engine.engine import Callback, Engine
from faultcli.engine.hooks import StepContext, TaskHooks

__all__ = ["Callback", "Engine", "StepContext", "TaskHooks"]
