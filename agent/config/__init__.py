"""Validated settings: the TOML file is read once, checked whole, and every problem is reported with its key path."""

from agent.config.loader import find_config_file, load_config, load_config_text
from agent.config.settings import Settings, fingerprint

__all__ = ["Settings", "find_config_file", "fingerprint", "load_config", "load_config_text"]
