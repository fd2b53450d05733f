"""Child process for the token-rotation crash test: refresh one account's token and stop dead at a chosen point.

Usage: ``python refresh_child.py SETTINGS_JSON TOKEN_DIR STAGE``. At STAGE the child prints ``READY STAGE`` and
waits on stdin forever; the parent then kills it with SIGKILL, as a power cut or an OOM kill would.

Stages (in the order a refresh goes): ``refreshed`` (the server answered with a new refresh token, nothing was
written yet), ``temp-written`` (the new file's bytes are in the temporary file and fsynced, not renamed),
``renamed`` (the rename is done, the directory not yet synced).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.auth import token_file  # noqa: E402
from agent.auth.store import TokenStore  # noqa: E402
from agent.config.settings import Settings  # noqa: E402


def pause(stage: str) -> None:
    sys.stdout.write(f"READY {stage}\n")
    sys.stdout.flush()
    sys.stdin.read()  # blocks until the parent kills us


def main() -> None:
    settings = Settings.model_validate(json.loads(sys.argv[1]))
    directory, stage = Path(sys.argv[2]), sys.argv[3]
    if stage == "refreshed":
        real_write = token_file.TokenFile.write

        def write(self, record):
            pause(stage)
            real_write(self, record)

        token_file.TokenFile.write = write
    elif stage == "temp-written":
        real_replace = os.replace

        def replace(source, target):
            pause(stage)
            real_replace(source, target)

        token_file.os.replace = replace
    elif stage == "renamed":
        real_sync = token_file._fsync_directory

        def sync(path):
            pause(stage)
            real_sync(path)

        token_file._fsync_directory = sync
    store = TokenStore(settings.accounts, directory=directory)
    token = store.tokens(settings.accounts[0].name).access_token()
    print(f"DONE {token.value}")


if __name__ == "__main__":
    main()
