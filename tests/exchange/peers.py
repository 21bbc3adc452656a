"""Two detente instances for the federation tests (London: GBR, Paris: FRA), each a
workspace served by its own ``detente serve`` process, and a medallion server.

London's registry holds what it releases to France (staff talks, an agreement also
releasable to Germany), what it keeps (a SECRET survey) and what it releases to Germany
only (a liaison). Each instance has its partners' accounts: Paris's on London (``fra-peer``),
London's and Germany's on Paris (``gbr-peer``, ``deu-peer``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from detente.cli.context import save_login
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.exchange import sync
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f
from tests.conftest import start_migrated
from tests.live import free_port

DETENTE = str(Path(sys.executable).with_name("detente"))
MEDALLION = str(Path(sys.executable).with_name("medallion"))
SECRET = {"national": "SECRET"}
TAXII = "application/taxii+json;version=2.1"
# words of what London does not release to France: never in Paris's store, never on the wire
WITHHELD = ("Nightjar", "Baltic liaison")


@dataclass
class Instance:
    name: str
    path: Path
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # username -> API token
    ids: dict[str, str] = field(default_factory=dict)  # record label -> id
    process: subprocess.Popen[str] | None = None

    @property
    def root(self) -> str:
        return f"{self.url}/taxii2/detente/"

    @property
    def settings(self) -> Settings:
        return Settings(workspace=self.path, database_url=f"sqlite:///{self.path / 'registry.sqlite'}")

    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        ws = create_workspace(self.settings)
        try:
            yield ws
        finally:
            ws.close()

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}", "Accept": TAXII}


def _accounts(
    sharing: Sharing, home: tuple[str, str], partners: list[tuple[str, str, str]]
) -> dict[str, str]:
    """The home organisation and its operator, and one account per partner (name, country, user)."""
    org = sharing.add_org(home[0], home[1], actor=None)
    admin = f"{home[1].lower()}-admin"
    sharing.add_user(admin, org.id, role="operator", clearances=f.FULL, password=None, actor=None)
    boss = sharing.principal(admin)
    for name, country, user in partners:
        partner = sharing.add_org(name, country, actor=boss)
        sharing.add_user(user, partner.id, role="administrator", clearances=SECRET, password=None, actor=boss)
    users = [admin, *(u for _, _, u in partners)]
    return {u: sharing.issue_token(sharing.principal(u), name="federation")[0] for u in users}


def build_london(path: Path, template: Path) -> Instance:
    london = Instance("london", path)
    start_migrated(template, path / "registry.sqlite")
    with london.workspace() as ws, ws.session() as session:
        sharing = Sharing(session)
        london.tokens = _accounts(
            sharing,
            ("Ministry of Defence (United Kingdom)", "GBR"),
            [
                ("France (federation account)", "FRA", "fra-peer"),
                ("Germany (federation account)", "DEU", "deu-peer"),
            ],
        )
        reg = Store(session, sharing.principal("gbr-admin"))
        gbr = f.state(reg, "GBR", marking="UNCLASSIFIED//TLP:CLEAR")
        fra = f.state(reg, "FRA", marking="UNCLASSIFIED//TLP:CLEAR")
        deu = f.state(reg, "DEU", marking="UNCLASSIFIED//TLP:CLEAR")
        talks = f.engagement(
            reg,
            gbr,
            [fra],
            title="Channel staff talks",
            troops=40,
            marking="CONFIDENTIAL//REL TO FRA//TLP:AMBER",
        )
        survey = f.engagement(
            reg,
            gbr,
            [],
            title="Operation Nightjar survey",
            objectives="Nightjar coastal survey",
            marking="SECRET",
        )
        liaison = f.engagement(
            reg, gbr, [deu], title="Baltic liaison visit", start_date=date(2025, 6, 1),
            marking="CONFIDENTIAL//REL TO DEU",
        )  # fmt: skip
        treaty = f.agreement(
            reg, gbr, fra, title="Lancaster House follow-up", marking="RESTRICTED//REL TO DEU, FRA"
        )
        report = _intelligence_report(reg, gbr, fra)
        london.ids = {"talks": talks.id, "survey": survey.id, "liaison": liaison.id, "treaty": treaty.id}
        london.ids["report"] = report
    return london


def _intelligence_report(reg: Store, gbr: Any, fra: Any) -> str:
    """A graded report (B2) released to France under an intelligence-sharing arrangement: two
    paragraphs France may read, one SECRET paragraph it may not."""
    from detente.exchange.service import Exchange

    arrangement = f.agreement(
        reg, gbr, fra, title="UK-France intelligence sharing", kind="intelligence_sharing_arrangement",
        marking="UNCLASSIFIED//TLP:CLEAR",
    )  # fmt: skip
    reg.create(
        "release_terms",
        {
            "title": "UK-France terms",
            "agreement_id": arrangement.id,
            "up_to": "SECRET",
            "marking": "UNCLASSIFIED",
        },
    )
    exchange = Exchange(reg)
    view = exchange.write(
        {"title": "Trawlers loitering off Brest", "source_reliability": "B", "info_credibility": 2,
         "marking": "CONFIDENTIAL//REL TO FRA", "verification": "unverified"},
        [("CONFIDENTIAL//REL TO FRA", "Two trawlers loitered near the cable landing at 0300."),
         ("SECRET", "Nightjar reporting names the master of one trawler."),
         ("RESTRICTED//REL TO DEU, FRA", "Harbour logs show no declared fishing.")],
    )  # fmt: skip
    exchange.release(view.report.id, "FRA")
    return str(view.report.id)


def build_paris(path: Path, template: Path) -> Instance:
    paris = Instance("paris", path)
    start_migrated(template, path / "registry.sqlite")
    with paris.workspace() as ws, ws.session() as session:
        sharing = Sharing(session)
        paris.tokens = _accounts(
            sharing,
            ("Ministère des Armées", "FRA"),
            [
                ("United Kingdom (federation account)", "GBR", "gbr-peer"),
                ("Germany (account)", "DEU", "deu-peer"),
            ],
        )
        reg = Store(session, sharing.principal("fra-admin"))
        fra = f.state(reg, "FRA", marking="UNCLASSIFIED//TLP:CLEAR")
        mistral = f.engagement(
            reg, fra, [], title="Exercise Mistral", start_date=date(2025, 9, 1),
            marking="CONFIDENTIAL//REL TO GBR//TLP:AMBER",
        )  # fmt: skip
        paris.ids = {"mistral": mistral.id}
    return paris


def _wait(url: str, process: subprocess.Popen[str]) -> None:
    for _ in range(600):  # a readiness poll, not a timed assertion
        try:
            if httpx.get(url).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError(process.stdout.read() if process.stdout else "the server stopped")
    raise RuntimeError(f"{url} did not answer")


def serve(instance: Instance, *, wait: bool = True) -> None:
    """Start ``detente serve`` on the instance's workspace at a free port (and wait for it)."""
    port = free_port()
    env = {**os.environ, "DETENTE_DATABASE_URL": "", "COLUMNS": "200"}
    instance.process = subprocess.Popen(
        [DETENTE, "--workspace", str(instance.path), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    instance.url = f"http://127.0.0.1:{port}"
    if wait:
        ready(instance)


def ready(instance: Instance) -> None:
    """Wait until the instance's server answers."""
    assert instance.process is not None
    _wait(f"{instance.url}/api/v1/health", instance.process)


def stop(process: subprocess.Popen[str] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


MEDALLION_USER, MEDALLION_PASSWORD = "peer", "medallion-secret"
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


@contextmanager
def medallion(folder: Path) -> Iterator[str]:
    """The OASIS reference TAXII 2.1 server (memory backend, one writable collection) on a
    free port; yields its API root URL."""
    port = free_port()
    root = f"http://127.0.0.1:{port}/feed/"
    folder.mkdir(parents=True, exist_ok=True)
    collection: dict[str, Any] = {
        "id": MEDALLION_COLLECTION, "title": "Partner feed", "description": "", "can_read": True,
        "can_write": True, "media_types": ["application/stix+json;version=2.1"],
        "objects": [], "manifest": [],
    }  # fmt: skip
    data = {
        "/discovery": {"title": "medallion", "description": "", "default": root, "api_roots": [root]},
        "feed": {
            "information": {"title": "feed", "versions": [TAXII], "max_content_length": 1_000_000_000},
            "status": [],
            "collections": [collection],
        },
    }
    (folder / "data.json").write_text(json.dumps(data))
    backend = {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend"}
    config = {
        "backend": {**backend, "filename": str(folder / "data.json")},
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": 1000},
    }
    (folder / "config.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [MEDALLION, "--host", "127.0.0.1", "--port", str(port), str(folder / "config.json")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/taxii2/", process)
        yield root
    finally:
        stop(process)


def indicator(name: str, tlp_id: str | None) -> dict[str, Any]:
    """A plain STIX 2.1 indicator as another platform writes it (no detente extension)."""
    ident = f"indicator--{uuid.uuid4()}"
    body: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": ident, "name": name,
        "created": "2026-01-02T03:04:05.000Z", "modified": "2026-01-02T03:04:05.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-01-02T03:04:05Z", "indicator_types": ["malicious-activity"],
    }  # fmt: skip
    if tlp_id:
        body["object_marking_refs"] = [tlp_id]
    return body


@pytest.fixture(scope="session")
def pair(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> Iterator[tuple[Instance, Instance]]:
    london = build_london(tmp_path_factory.mktemp("london"), migrated_sqlite)
    paris = build_paris(tmp_path_factory.mktemp("paris"), migrated_sqlite)
    try:
        serve(london, wait=False)  # the two start together
        serve(paris, wait=False)
        ready(london)
        ready(paris)
        with paris.workspace() as ws, ws.session() as session:
            me = Sharing(session).principal("fra-admin")
            sync.add_peer(
                session,
                me,
                name="london",
                url=london.root,
                secret=london.tokens["fra-peer"],
                partner_user="gbr-peer",
            )
            save_login(ws, "fra-admin", paris.tokens["fra-admin"])
        with london.workspace() as ws, ws.session() as session:
            me = Sharing(session).principal("gbr-admin")
            sync.add_peer(
                session,
                me,
                name="paris",
                url=paris.root,
                secret=paris.tokens["gbr-peer"],
                partner_user="fra-peer",
            )
            save_login(ws, "gbr-admin", london.tokens["gbr-admin"])
        yield london, paris
    finally:
        stop(london.process)
        stop(paris.process)
