"""Recipes: typed schema and the TOML loading pipeline."""

from faultcli.config.load import dump_toml, load_config
from faultcli.config.schema import Config

__all__ = ["Config", "dump_toml", "load_config"]
