"""Federation over TAXII 2.1 (#14 point 6): sync 100,000 STIX objects between two detente
instances, objects per second and peak memory, against a medallion -> taxii2-client
transfer of the same bundle in the same run.

The bundle (built once, the same bytes for both sides): 100,000 objects as a detente peer
sends them: 1,000 identities and 99,000 notes referring to them, each under one of four
detente markings (statement marking-definitions and the OASIS TLP 2.0 ones, included),
with detente's marking extension, ~700 bytes each.

- **detente**: instance A (GBR) holds the bundle in its exchange collection (received
  earlier) and is served by ``detente serve`` (one process, SQLite). Each run copies an
  empty instance B (FRA, with A as its peer), then ``detente.exchange.sync.pull`` reads
  every page (2,000 objects) of A's collections as B's account there and stores the objects
  in B's registry. The run is B's process: its time and peak memory.
- **baseline**: medallion (the OASIS reference TAXII 2.1 server, memory backend, one
  process) holds the same bundle; each run is a process reading every page (2,000 objects)
  of its collection with the stock ``taxii2-client`` (``as_pages``).

medallion's memory backend pairs every manifest entry with every object to order a page
(``BasicFilter.sort_and_paginate``: quadratic, hours for 100,000 objects) and takes the
following pages off the front of a list one object at a time; the benchmark starts it
with those two steps done by a dict and a slice (``_fast_medallion``: the same answers,
in the same order, with the same headers), the best the baseline can be. The baseline's
client asks for ``match[spec_version]=2.1`` (every object is 2.1): without it medallion
compares every object with every other to keep each one's newest spec version.

What the baseline does not do (said next to the ratio): it only transfers and parses the
JSON. detente's side also authenticates, filters every object by the reader's markings on
the server (the store's access decision), and on the client validates every object with
the stix2 library, checks its marking may be released to the receiver and that it replays
nothing, and stores it with its marking columns and provenance in one transaction.

    .venv/bin/python benchmarks/exchange.py            # 100,000 objects, 5 rounds
    .venv/bin/python benchmarks/exchange.py --quick    # 5,000 objects, 5 rounds
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import alternate, child_main, emit, quick, row, value_row

OBJECTS = 5_000 if quick() else 100_000
PAGE = 2_000
BANNERS = (
    "UNCLASSIFIED//TLP:CLEAR",
    "UNCLASSIFIED//REL TO FRA//TLP:GREEN",
    "RESTRICTED//REL TO FRA//TLP:AMBER",
    "CONFIDENTIAL//REL TO DEU, FRA//TLP:AMBER",
)
ADDED = "2026-12-01T00:00:00.000000Z"
MEDALLION_USER, MEDALLION_PASSWORD = "bench", "bench-secret"
COLLECTION = "6f1c5a7e-3b2d-4c8e-9a1f-0d2e3c4b5a69"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[Any]) -> None:
    import httpx

    for _ in range(1200):
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server stopped")
    raise RuntimeError(f"{url} did not answer")


# ------------------------------------------------------------------ the bundle
def bundle(n: int) -> list[dict[str, Any]]:
    """``n`` objects as a detente peer sends them (definitions first)."""
    from detente.core.markings import parse
    from detente.sharing.stix import (
        MARKING_EXTENSION_ID,
        effective_tlp,
        marking_refs,
        statement_marking_definition,
        tlp_marking_definition,
    )

    definitions = [json.loads(tlp_marking_definition(t).serialize()) for t in ("CLEAR", "GREEN", "AMBER")]
    definitions += [json.loads(statement_marking_definition(b).serialize()) for b in BANNERS]

    def marked(banner: str) -> dict[str, Any]:
        m = parse(banner)
        ext = {
            "extension_type": "property-extension",
            "banner": m.render(),
            "classification": m.level_name,
            "scheme": m.scheme,
            "tlp": effective_tlp(m)[0],
            "tlp_implied": False,
        }
        if m.rel_to:
            ext["rel_to"] = sorted(m.rel_to)
        return {"object_marking_refs": marking_refs(banner), "extensions": {MARKING_EXTENSION_ID: ext}}

    stamp = "2026-11-20T10:00:00.000Z"
    people = max(1, n // 100)
    out = list(definitions)
    for i in range(n - len(definitions)):
        banner = BANNERS[i % len(BANNERS)]
        ident = f"identity--{uuid.UUID(int=i + 1, version=4)}"
        if i < people:
            obj = {
                "type": "identity",
                "spec_version": "2.1",
                "id": ident,
                "created": stamp,
                "modified": stamp,
                "name": f"Liaison officer {i}",
                "identity_class": "individual",
            }
        else:
            obj = {
                "type": "note",
                "spec_version": "2.1",
                "id": f"note--{uuid.UUID(int=i + 1, version=4)}",
                "created": stamp,
                "modified": stamp,
                "abstract": f"Port call report {i}",
                "content": f"Vessel {i} reported at berth {i % 40}; crew rotation and fuel as planned. " * 3,
                "object_refs": [f"identity--{uuid.UUID(int=(i % people) + 1, version=4)}"],
            }
        out.append({**obj, **marked(banner)})
    return out


# ------------------------------------------------------------------ detente's two instances
def _instances(folder: Path, objects: list[dict[str, Any]]) -> dict[str, str]:
    """Instance A holding the bundle, and an empty instance B (a template) with A as its peer."""
    from detente.core.settings import Settings
    from detente.core.workspace import create_workspace
    from detente.exchange.taxii.ingest import receive
    from detente.sharing.service import Sharing

    full = {"national": "TOP SECRET", "nato": "COSMIC TOP SECRET"}
    with create_workspace(Settings(workspace=folder / "a")) as ws, ws.session() as session:
        sharing = Sharing(session)
        home = sharing.add_org("Ministry of Defence (United Kingdom)", "GBR", actor=None)
        sharing.add_user("gbr-admin", home.id, role="operator", clearances=full, password=None, actor=None)
        boss = sharing.principal("gbr-admin")
        partner = sharing.add_org("France (federation account)", "FRA", actor=boss)
        secret = {"national": "SECRET"}
        sharing.add_user(
            "fra-peer", partner.id, role="administrator", clearances=secret, password=None, actor=boss
        )
        token, _ = sharing.issue_token(sharing.principal("fra-peer"), name="bench", days=7)
        receive(session, {"objects": objects}, origin="feed", owner_org=home.id, receiver=None)
    with create_workspace(Settings(workspace=folder / "b")) as ws, ws.session() as session:
        sharing = Sharing(session)
        home = sharing.add_org("Ministère des Armées", "FRA", actor=None)
        sharing.add_user("fra-admin", home.id, role="operator", clearances=full, password=None, actor=None)
        (folder / "peer-token").write_text(token)
    return {"token": token}


def _serve_a(folder: Path) -> tuple[subprocess.Popen[Any], str]:
    port = _free_port()
    detente = str(Path(sys.executable).with_name("detente"))
    env = {**os.environ, "DETENTE_DATABASE_URL": ""}
    process = subprocess.Popen(
        [detente, "--workspace", str(folder / "a"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    _wait(f"http://127.0.0.1:{port}/api/v1/health", process)
    return process, f"http://127.0.0.1:{port}/taxii2/detente/"


def _add_peer(folder: Path, url: str) -> None:
    from detente.core.settings import Settings
    from detente.core.workspace import create_workspace
    from detente.exchange import sync
    from detente.sharing.service import Sharing

    with create_workspace(Settings(workspace=folder / "b")) as ws, ws.session() as session:
        me = Sharing(session).principal("fra-admin")
        sync.add_peer(session, me, name="london", url=url, secret=(folder / "peer-token").read_text())


# ------------------------------------------------------------------ medallion
def _fast_medallion() -> None:
    """Run medallion (``--medallion ARGS...``) patched by ``_patch_medallion``."""
    from medallion.scripts.run import main as medallion_main

    _patch_medallion()
    sys.argv = ["medallion", *sys.argv[2:]]
    medallion_main()


def _patch_medallion() -> None:
    """medallion's quadratic pairing of manifest and objects replaced by a dict, and its
    next pages cut by a slice: the same answers."""
    from medallion.backends import memory_backend
    from medallion.common import find_att
    from medallion.exceptions import ProcessingError
    from medallion.filters.basic_filter import BasicFilter

    original = BasicFilter.sort_and_paginate

    def sort_and_paginate(self: Any, data: list[Any], limit: Any, manifest: list[Any]) -> Any:
        if not data or not manifest:
            return original(self, data, limit, manifest)
        manifest.sort(key=lambda x: x["date_added"])
        index: dict[Any, Any] = {}
        for check in data:
            index.setdefault((check["id"], find_att(check)), check)
        new, headers, temp = [], {}, None
        for man in manifest:
            check = index.get((man["id"], find_att(man)))
            if check is None:
                continue
            if not headers:
                headers["X-TAXII-Date-Added-First"] = man["date_added"]
            new.append(check)
            temp = man
            if len(new) == limit:
                headers["X-TAXII-Date-Added-Last"] = man["date_added"]
        next_save: Any = {}
        if limit and limit < len(data):
            next_save, new = new[limit:], new[:limit]
        elif temp is not None:
            headers["X-TAXII-Date-Added-Last"] = temp["date_added"]
        return new, next_save, headers

    def get_next(self: Any, filter_args: dict[str, Any], allowed: Any, manifest: Any, lim: int) -> Any:
        n = filter_args["next"]
        if n not in self.next:
            raise ProcessingError(
                "The server did not understand the request or filter parameters: 'next' not valid", 400
            )
        for arg in filter_args:
            filter_args[arg] = sorted(filter_args[arg].split(","))
        del filter_args["next"]
        del filter_args["limit"]
        if filter_args != self.next[n]["args"]:
            raise ProcessingError("params changed over subsequent transaction", 400)
        pending = self.next[n]["objects"]
        ret, more = pending[:lim], len(pending) > lim
        del pending[:lim]
        headers: dict[str, str] = {}
        if ret:
            memory_backend.find_headers(headers, manifest, ret[0])
            memory_backend.find_headers(headers, manifest, ret[-1])
        if not more:
            self.next.pop(n)
        return ret, more, headers, (n if more else None)

    BasicFilter.sort_and_paginate = sort_and_paginate
    memory_backend.MemoryBackend.get_next = get_next


def _serve_medallion(folder: Path, objects: list[dict[str, Any]]) -> tuple[subprocess.Popen[Any], str]:
    port = _free_port()
    root = f"http://127.0.0.1:{port}/bench/"
    manifest = [
        {
            "id": o["id"],
            "date_added": ADDED,
            "version": o.get("modified", o.get("created")),
            "media_type": "application/stix+json;version=2.1",
        }
        for o in objects
    ]
    collection = {
        "id": COLLECTION,
        "title": "bench",
        "description": "",
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": objects,
        "manifest": manifest,
    }
    data = {
        "/discovery": {"title": "medallion", "description": "", "default": root, "api_roots": [root]},
        "bench": {
            "information": {
                "title": "bench",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10**9,
            },
            "status": [],
            "collections": [collection],
        },
    }
    (folder / "medallion.json").write_text(json.dumps(data))
    backend = {
        "module": "medallion.backends.memory_backend",
        "module_class": "MemoryBackend",
        "filename": str(folder / "medallion.json"),
        # a "next" page is kept 30 s by default: 100,000 objects take longer than that to page
        # through on a busy machine, and an expired "next" is a 400
        "session_timeout": 3600,
    }
    config = {
        "backend": backend,
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": PAGE},
    }
    (folder / "medallion-config.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--medallion",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            str(folder / "medallion-config.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(f"http://127.0.0.1:{port}/taxii2/", process)
    return process, root


# ------------------------------------------------------------------ one run (a child process)
def run(name: str, folder: Path) -> dict[str, Any]:
    urls = json.loads((folder / "urls.json").read_text())
    if name == "detente":
        from detente.core.settings import Settings
        from detente.core.workspace import create_workspace
        from detente.exchange import sync
        from detente.sharing.service import Sharing

        work = Path(tempfile.mkdtemp(dir=folder))
        shutil.copytree(folder / "b", work / "b")
        with create_workspace(Settings(workspace=work / "b")) as ws:
            start = time.perf_counter()
            with ws.session() as session:
                result = sync.pull(session, Sharing(session).principal("fra-admin"), "london")
            seconds = time.perf_counter() - start
        shutil.rmtree(work)
        count = result.received.stored
    else:
        from taxii2client.v21 import ApiRoot, as_pages

        start = time.perf_counter()
        root = ApiRoot(urls["medallion"], user=MEDALLION_USER, password=MEDALLION_PASSWORD)
        collection = root.collections[0]
        # match[spec_version]=2.1 (every object is 2.1): without it medallion compares every
        # object with every other to keep the newest spec version of each
        pages = as_pages(collection.get_objects, per_request=PAGE, spec_version="2.1")
        count = sum(len(page.get("objects", [])) for page in pages)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "objects": count, "rate": count / seconds}


def main() -> None:
    if sys.argv[1:2] == ["--medallion"]:
        _fast_medallion()
        return
    if child_main(run):
        return
    folder = Path(tempfile.mkdtemp(prefix="detente-bench-exchange-"))
    servers: list[subprocess.Popen[Any]] = []
    try:
        objects = bundle(OBJECTS)
        print(f"building the two instances and medallion with {len(objects):,} objects", file=sys.stderr)
        _instances(folder, objects)
        a, a_url = _serve_a(folder)
        servers.append(a)
        _add_peer(folder, a_url)
        med, med_url = _serve_medallion(folder, objects)
        servers.append(med)
        (folder / "urls.json").write_text(json.dumps({"medallion": med_url}))
        runs = alternate(__file__, ["detente", "taxii2-client"], folder, repeat=5)
        counts = {n: {r["objects"] for r in rs} for n, rs in runs.items()}
        emit(
            "exchange",
            f"sync {len(objects):,} STIX objects between two detente instances over TAXII 2.1",
            [
                row(
                    f"objects per second ({len(objects):,} objects)",
                    runs["detente"],
                    runs["taxii2-client"],
                    baseline="medallion -> taxii2-client",
                    unit="obj/s",
                    key="rate",
                    higher_is_better=True,
                    note="the baseline only transfers and parses; detente also filters by markings, "
                    "validates every object with stix2 and stores it",
                ),
                row(
                    "wall time of the sync",
                    runs["detente"],
                    runs["taxii2-client"],
                    baseline="medallion -> taxii2-client",
                    unit="s",
                ),
                value_row(
                    "objects received per run",
                    f"detente {sorted(counts['detente'])}, taxii2-client {sorted(counts['taxii2-client'])}",
                ),
            ],
        )
    finally:
        for process in servers:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
