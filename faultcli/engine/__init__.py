"""The one training loop every command uses; tasks plug in through hooks, policies through callbacks."""

from faultcli.engine.engine import Callback, Engine, TaskHooks

__all__ = ["Callback", "Engine", "TaskHooks"]
