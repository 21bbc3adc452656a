"""Sanctions lists: the UN Security Council consolidated list (XML), OFAC's SDN list
(legacy ``sdn.csv`` with its ``alt.csv`` aliases and ``add.csv`` addresses, and the XML
schema of ``sdn.xml`` / ``consolidated.xml``, the consolidated non-SDN list included), and
OpenSanctions' FollowTheMoney entities (JSON lines, every name property).

All three normalise to one table shape, one row per listed entity: ``entity_id``,
``schema`` (FollowTheMoney's Person, Organization, Vessel, Aircraft, LegalEntity),
``name``, ``aliases``, ``birth_dates``, ``countries`` (ISO3 where they map),
``identifiers``, ``programs``, ``listed_on``, ``remarks``, ``weak_aliases`` (those of the
aliases the list itself calls weak or of low quality: nicknames, noms de guerre; OFAC's
quoted a.k.a.s in ``sdn.csv`` remarks, the UN's "Low" quality, OFAC XML's "weak",
FollowTheMoney's ``weakAlias``) and ``addresses``. The vetting slice builds its candidate
index from these.

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

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

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
        ("weak_aliases", pa.list_(pa.string())),
        ("addresses", pa.list_(pa.string())),
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
    for row in rows:
        row.setdefault("weak_aliases", [])
        row.setdefault("addresses", [])
        for key in ("aliases", "weak_aliases"):  # "A; B; C" in one alias field is three aliases
            row[key] = list(dict.fromkeys(p.strip() for a in row[key] for p in a.split(";") if p.strip()))
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
    aliases, weak = [], []
    for al in _children(node, alias_tag):
        if a := _text(_child(al, "ALIAS_NAME")):
            aliases.append(a)
            if (_text(_child(al, "QUALITY")) or "").lower() == "low":  # the UN's own mark of a weak alias
                weak.append(a)
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
        "weak_aliases": weak,
        "addresses": [
            ", ".join(
                v for f in ("STREET", "CITY", "STATE_PROVINCE", "COUNTRY") if (v := _text(_child(a, f)))
            )
            for tag in ("INDIVIDUAL_ADDRESS", "ENTITY_ADDRESS")
            for a in _children(node, tag)
            if _text(_child(a, "CITY")) or _text(_child(a, "STREET"))
        ],
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
OFAC_ALT = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
OFAC_ADD = ("ent_num", "add_num", "address", "city_state_postal", "country", "add_remarks")
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


def _ofac_rows(path: Path) -> tuple[str, list[tuple[int, list[str | None], list[str]]]]:
    """An OFAC CSV's kind (sdn, alt or add, told by its field count: the files have no
    header) and its rows, each with its line, its values (``-0-`` as None) and raw fields."""
    text = read_text(path, fallback="cp1252")
    reader = csv.reader(io.StringIO(text, newline=""))
    kind, rows = "", []
    layouts = {len(OFAC_CSV): "sdn", len(OFAC_ALT): "alt", len(OFAC_ADD): "add"}
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and (not row[0].strip() or row[0].strip() == "\x1a")):
            continue
        kind = kind or layouts.get(len(row), "")
        expected = {"sdn": OFAC_CSV, "alt": OFAC_ALT, "add": OFAC_ADD}.get(kind)
        if expected is None or len(row) != len(expected):
            raise ValidationError(
                f"{path}, line {line}: {len(row)} fields; OFAC's sdn.csv has {len(OFAC_CSV)} "
                f"({', '.join(OFAC_CSV[:3])}, ...), alt.csv {len(OFAC_ALT)}, add.csv {len(OFAC_ADD)}"
            )
        v = [None if c.strip() in NULLS else c.strip() for c in row]
        if v[0] is None or not v[0].isdigit():
            raise ValidationError(f"{path}, line {line}, field ent_num: {row[0]!r} is not an entry number")
        rows.append((line, v, row))
    return kind, rows


def _ofac_csv(path: Path, rows: list[tuple[int, list[str | None], list[str]]]) -> list[dict[str, Any]]:
    out = []
    for line, v, row in rows:
        remarks = v[11] or ""
        kind = (v[2] or "").lower()
        if kind not in OFAC_TYPES:
            raise ValidationError(
                f"{path}, line {line}, field SDN_Type: {row[2]!r} is not "
                "individual, entity, vessel or aircraft"
            )
        weak = _AKA.findall(remarks)  # OFAC quotes its weak a.k.a.s in the remarks
        out.append(
            {
                "entity_id": f"ofac-{v[0]}",
                "schema": OFAC_TYPES[kind],
                "name": v[1] or "",
                "aliases": list(weak),
                "birth_dates": _DOB.findall(remarks),
                "countries": [n.strip() for n in _NAT.findall(remarks)] + ([v[9]] if v[9] else []),
                "identifiers": [f"call sign: {v[5]}"] if v[5] else [],
                "programs": [p.strip(" []") for p in (v[3] or "").split("] [") if p.strip(" []")],
                "listed_on": None,
                "remarks": v[11],
                "weak_aliases": list(weak),
            }
        )
    return out


def _ofac_extras(
    path: Path,
    kind: str,
    rows: list[tuple[int, list[str | None], list[str]]],
    entries: dict[str, dict[str, Any]],
) -> int:
    """alt.csv's aliases or add.csv's addresses added to their entries; the count of rows
    whose entry is not in the SDN files loaded with them."""
    missing = 0
    for line, v, _row in rows:
        entry = entries.get(f"ofac-{v[0]}")
        if entry is None:
            missing += 1
            continue
        if kind == "alt":
            if not v[3]:
                raise ValidationError(f"{path}, line {line}, field alt_name: empty")
            if v[3] not in entry["aliases"]:
                entry["aliases"].append(v[3])
        else:
            address = ", ".join(p for p in (v[2], v[3], v[4]) if p)
            if address:
                entry["addresses"].append(address)
            if v[4]:
                entry["countries"].append(v[4])
    return missing


def _ofac_name(node: Element) -> str:
    first, last = _text(_child(node, "firstName")), _text(_child(node, "lastName"))
    return " ".join(p for p in (first, last) if p)


def _xml_list(entry: Element, name: str) -> list[Element]:
    found = _child(entry, name)
    return list(found) if found is not None else []


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
        akas = _xml_list(entry, "akaList")
        addresses = _xml_list(entry, "addressList")
        countries = [c for n in _xml_list(entry, "nationalityList") if (c := _text(_child(n, "country")))]
        countries += [c for a in addresses if (c := _text(_child(a, "country")))]
        rows.append(
            {
                "entity_id": f"ofac-{uid}",
                "schema": OFAC_TYPES.get(kind, "LegalEntity"),
                "name": _ofac_name(entry),
                "aliases": [_ofac_name(a) for a in akas],
                "birth_dates": [
                    d for i in _xml_list(entry, "dateOfBirthList") if (d := _text(_child(i, "dateOfBirth")))
                ],
                "countries": countries,
                "identifiers": [
                    f"{_text(_child(i, 'idType')) or 'id'}: {n}"
                    for i in _xml_list(entry, "idList")
                    if (n := _text(_child(i, "idNumber")))
                ],
                "programs": [p for c in _xml_list(entry, "programList") if (p := _text(c))],
                "listed_on": None,
                "remarks": _text(_child(entry, "remarks")),
                "weak_aliases": [
                    _ofac_name(a) for a in akas if (_text(_child(a, "category")) or "").lower() == "weak"
                ],
                "addresses": [
                    ", ".join(
                        v for f in ("address1", "address2", "city", "country") if (v := _text(_child(a, f)))
                    )
                    for a in addresses
                ],
            }
        )
    return rows


def parse_ofac(paths: list[Path]) -> Parsed:
    """OFAC's SDN list (``sdn.csv``, ``-0-`` for empty, with ``alt.csv``'s aliases and
    ``add.csv``'s addresses when given beside it) or its XML (``sdn.xml``,
    ``consolidated.xml``, the consolidated non-SDN list); files are combined, an entry in
    two files kept once."""
    rows: dict[str, dict[str, Any]] = {}
    published: list[str] = []
    extras = []
    for path in paths:
        first = head_bytes(path, 200).lstrip()
        if first.startswith(b"<"):
            found = _ofac_xml(path, published)
        else:
            kind, raw = _ofac_rows(path)
            if kind in ("alt", "add"):
                extras.append((path, kind, raw))
                continue
            found = _ofac_csv(path, raw)
        for row in found:
            row.setdefault("addresses", [])
            rows.setdefault(row["entity_id"], row)
    if not rows:
        raise ValidationError(
            f"{', '.join(map(str, paths))}: no SDN entries; alt.csv and add.csv are read beside sdn.csv"
        )
    notes = []
    for path, kind, raw in extras:
        missing = _ofac_extras(path, kind, raw, rows)
        what = "aliases" if kind == "alt" else "addresses"
        notes.append(f"{path.name}: {len(raw) - missing:,} {what} added")
        if missing:
            notes.append(f"{path.name}: {missing:,} {what} of entries not in the SDN files, not loaded")
    parsed = _finish(list(rows.values()), Unmapped(), "OFAC")
    parsed.notes.extend(notes)
    parsed.version = ", ".join(published) or None
    return parsed


# ------------------------------------------------------------------ OpenSanctions / FtM
_PERSONISH = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Aircraft", "PublicBody")
# FollowTheMoney's name properties (weakAlias apart), and the parts a person's name is built of
_FTM_NAMES = ("name", "alias", "previousName", "abbreviation")
_FTM_PARTS = ("firstName", "secondName", "middleName", "fatherName", "lastName")
_FTM_IDS = ("idNumber", "passportNumber", "registrationNumber", "innCode", "imoNumber", "taxNumber")


def _ftm_row(doc: dict[str, Any], props: dict[str, list[Any]]) -> dict[str, Any]:
    names = [str(n) for key in _FTM_NAMES for n in props.get(key, [])]
    parts = [str(props[k][0]) for k in _FTM_PARTS if props.get(k)]
    if len(parts) > 1:
        names.append(" ".join(parts))
    weak = [str(n) for n in props.get("weakAlias", [])]
    caption = doc.get("caption") or (names[0] if names else weak[0] if weak else doc["id"])
    return {
        "entity_id": doc["id"],
        "schema": doc["schema"],
        "name": caption,
        "aliases": sorted(set(names + weak) - {caption}),
        "birth_dates": [str(d) for d in props.get("birthDate", [])],
        "countries": [str(c).upper() for c in props.get("nationality", []) + props.get("country", [])],
        "identifiers": [f"{k}: {v}" for k in _FTM_IDS for v in props.get(k, [])],
        "programs": [str(p) for p in props.get("program", []) + props.get("topics", [])],
        "listed_on": str(doc["first_seen"])[:10] if doc.get("first_seen") else None,
        "remarks": "; ".join(str(n) for n in props.get("notes", [])) or None,
        "weak_aliases": sorted(set(weak) - {caption}),
        "addresses": [str(a) for a in props.get("address", [])],
    }


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
            rows.append(_ftm_row(doc, props))
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
