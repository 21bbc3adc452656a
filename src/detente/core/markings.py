"""Markings: classification, releasability and TLP 2.0, as pure rules.

A marking is a classification level in a scheme (national or NATO), a
releasability set (REL TO countries as ISO alpha-3 and coalitions by name;
empty means owner organisation only), a TLP 2.0 label and, for TLP:RED, named
recipients. This module parses and renders banner strings, combines markings
(the marking of derived data), and decides whether a principal may read a
marked record, always with a reason. It knows nothing of databases: the
sharing slice applies these rules inside queries.

Banner grammar (parts separated by ``//``, in any order after the level)::

    UNCLASSIFIED//TLP:CLEAR                        public: readable by everyone
    SECRET//REL TO USA, GBR, NATO
    NATO CONFIDENTIAL//REL TO NATO//TLP:AMBER
    CONFIDENTIAL//NOFORN                           owner organisation only
    RESTRICTED//TLP:RED (ALICE, BOB)               named recipients only
    TLP:AMBER+STRICT                               level defaults to UNCLASSIFIED
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from detente.core.errors import ValidationError

__all__ = [
    "Decision",
    "Marking",
    "MarkingError",
    "Principal",
    "check_marking_change",
    "combine",
    "derived_marking",
    "may_read",
    "parse",
    "schemes",
    "tlp_levels",
]

SOURCE = Path(__file__).with_name("data") / "markings.yaml"
_TOKEN = re.compile(r"^[A-Z][A-Z0-9_\-]{1,31}$")  # ISO alpha-3 or a coalition name
_RECIPIENT = re.compile(r"^[A-Z0-9][A-Z0-9_.\-@]{0,99}$")


class MarkingError(ValidationError):
    """A banner that is not a well-formed marking (the message names the bad part)."""


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    return data


def schemes() -> dict[str, tuple[str, ...]]:
    """Scheme name -> its levels, lowest first."""
    return {name: tuple(s["levels"]) for name, s in _data()["schemes"].items()}


def tlp_levels() -> tuple[str, ...]:
    """TLP 2.0 labels, least restrictive first."""
    return tuple(_data()["tlp"])


def tlp_stix_id(label: str) -> str:
    return str(_data()["tlp"][label]["stix_id"])


@cache
def _level_index() -> dict[str, tuple[str, int]]:
    return {level: (scheme, i) for scheme, levels in schemes().items() for i, level in enumerate(levels)}


@dataclass(frozen=True, order=True)
class Marking:
    scheme: str = "national"
    level: int = 0
    rel_to: frozenset[str] = frozenset()
    tlp: str | None = None
    recipients: frozenset[str] = frozenset()
    # levels in other schemes that also apply (data derived from NATO and national sources)
    also: frozenset[tuple[str, int]] = frozenset()

    @property
    def requirements(self) -> dict[str, int]:
        """Clearance needed per scheme."""
        return {self.scheme: self.level, **dict(self.also)}

    @property
    def level_name(self) -> str:
        return schemes()[self.scheme][self.level]

    @property
    def public(self) -> bool:
        """Lowest level and TLP:CLEAR ("disclosure is not limited"): everyone may read it."""
        return self.tlp == "CLEAR" and not any(self.requirements.values())

    @property
    def tlp_rank(self) -> float:
        # no TLP label sits just above CLEAR: it never makes data public, and adding
        # GREEN or stronger narrows it
        return 0.5 if self.tlp is None else float(tlp_levels().index(self.tlp))

    def render(self) -> str:
        parts = [self.level_name] + [schemes()[s][lv] for s, lv in sorted(self.also)]
        if self.rel_to:
            countries = sorted(t for t in self.rel_to if len(t) == 3)
            coalitions = sorted(t for t in self.rel_to if len(t) != 3)
            parts.append("REL TO " + ", ".join(countries + coalitions))
        elif not self.public and self.level > 0:
            parts.append("NOFORN")
        if self.tlp:
            tlp = f"TLP:{self.tlp}"
            if self.recipients:
                tlp += " (" + ", ".join(sorted(self.recipients)) + ")"
            parts.append(tlp)
        return "//".join(parts)

    def __str__(self) -> str:
        return self.render()


def parse(banner: str) -> Marking:
    """Parse a banner string; malformed banners raise ``MarkingError`` naming the bad part."""
    text = " ".join(str(banner).strip().upper().split())
    if not text:
        raise MarkingError("empty marking", field="marking")
    parts = [p.strip() for p in text.split("//")]
    if any(not p for p in parts):
        raise MarkingError(f"{banner!r}: empty part between '//'", field="marking")
    scheme, level = "national", 0
    if parts[0].startswith("TLP:"):
        rest = parts
    else:
        found = _level_index().get(parts[0])
        if found is None:
            known = ", ".join(_level_index())
            raise MarkingError(
                f"{banner!r}: unknown classification {parts[0]!r} (one of {known})", field="marking"
            )
        scheme, level = found
        rest = parts[1:]
    rel: frozenset[str] | None = None
    noforn = False
    tlp: str | None = None
    recipients: frozenset[str] = frozenset()
    also: dict[str, int] = {}
    for part in rest:
        if part in _level_index():
            other, other_level = _level_index()[part]
            if other == scheme or other in also or parts[0].startswith("TLP:"):
                raise MarkingError(f"{banner!r}: two levels of the {other} scheme", field="marking")
            also[other] = other_level
        elif part.startswith("REL TO"):
            if rel is not None:
                raise MarkingError(f"{banner!r}: REL TO given twice", field="marking")
            tokens = [t.strip() for t in part.removeprefix("REL TO").split(",")]
            bad = [t for t in tokens if not _TOKEN.match(t)]
            if not tokens or bad:
                raise MarkingError(
                    f"{banner!r}: bad REL TO entry {bad[0] if bad else ''!r} "
                    "(use ISO alpha-3 codes and coalition names)",
                    field="marking",
                )
            rel = frozenset(tokens)
        elif part == "NOFORN":
            noforn = True
        elif part.startswith("TLP:"):
            if tlp is not None:
                raise MarkingError(f"{banner!r}: TLP given twice", field="marking")
            match = re.fullmatch(r"TLP:([A-Z+]+)(?: \((.*)\))?", part)
            if not match or match.group(1) not in tlp_levels():
                label = match.group(1) if match else part
                raise MarkingError(
                    f"{banner!r}: unknown TLP label {label!r} (TLP 2.0: {', '.join(tlp_levels())})",
                    field="marking",
                )
            tlp = match.group(1)
            if match.group(2) is not None:
                names = [n.strip() for n in match.group(2).split(",")]
                if tlp != "RED" or any(not _RECIPIENT.match(n) for n in names):
                    raise MarkingError(
                        f"{banner!r}: named recipients go with TLP:RED only, as TLP:RED (NAME, NAME)",
                        field="marking",
                    )
                recipients = frozenset(names)
        else:
            raise MarkingError(f"{banner!r}: unknown part {part!r}", field="marking")
    if noforn and rel:
        raise MarkingError(f"{banner!r}: NOFORN and REL TO contradict each other", field="marking")
    if tlp == "CLEAR" and (level > 0 or any(also.values())):
        raise MarkingError(f"{banner!r}: TLP:CLEAR cannot mark classified information", field="marking")
    return Marking(scheme, level, rel or frozenset(), tlp, recipients, frozenset(also.items()))


def normalise(banner: str) -> str:
    """The canonical form of a banner (what is stored)."""
    return parse(banner).render()


# ---------------------------------------------------------------- combination
def _expand(tokens: Iterable[str], coalitions: Mapping[str, Iterable[str]]) -> set[str]:
    out: set[str] = set()
    for t in tokens:
        out.add(t)
        out.update(coalitions.get(t, ()))
    return out


def combine(markings: Iterable[Marking], coalitions: Mapping[str, Iterable[str]] | None = None) -> Marking:
    """The marking of data derived from all of ``markings``.

    The most restrictive level (schemes are compared by rank; mixed schemes
    give the national scheme), the intersection of releasability (coalitions
    expanded to their member countries; public inputs add no restriction),
    the most restrictive TLP, and the intersection of TLP:RED recipients.
    """
    items = list(markings)
    if not items:
        raise ValueError("combine() needs at least one marking")
    coalitions = coalitions or {}
    needed: dict[str, int] = {}
    for m in items:
        for name, lv in m.requirements.items():
            needed[name] = max(needed.get(name, -1), lv)
    # the primary scheme is the one with the highest level (national on ties); the
    # others stay as additional requirements, so no clearance in one scheme reads the other's
    order = list(schemes())
    scheme = max(needed, key=lambda n: (needed[n], -order.index(n)))
    level = needed.pop(scheme)
    also = frozenset(needed.items())
    restricting = [m for m in items if not m.public]
    if not restricting:
        return Marking(scheme, 0, frozenset(), "CLEAR", also=also)
    common_tokens = set.intersection(*(set(m.rel_to) for m in restricting))
    common = set.intersection(*(_expand(m.rel_to, coalitions) for m in restricting))
    rel = {t for t in common if t in common_tokens or len(t) == 3}
    # a coalition kept whole covers its members: drop the members from the banner
    covered = _expand((t for t in rel if len(t) != 3), coalitions) - {t for t in rel if len(t) != 3}
    rel -= covered
    tlp = max((m for m in items), key=lambda m: m.tlp_rank).tlp
    # named TLP:RED recipients are an explicit release: they survive only if every
    # restricting input releases to them by name
    recipients: frozenset[str] = frozenset()
    if tlp == "RED":
        recipients = frozenset.intersection(
            *(m.recipients if m.tlp == "RED" else frozenset() for m in restricting)
        )
    if tlp == "CLEAR" and (level > 0 or any(lv for _, lv in also)):
        tlp = "GREEN"
    return Marking(scheme, level, frozenset(rel), tlp, recipients, also)


PUBLIC = "UNCLASSIFIED//TLP:CLEAR"


def derived_marking(
    sources: Iterable[object], coalitions: Mapping[str, Iterable[str]] | None = None
) -> Marking:
    """The marking of a result derived from ``sources`` (a count, an index, a chart, a
    report): records (anything with a ``marking`` banner), banners or markings. The
    combination of theirs; public when it is derived from nothing."""
    markings = [
        s if isinstance(s, Marking) else parse(s if isinstance(s, str) else s.marking)  # type: ignore[attr-defined]
        for s in sources
    ]
    return combine(markings, coalitions) if markings else parse(PUBLIC)


# ---------------------------------------------------------------- decisions
@dataclass(frozen=True)
class Principal:
    """Who is asking: a user of an organisation in a country, with clearances per scheme."""

    user: str
    org: str
    country: str
    coalitions: frozenset[str] = frozenset()
    clearances: Mapping[str, int] = field(default_factory=dict)
    role: str = "viewer"

    @property
    def tokens(self) -> frozenset[str]:
        """What a REL TO list must name for this principal to read: its country or a coalition."""
        return frozenset({self.country, *self.coalitions})

    def cleared_for(self, marking: Marking) -> bool:
        return all(self.clearances.get(s, -1) >= lv for s, lv in marking.requirements.items())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def may_read(principal: Principal, marking: Marking, owner_org: str | None) -> Decision:
    """May ``principal`` read a record with ``marking`` owned by ``owner_org``?"""
    if not principal.cleared_for(marking):
        return Decision(False, f"clearance below {marking.level_name}")
    own = owner_org is not None and owner_org == principal.org
    if marking.tlp == "RED" and not own:
        if principal.user.upper() not in marking.recipients:
            return Decision(False, "TLP:RED and not a named recipient")
        return Decision(True, "named TLP:RED recipient")
    if own:
        return Decision(True, "record of the principal's own organisation")
    if marking.public:
        return Decision(True, "public (TLP:CLEAR, unclassified)")
    if principal.tokens & marking.rel_to:
        return Decision(True, f"releasable to {', '.join(sorted(principal.tokens & marking.rel_to))}")
    return Decision(False, "not releasable to the principal's country or coalitions")


def check_marking_change(
    principal: Principal, old: Marking | None, new: Marking, owner_org: str | None
) -> Decision:
    """The downgrade guard: mark only up to one's clearance; widen only one's own records."""
    if not principal.cleared_for(new):
        return Decision(False, f"you may mark data only up to your clearance, not {new.level_name}")
    if old is None:
        return Decision(True, "new record")
    own = owner_org is not None and owner_org == principal.org
    widened = (
        (new.public and not old.public)
        or (not old.public and bool(old.rel_to) and not new.rel_to <= old.rel_to)
        or (not old.public and not old.rel_to and bool(new.rel_to))
        or (new.scheme == old.scheme and new.level < old.level)
        or new.tlp_rank < old.tlp_rank
        or (old.tlp == "RED" and not new.recipients <= old.recipients)
    )
    if widened and not own:
        return Decision(False, "only the owning organisation may widen or downgrade a marking")
    return Decision(True, "widened by the owner" if widened else "narrowed")
