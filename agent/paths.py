"""Where crm-agent keeps its files by default (XDG base directories, via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "crm-agent"


def config_dir() -> Path:
    return Path(os.environ["CRM_AGENT_CONFIG_DIR"]) if "CRM_AGENT_CONFIG_DIR" in os.environ else user_config_path(APP)


def data_dir() -> Path:
    return Path(os.environ["CRM_AGENT_DATA_DIR"]) if "CRM_AGENT_DATA_DIR" in os.environ else user_data_path(APP)


def default_config_file() -> Path:
    return config_dir() / "config.toml"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'crm-agent.db'}"
