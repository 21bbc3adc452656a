"""Building the demonstration scenario into a workspace, and summarising what it holds.

``build_demo`` adds the scenario's organisations and users, then (once: a second run
changes nothing) its records through each organisation's ``Store`` (the store kernel's
service), and reports what the recorder and each demo user can see. It uses the store's
and the sharing service's public methods only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from detente.core.errors import ConfigError
from detente.core.workspace import Workspace
from detente.demo import scripted, world
from detente.demo.catalogue import CATALOGUE, NATO_MEMBERS, ORGS, RECORDER
from detente.demo.channels import build_channels
from detente.demo.engagements import engagements
from detente.demo.generator import Generator
from detente.demo.intel import build_intel
from detente.sharing.service import Sharing
from detente.store.service import ListQuery, Store

__all__ = ["DemoResult", "build_demo", "demo_users", "summarise"]

Progress = Callable[[int, int], None]


@dataclass
class DemoResult:
    """What ``build_demo`` made, as the recorder's administrator sees it."""

    counts: dict[str, int]
    created: bool
    as_of: date
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    visible: dict[str, int] = field(default_factory=dict)  # engagements each demo user sees
    overdue_commitments: int = 0


def demo_users() -> list[tuple[str, str, str, dict[str, str], str]]:
    """(username, org country, role, clearances, password) of the scenario's users."""
    out = []
    for iso3 in ORGS:
        for spec in CATALOGUE.scenario.roles:
            name = f"{iso3.lower()}-{spec.name}"
            nato = {"nato": spec.nato} if iso3 in NATO_MEMBERS else {}
            role = spec.role
            if iso3 == RECORDER and role == "administrator":
                role = "operator"  # the recorder runs the demo instance: its administrator operates it
            out.append((name, iso3, role, {"national": spec.national, **nato}, f"demo-{name}-password"))
    return out


def _organisations(session: Session) -> dict[str, Store]:
    """The scenario's organisations and users; a store per organisation (acting as its administrator)."""
    sharing = Sharing(session)
    orgs = {o.country: o for o in sharing.orgs()}
    usernames = {u.username for u in sharing.users()}
    if usernames and f"{RECORDER.lower()}-admin" not in usernames:
        raise ConfigError(
            "the demo scenario goes into a new workspace (this one has users): "
            "pass --workspace with a new folder"
        )
    first_admin = None
    for iso3, name in ORGS.items():
        if iso3 not in orgs:
            orgs[iso3] = sharing.add_org(name, iso3, actor=first_admin)
        for username, country, role, clearances, password in demo_users():
            if country == iso3 and role in ("administrator", "operator") and username not in usernames:
                sharing.add_user(
                    username,
                    orgs[iso3].id,
                    role=role,
                    clearances=clearances,
                    password=password,
                    actor=first_admin,
                )
        first_admin = first_admin or sharing.principal(f"{iso3.lower()}-admin")
    usernames = {u.username for u in sharing.users()}
    for username, country, role, clearances, password in demo_users():
        if username not in usernames:
            admin = sharing.principal(f"{country.lower()}-admin")
            sharing.add_user(
                username, orgs[country].id, role=role, clearances=clearances, password=password, actor=admin
            )
    return {iso3: Store(session, sharing.principal(f"{iso3.lower()}-admin")) for iso3 in ORGS}


def _generate(g: Generator, span: list[int], progress: Progress | None) -> None:
    """Every record of the scenario, in the one order the seed's draws depend on."""

    def done(step: int) -> None:
        if progress:
            progress(step, 4)

    world.actors(g)
    done(1)
    agreements = world.agreements(g, span[0])
    done(2)
    world.people(g)
    done(3)
    engagements(g, span, agreements)
    scripted.initiatives(g)
    scripted.planning(g)
    scripted.agreements(g)  # draws nothing: the seed's scenario is unchanged
    done(4)


def _tally(session: Session, reg: Store, created: bool, as_of: date) -> DemoResult:
    result = DemoResult(counts=reg.counts(), created=created, as_of=as_of)
    everything = ListQuery(limit=None)
    for e in reg.list("engagements", everything):
        result.by_kind[e.kind] += 1
        result.by_status[e.status] += 1
    result.overdue_commitments = sum(1 for c in reg.list("commitments", everything) if c.overdue)
    sharing = Sharing(session)
    for username, *_ in demo_users():
        result.visible[username] = Store(session, sharing.principal(username)).count("engagements")
    return result


def build_demo(
    ws: Workspace,
    *,
    seed: int = 2024,
    years: int = 4,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Fill ``ws`` with the demonstration scenario (once; a second run changes nothing).

    ``years`` of engagements end with next year's plans; ``as_of`` (today by default)
    decides each record's lifecycle status; ``progress(done, total)`` is told as the
    steps finish."""
    as_of = as_of or date.today()
    span = list(range(as_of.year - years + 2, as_of.year + 2))  # ends with next year's plans
    with ws.session() as session:
        regs = _organisations(session)
        reg = regs[RECORDER]
        created = reg.find_id("actors", record_id=None, external_id="demo:state:USA") is None
        if created:
            _generate(Generator(regs, seed, as_of), span, progress)
            build_channels(session, as_of)  # a hotline, its checks and messages, an incident (#15)
            build_intel(session, as_of)  # arrangements, sources, graded reports and releases (#14)
        return _tally(session, reg, created, as_of)


def summarise(result: DemoResult, console: Console) -> None:
    """Print what the demo holds: counts, kinds, lifecycle, overdue commitments, who sees what."""
    console.print(
        "[bold yellow]DEMONSTRATION DATA[/bold yellow]: fictional engagements among "
        "real countries, generated offline by `detente demo`."
    )
    if not result.created:
        console.print("(the demo scenario was already in this workspace; nothing added)")
    counts = Table("table", "records", title=f"registry as seen by {RECORDER.lower()}-admin")
    for name, n in result.counts.items():
        counts.add_row(name, f"{n:,}")
    console.print(counts)
    kinds = Table("engagement kind", "count", title="engagements by kind")
    for kind, n in result.by_kind.most_common():
        kinds.add_row(kind, str(n))
    console.print(kinds)
    statuses = Table("status", "count", title=f"lifecycle as of {result.as_of}")
    for status, n in result.by_status.most_common():
        statuses.add_row(status, str(n))
    console.print(statuses)
    console.print(f"commitments overdue: {result.overdue_commitments}")
    users = Table(
        "demo user", "role", "password", "engagements they can see", title="who sees what (markings enforced)"
    )
    for username, _country, role, _clearances, password in demo_users():
        users.add_row(username, role, password, str(result.visible.get(username, 0)))
    console.print(users)
