"""Web forms generated from a record type's declaration: one widget per field, every
field's error shown at once beside it, and the markings a user may assign.

A widget's kind follows the field's type: a date picker for dates, a number for
counts and values, a menu for kinds and statuses (the values the field's validator
lists), a menu of the records a reference may name (those the viewer may see), a
multiple menu for lists of references, a text area for free text and lists of
words (one per line).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pydantic

from detente.core.markings import Principal, check_marking_change, parse, schemes
from detente.store.models import choices, plain
from detente.store.records import RecordType
from detente.store.service import Store, field_errors

__all__ = ["Widget", "assignable_markings", "errors_of", "parse_form", "widgets"]

MENU_LIMIT = 2000  # records offered in a reference menu


@dataclass
class Widget:
    name: str
    label: str
    kind: str  # text, textarea, date, number, select, multiselect, lines
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    error: str | None = None
    hint: str = ""


def _base(annotation: Any) -> Any:
    """The field's plain type without ``None``: ``date | None`` is ``date``."""
    kind = plain(annotation)
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) in (typing.Union, type(int | None)) and len(args) == 1:
        return args[0]
    return kind


def _reference_options(store: Store, target: str) -> list[tuple[str, str]]:
    return list(store.titles(target, limit=MENU_LIMIT).items())


def _widget(store: Store, kind: RecordType, name: str, info: Any) -> Widget:
    base = _base(info.annotation)
    label = kind.describe(name)
    required = info.is_required()
    target = kind.ref_target(name)
    if target:
        many = name in kind.links
        return Widget(name, label, "multiselect" if many else "select", required and not many,
                      options=_reference_options(store, target))  # fmt: skip
    allowed = choices(info.annotation, info.metadata)
    if allowed and typing.get_origin(base) is list:
        return Widget(name, label, "multiselect", options=[(a, a.replace("_", " ")) for a in allowed])
    if allowed:
        return Widget(name, label, "select", required, options=[(a, a.replace("_", " ")) for a in allowed])
    if typing.get_origin(base) is list:
        return Widget(name, label, "lines", hint="One per line")
    if base is date:
        return Widget(name, label, "date", required)
    if base in (int, float, Decimal):
        return Widget(name, label, "number", required)
    if base is bool:
        return Widget(
            name, label, "select", required, options=[("", "not said"), ("true", "yes"), ("false", "no")]
        )
    max_length = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)
    long_text = "notes" in name or name in (
        "description",
        "objectives",
        "observation",
        "findings",
        "screening",
    )
    return Widget(name, label, "textarea" if long_text or (max_length or 0) > 1000 else "text", required)


def assignable_markings(
    principal: Principal,
    coalitions: Mapping[str, set[str]],
    old: str | None,
    owner_org: str | None,
    partners: list[str] = (),  # type: ignore[assignment]
) -> list[str]:
    """The markings this principal may give a record: each level up to their clearance,
    owner only, or released to their country, one of its coalitions, or their country and
    a partner (the countries of the workspace's other organisations), plus public; for an
    existing record, only those the downgrade guard allows (and the current one)."""
    levels = schemes()["national"]
    top = principal.clearances.get("national", -1)
    mine = sorted(c for c in coalitions if principal.country in coalitions[c])
    with_partners = [f"{principal.country}, {p}" for p in sorted(set(partners) - {principal.country})]
    options = ["UNCLASSIFIED//TLP:CLEAR"]
    for level in levels[: top + 1]:
        options.append(level)
        options.extend(f"{level}//REL TO {group}" for group in [principal.country, *with_partners, *mine])
    current = parse(old) if old else None
    allowed = [m for m in options if check_marking_change(principal, current, parse(m), owner_org)]
    if old and parse(old).render() not in allowed:
        allowed.insert(0, parse(old).render())
    return list(dict.fromkeys(parse(m).render() for m in allowed))


def widgets(store: Store, kind: RecordType, values: Mapping[str, Any], errors: Mapping[str, str],
            markings: list[str]) -> list[Widget]:  # fmt: skip
    """The form of a record type: its fields, then its external id and marking, each with
    its value and its error."""
    out = [_widget(store, kind, name, info) for name, info in kind.fields_model.model_fields.items()]
    out.append(Widget("external_id", "Your own key for this record (used to match re-imports)", "text"))
    out.append(Widget("marking", "Marking: who may read it", "select", True,
                      options=[(m, m) for m in markings]))  # fmt: skip
    for w in out:
        w.value = values.get(w.name)
        w.error = errors.get(w.name)
    return out


def parse_form(kind: RecordType, form: Any, *, clear_blanks: bool = False) -> dict[str, Any]:
    """Field values from a submitted form, lists from menus or lines. A blank field is
    left out (its default applies), or with ``clear_blanks`` (an edit) cleared; a field
    the form does not carry is left as it is."""
    data: dict[str, Any] = {}
    for name in (*kind.fields, "external_id", "marking"):
        if name in kind.links or name in kind.list_fields:
            items = [str(v).strip() for v in form.getlist(name)]
            lines = [line.strip() for item in items for line in item.splitlines()]
            data[name] = [v for v in lines if v]
        elif name in form:
            value = str(form.get(name, "")).strip()
            if value or clear_blanks:
                data[name] = value or None
    return data


def errors_of(model: type[pydantic.BaseModel], data: Mapping[str, Any]) -> dict[str, str]:
    """Every field's problem at once (field -> message; ``""`` for the whole record)."""
    try:
        model.model_validate(data)
    except pydantic.ValidationError as exc:
        out: dict[str, str] = {}
        for name, message in field_errors(exc):
            key = name or ""
            out[key] = f"{out[key]}; {message}" if key in out else message
        return out
    return {}
