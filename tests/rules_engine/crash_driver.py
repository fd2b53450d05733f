"""Child process of the crash test: fire due timers and deliver the outbox in small steps until nothing is left.

``python -m tests.rules_engine.crash_driver CONFIG NOW`` prints "ready" once set up (the parent kills it at a random
moment after that) and "done" when there is nothing left to do.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from agent.clock import FakeClock
from agent.config import load_config
from agent.service import AgentService


def main(config: str, now_text: str) -> None:
    now = datetime.fromisoformat(now_text)
    service = AgentService(load_config(Path(config)), clock=FakeClock(now))
    rules = service.feature("rules")
    rules.configure(claim_limit=2, lease=timedelta(minutes=5))
    print("ready", flush=True)
    while True:
        fired = rules.tick(now)
        sent = rules.deliver_outbox(now, limit=2)
        if not fired.get("claimed") and not sent:
            break
    service.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
