"""Sanctions lists: the UN Security Council consolidated list (XML), OFAC's SDN list
(legacy ``sdn.csv`` and the XML schema of ``sdn.xml`` / ``consolidated.xml``), and
OpenSanctions' FollowTheMoney entities (JSON lines).

All three normalise to one table shape, one row per listed entity: ``entity_id``,
``schema`` (FollowTheMoney's Person, Organization, Vessel, Aircraft, LegalEntity),
``name``, ``aliases``, ``birth_dates``, ``countries`` (ISO3 where they map),
``identifiers``, ``programs``, ``listed_on``, ``remarks``. The vetting slice builds its
candidate index from these.

XML is parsed with ``defusedxml``: a document that declares entities (the "billion laughs"
expansion bomb) or refers to external ones is refused, never expanded or fetched.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import pyarrow as pa
from defusedxml import DefusedXmlException

from detente.core.bounded import check_json_depth
from detente.core.errors import ValidationError
from detente.sources.tabular import NULLS, Parsed, Unmapped, head_bytes, read_bytes, read_text, to_iso3

__all__ = ["parse_ftm", "parse_ofac", "parse_un"]

SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("schema", pa.string()),
        ("name", pa.string()),
        ("aliases", pa.list_(pa.string())),
        ("birth_dates", pa.list_(pa.string())),
        ("countries", pa.list_(pa.string())),
        ("identifiers", pa.list_(pa.string())),
        ("programs", pa.list_(pa.string())),
        ("listed_on", pa.string()),
        ("remarks", pa.string()),
    ]
)


def _xml(path: Path) -> Element:
    data = read_bytes(path)
    try:
        return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ValidationError(
            f"{path}: refused: the XML declares or references entities ({type(exc).__name__}); "
            "sanctions lists never need them, and they are how entity-expansion and "
            "external-entity attacks work"
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise ValidationError(f"{path}, line {line}, column {column}: not well-formed XML ({exc})") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(node: Element | None) -> str | None:
    if node is None or node.text is None:
        return None
    text = " ".join(node.text.split())
    return text or None


def _child(node: Element, name: str) -> Element | None:
    return next((c for c in node if _local(c.tag) == name), None)


def _children(node: Element, name: str) -> Iterator[Element]:
    return (c for c in node if _local(c.tag) == name)


def _map_countries(rows: list[dict[str, Any]], system: str, unmapped: Unmapped) -> None:
    """Each row's ``countries`` (names or codes) to a sorted set of ISO3, misses counted."""
    values = [c for row in rows for c in row["countries"]]
    mapped = to_iso3(values, system, column="country", unmapped=unmapped).to_pylist() if values else []
    k = 0
    for row in rows:
        n = len(row["countries"])
        row["countries"] = sorted({m for m in mapped[k : k + n] if m})
        k += n


def _finish(rows: list[dict[str, Any]], unmapped: Unmapped, what: str, listed: str = "") -> Parsed:
    _map_countries(rows, "name", unmapped)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    kinds: dict[str, int] = {}
    for s in table.column("schema").to_pylist():
        kinds[s] = kinds.get(s, 0) + 1
    coverage = f"{what}{listed}: " + ", ".join(f"{n:,} {k}" for k, n in sorted(kinds.items()))
    return Parsed({"": table}, coverage, unmapped)


# ------------------------------------------------------------------ UN
def _un_row(node: Element, schema: str) -> dict[str, Any]:
    parts = [_text(_child(node, f)) for f in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    alias_tag = "INDIVIDUAL_ALIAS" if schema == "Person" else "ENTITY_ALIAS"
    aliases = [a for al in _children(node, alias_tag) if (a := _text(_child(al, "ALIAS_NAME")))]
    original = _text(_child(node, "NAME_ORIGINAL_SCRIPT"))
    if original:
        aliases.append(original)
    births = []
    for dob in _children(node, "INDIVIDUAL_DATE_OF_BIRTH"):
        value = _text(_child(dob, "DATE")) or _text(_child(dob, "YEAR"))
        if value:
            births.append(value[:10])
        for sub in _children(dob, "FROM_YEAR"):
            if (v := _text(sub)) is not None:
                births.append(v)
    countries = [v for n in _children(node, "NATIONALITY") for c in _children(n, "VALUE") if (v := _text(c))]
    for addr_tag in ("INDIVIDUAL_ADDRESS", "ENTITY_ADDRESS"):
        countries += [v for a in _children(node, addr_tag) if (v := _text(_child(a, "COUNTRY")))]
    identifiers = []
    for doc in _children(node, "INDIVIDUAL_DOCUMENT"):
        number = _text(_child(doc, "NUMBER"))
        if number:
            kind = _text(_child(doc, "TYPE_OF_DOCUMENT")) or "document"
            identifiers.append(f"{kind}: {number}")
    return {
        "entity_id": _text(_child(node, "REFERENCE_NUMBER")) or _text(_child(node, "DATAID")),
        "schema": schema,
        "name": name,
        "aliases": aliases,
        "birth_dates": births,
        "countries": countries,
        "identifiers": identifiers,
        "programs": [p for p in [_text(_child(node, "UN_LIST_TYPE"))] if p],
        "listed_on": _text(_child(node, "LISTED_ON")),
        "remarks": _text(_child(node, "COMMENTS1")),
    }


def parse_un(paths: list[Path]) -> Parsed:
    """The UN Security Council consolidated list (``consolidated.xml``)."""
    if len(paths) != 1:
        raise ValidationError("the UN consolidated list is one XML file")
    path = paths[0]
    root = _xml(path)
    if _local(root.tag) != "CONSOLIDATED_LIST":
        raise ValidationError(f"{path}: the root element is <{_local(root.tag)}>, not <CONSOLIDATED_LIST>")
    rows = []
    for group, item, schema in (
        ("INDIVIDUALS", "INDIVIDUAL", "Person"),
        ("ENTITIES", "ENTITY", "Organization"),
    ):
        for container in _children(root, group):
            rows += [_un_row(n, schema) for n in _children(container, item)]
    if not rows:
        raise ValidationError(f"{path}: no INDIVIDUAL or ENTITY entries")
    generated = root.get("dateGenerated", "")[:10]
    parsed = _finish(rows, Unmapped(), "UN consolidated list", f" of {generated}" if generated else "")
    parsed.version = generated or None
    return parsed


# ------------------------------------------------------------------ OFAC
OFAC_CSV = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
OFAC_TYPES = {
    "individual": "Person",
    "entity": "Organization",
    "vessel": "Vessel",
    "aircraft": "Aircraft",
    "": "LegalEntity",
}
_AKA = re.compile(r"a\.k\.a\.,? '([^']+)'", re.I)
_DOB = re.compile(r"DOB (\d{1,2} \w{3} \d{4}|\w{3} \d{4}|\d{4})")
_NAT = re.compile(r"(?:nationality|citizen) ([A-Z][\w ]+?)[;.]")


def _ofac_csv(path: Path) -> list[dict[str, Any]]:
    text = read_text(path, fallback="cp1252")
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and (not row[0].strip() or row[0].strip() == "\x1a")):
            continue
        if len(row) != len(OFAC_CSV):
            raise ValidationError(
                f"{path}, line {line}: {len(row)} fields; OFAC's sdn.csv has {len(OFAC_CSV)} "
                f"({', '.join(OFAC_CSV[:3])}, ...)"
            )
        v = [None if c.strip() in NULLS else c.strip() for c in row]
        if v[0] is None or not v[0].isdigit():
            raise ValidationError(f"{path}, line {line}, field ent_num: {row[0]!r} is not an entry number")
        remarks = v[11] or ""
        kind = (v[2] or "").lower()
        if kind not in OFAC_TYPES:
            raise ValidationError(
                f"{path}, line {line}, field SDN_Type: {row[2]!r} is not "
                "individual, entity, vessel or aircraft"
            )
        rows.append(
            {
                "entity_id": f"ofac-{v[0]}",
                "schema": OFAC_TYPES[kind],
                "name": v[1] or "",
                "aliases": _AKA.findall(remarks),
                "birth_dates": _DOB.findall(remarks),
                "countries": [n.strip() for n in _NAT.findall(remarks)] + ([v[9]] if v[9] else []),
                "identifiers": [f"call sign: {v[5]}"] if v[5] else [],
                "programs": [p.strip(" []") for p in (v[3] or "").split("] [") if p.strip(" []")],
                "listed_on": None,
                "remarks": v[11],
            }
        )
    return rows


def _ofac_name(node: Element) -> str:
    first, last = _text(_child(node, "firstName")), _text(_child(node, "lastName"))
    return " ".join(p for p in (first, last) if p)


def _ofac_xml(path: Path, published: list[str]) -> list[dict[str, Any]]:
    root = _xml(path)
    if _local(root.tag) != "sdnList":
        raise ValidationError(f"{path}: the root element is <{_local(root.tag)}>, not OFAC's <sdnList>")
    info = _child(root, "publshInformation")  # sic: OFAC's spelling
    date = _text(_child(info, "Publish_Date")) if info is not None else None
    if date and re.match(r"^\d{2}/\d{2}/\d{4}$", date):  # MM/DD/YYYY
        published.append(f"{date[6:]}-{date[:2]}-{date[3:5]}")
    rows = []
    for entry in _children(root, "sdnEntry"):
        uid = _text(_child(entry, "uid"))
        if uid is None:
            raise ValidationError(f"{path}: an sdnEntry has no uid")
        kind = (_text(_child(entry, "sdnType")) or "").lower()
        aka_list = _child(entry, "akaList")
        dobs = _child(entry, "dateOfBirthList")
        nats = _child(entry, "nationalityList")
        ids = _child(entry, "idList")
        addresses = _child(entry, "addressList")
        programs = _child(entry, "programList")
        countries = [c for n in (nats if nats is not None else []) if (c := _text(_child(n, "country")))]
        countries += [
            c for a in (addresses if addresses is not None else []) if (c := _text(_child(a, "country")))
        ]
        rows.append(
            {
                "entity_id": f"ofac-{uid}",
                "schema": OFAC_TYPES.get(kind, "LegalEntity"),
                "name": _ofac_name(entry),
                "aliases": [_ofac_name(a) for a in (aka_list if aka_list is not None else [])],
                "birth_dates": [
                    d for i in (dobs if dobs is not None else []) if (d := _text(_child(i, "dateOfBirth")))
                ],
                "countries": countries,
                "identifiers": [
                    f"{_text(_child(i, 'idType')) or 'id'}: {n}"
                    for i in (ids if ids is not None else [])
                    if (n := _text(_child(i, "idNumber")))
                ],
                "programs": [p for c in (programs if programs is not None else []) if (p := _text(c))],
                "listed_on": None,
                "remarks": _text(_child(entry, "remarks")),
            }
        )
    return rows


def parse_ofac(paths: list[Path]) -> Parsed:
    """OFAC's SDN list (``sdn.csv``, ``-0-`` for empty) or its XML (``sdn.xml``,
    ``consolidated.xml``); files are combined, an entry in two files kept once."""
    rows: dict[str, dict[str, Any]] = {}
    published: list[str] = []
    for path in paths:
        first = head_bytes(path, 200).lstrip()
        found = _ofac_xml(path, published) if first.startswith(b"<") else _ofac_csv(path)
        for row in found:
            rows.setdefault(row["entity_id"], row)
    parsed = _finish(list(rows.values()), Unmapped(), "OFAC")
    parsed.version = ", ".join(published) or None
    return parsed


# ------------------------------------------------------------------ OpenSanctions / FtM
_PERSONISH = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Aircraft", "PublicBody")


def parse_ftm(paths: list[Path]) -> Parsed:
    """FollowTheMoney entities, one JSON object per line (OpenSanctions' ``entities.ftm.json``).
    Entities of other schemata (addresses, sanctions, ownership links) are counted, not loaded."""
    rows: list[dict[str, Any]] = []
    skipped = 0
    for path in paths:
        text = read_text(path)
        check_json_depth(text, name=str(path))  # before json recurses into a line
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"{path}, line {number}: not a JSON object ({exc.msg})") from None
            if (
                not isinstance(doc, dict)
                or not isinstance(doc.get("id"), str)
                or not isinstance(doc.get("schema"), str)
            ):
                raise ValidationError(
                    f"{path}, line {number}: a FollowTheMoney entity needs an id and a schema"
                )
            props = doc.get("properties") or {}
            if not isinstance(props, dict) or not all(isinstance(v, list) for v in props.values()):
                raise ValidationError(f"{path}, line {number}, field properties: values must be lists")
            if doc["schema"] not in _PERSONISH:
                skipped += 1
                continue
            names = [str(n) for n in props.get("name", [])]
            rows.append(
                {
                    "entity_id": doc["id"],
                    "schema": doc["schema"],
                    "name": doc.get("caption") or (names[0] if names else doc["id"]),
                    "aliases": sorted(
                        set(names + [str(a) for a in props.get("alias", [])]) - {doc.get("caption")}
                    ),
                    "birth_dates": [str(d) for d in props.get("birthDate", [])],
                    "countries": [
                        str(c).upper() for c in props.get("nationality", []) + props.get("country", [])
                    ],
                    "identifiers": [
                        f"{k}: {v}"
                        for k in (
                            "idNumber",
                            "passportNumber",
                            "registrationNumber",
                            "innCode",
                            "imoNumber",
                            "taxNumber",
                        )
                        for v in props.get(k, [])
                    ],
                    "programs": [str(p) for p in props.get("program", []) + props.get("topics", [])],
                    "listed_on": str(doc["first_seen"])[:10] if doc.get("first_seen") else None,
                    "remarks": "; ".join(str(n) for n in props.get("notes", [])) or None,
                }
            )
    if not rows:
        raise ValidationError(
            f"{', '.join(map(str, paths))}: no person, organisation, vessel or aircraft entities"
        )
    # FtM countries are ISO 3166 alpha-2 codes (lower case); map those as iso2
    unmapped = Unmapped()
    _map_countries(rows, "iso2", unmapped)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    parsed = Parsed({"": table}, f"OpenSanctions: {table.num_rows:,} entities", unmapped)
    if skipped:
        parsed.notes.append(
            f"{skipped:,} entities of other schemata (addresses, sanctions, links) not loaded"
        )
    return parsed
