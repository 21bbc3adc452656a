"""The demonstration scenario: fictional engagements among real countries.

Built deterministically from a seed and an "as of" date, so ``detente demo`` works
offline and gives the same records every time (their ids are random, as everywhere:
the readable key of each is its external id, ``demo:...``). Every record is labelled
DEMONSTRATION. The scenario is shaped like real defense diplomacy: exercises peak in
spring and autumn, dialogues cluster around budget cycles, force sizes are skewed (many
small activities, a few large ones), and the lifecycle status of each engagement
follows its date relative to "as of".

The fixed content (countries, organisations and users, actors, engagement kinds and
seasons, the initiatives and planning cases) is data in ``data/``, read by
``catalogue`` and ``scripted``; the seeded draws are in ``generator``, ``world`` and
``engagements``; ``build`` puts it all into a workspace. The package sits above the
capability slices (it makes records of every one) and below the interfaces.
"""

from __future__ import annotations

from detente.demo.build import DemoResult, build_demo, demo_users, summarise
from detente.demo.catalogue import (
    COUNTRIES,
    DEFAULT_USER,
    FVEY_MEMBERS,
    LEADERS,
    NATO_MEMBERS,
    NOTE,
    ORGS,
    PUBLIC,
    RECORDER,
)

__all__ = [
    "COUNTRIES",
    "DEFAULT_USER",
    "FVEY_MEMBERS",
    "LEADERS",
    "NATO_MEMBERS",
    "NOTE",
    "ORGS",
    "PUBLIC",
    "RECORDER",
    "DemoResult",
    "build_demo",
    "demo_users",
    "summarise",
]
