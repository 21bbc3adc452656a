"""Rendering pages: templates, navigation, and the marking banners.

Every record on a page is shown with its own marking banner, and the page's banner
(top and bottom) is the combination of every marking on it: the highest level, the
common releasability, the strictest TLP. A page collects the markings of what it
shows through ``Page.mark``; nothing is rendered unmarked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from detente.core.markings import Marking, Principal, derived_marking, parse
from detente.registry.taxonomy import taxonomy
from detente.store.permissions import role_permissions

__all__ = ["Page", "banner_class", "nav", "templates"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def banner_class(marking: Marking) -> str:
    """CSS class of a banner: by classification level (colours with enough contrast)."""
    if marking.public:
        return "m-clear"
    name = marking.level_name.upper()
    for word, css in (
        ("TOP SECRET", "m-ts"),
        ("SECRET", "m-s"),
        ("CONFIDENTIAL", "m-c"),
        ("RESTRICTED", "m-r"),
    ):
        if word in name:
            return css
    return "m-u"


@cache
def _nav() -> list[dict[str, Any]]:
    return list(yaml.safe_load((HERE / "nav.yaml").read_text(encoding="utf-8"))["sections"])


def nav(principal: Principal | None) -> list[dict[str, Any]]:
    """The sections this principal's role may open (data in nav.yaml)."""
    allowed = role_permissions(principal.role) if principal else frozenset()
    out = []
    for section in _nav():
        if section.get("needs") and section["needs"] not in allowed:
            continue
        children = [c for c in section.get("children", []) if not c.get("needs") or c["needs"] in allowed]
        out.append({**section, "children": children})
    return out


def coming(key: str) -> dict[str, Any] | None:
    return next((s for s in _nav() if s["key"] == key and s.get("coming")), None)


templates.env.globals.update(banner_class=banner_class, taxonomy=taxonomy)
templates.env.filters["marking"] = parse


@dataclass
class Page:
    """What one page shows, and so which markings its banner combines."""

    request: Request
    principal: Principal | None
    coalitions: dict[str, set[str]] = field(default_factory=dict)
    csrf: str = ""
    markings: list[Marking] = field(default_factory=list)

    def mark(self, record: Any) -> Any:
        if record is not None:
            self.markings.append(parse(record.marking))
        return record

    def mark_all(self, records: Iterable[Any]) -> list[Any]:
        return [self.mark(r) for r in records]

    def derived(self, records: Iterable[Any]) -> Marking:
        """Mark ``records`` and return the marking of what is derived from them (a chart)."""
        own = [parse(r.marking) for r in records]
        self.markings.extend(own)
        return self.combined(own)

    def combined(self, markings: list[Marking]) -> Marking:
        return derived_marking(markings, self.coalitions)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        banner = self.combined(self.markings)
        return templates.TemplateResponse(
            self.request,
            template,
            {
                "me": self.principal,
                "nav": nav(self.principal),
                "page_marking": banner,
                "csrf": self.csrf,
                "can": role_permissions(self.principal.role) if self.principal else frozenset(),
                **context,
            },
            status_code=status_code,
        )
