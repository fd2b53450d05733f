"""Launch settings for the distribution's headless Chromium, for Playwright and pytest-playwright.

Playwright cannot download its own browser build here, so it always drives /usr/bin/chromium (Debian package
``chromium``) through ``executable_path``. The flags keep it headless, quiet on the network (no update, sync or
QUIC traffic) and runnable as root (``--no-sandbox``).
"""

from __future__ import annotations

import os
from typing import Any

from .process import INSTALL_HINT, MissingServerSoftware

CHROMIUM_EXECUTABLE = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_chromium() -> str:
    if not os.access(CHROMIUM_EXECUTABLE, os.X_OK):
        raise MissingServerSoftware(f"{CHROMIUM_EXECUTABLE} not found (Debian package chromium); {INSTALL_HINT}")
    return CHROMIUM_EXECUTABLE


def chromium_launch_args(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch(**...)``, merged over ``base`` (pytest-playwright's)."""
    merged = dict(base or {})
    merged["executable_path"] = require_chromium()
    merged.setdefault("headless", True)
    # A headed run (pytest --headed) must not get the --headless flag back through the argument list.
    flags = CHROMIUM_ARGS if merged["headless"] else [arg for arg in CHROMIUM_ARGS if arg != "--headless"]
    merged["args"] = [*merged.get("args", []), *flags]
    return merged
