"""The bundled demo sample (Atelier Durand's mail, calendar and contacts) and the code that copies it into a workspace.

- ``materialize(dest, now)`` copies agent/demo/data into ``dest`` with every date moved by whole weeks so the
  story ends in ``now``'s week; it returns a ``SampleLayout``.
- ``ANCHOR``, ``QUOTES`` and ``what_to_expect(shift_weeks)`` say what the sample contains and what crm-agent
  should make of it.
- ``python -m agent.demo.sample.generate`` rewrites agent/demo/data from the scripted storylines.
"""

from agent.demo.sample.expectations import (
    ANCHOR,
    QUOTES,
    WHAT_TO_EXPECT,
    Expectation,
    QuoteCase,
    QuoteOutcome,
    what_to_expect,
)
from agent.demo.sample.materialize import DATA_DIR, SampleLayout, materialize, weeks_to_shift

__all__ = [
    "ANCHOR",
    "DATA_DIR",
    "QUOTES",
    "WHAT_TO_EXPECT",
    "Expectation",
    "QuoteCase",
    "QuoteOutcome",
    "SampleLayout",
    "materialize",
    "weeks_to_shift",
    "what_to_expect",
]
