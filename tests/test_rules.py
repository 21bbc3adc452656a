"""Each rule in one place: found by reading the source, not by trusting a convention.

- whether an agreement is in force: ``detente.registry.rules.in_force`` (with
  ``force_span``) is its only definition, and its callers (the web's partner and
  agreement pages, the relations index, the planning prerequisites) use it;
- which statuses are open: the taxonomy's lifecycles, asked through ``open_statuses``;
  no module lists them again;
- the marking of a derived result: ``detente.core.markings.derived_marking``; nothing
  else calls ``combine``;
- permissions, not role names, in the interfaces; the lake's SQL in the slices that own
  the data, never in the interfaces.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "detente"
INTERFACES = ("api", "cli", "web")


def sources() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}


def definitions(name: str) -> list[str]:
    out = []
    for path, text in sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                out.append(path)
    return out


def calls(name: str) -> set[str]:
    out = set()
    for path, text in sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    out.add(path)
    return out


def test_in_force_is_defined_once_and_its_callers_use_it() -> None:
    for name in ("in_force", "_in_force", "force_span"):
        assert definitions(name) in ([], ["registry/rules.py"]), (name, definitions(name))
    assert definitions("in_force") == ["registry/rules.py"]
    users = calls("in_force") | calls("force_span")
    assert {"web/pages.py", "relations/index.py", "planning/prerequisites.py"} <= users
    # nobody works the dates out again
    again = [p for p, t in sources().items() if "in_force_on or" in t and p != "registry/rules.py"]
    assert again == []


def test_open_statuses_are_listed_once_in_the_taxonomy() -> None:
    lists = [
        r'\(\s*"proposed",\s*"planned",\s*"approved"',
        r'\(\s*"open",\s*"in_progress"',
        r'\(\s*"proposed",\s*"active"\)',
    ]
    found = {p for p, t in sources().items() for pattern in lists if re.search(pattern, t)}
    assert found == set(), found
    assert calls("open_statuses") >= {"web/pages.py", "planning/prerequisites.py", "vetting/guard.py"}


def test_derived_markings_are_combined_in_one_place() -> None:
    imported = {
        p
        for p, t in sources().items()
        if re.search(r"from detente\.core\.markings import [^\n]*\bcombine\b", t)
    }
    assert imported == set(), imported  # everyone asks derived_marking, which combines
    assert calls("derived_marking") >= {"web/render.py", "api/planning.py", "assessment/report.py"}


def test_interfaces_ask_permissions_not_role_names_and_hold_no_lake_sql() -> None:
    for path, text in sources().items():
        if path.split("/")[0] in INTERFACES:
            assert not re.search(r"\.role\s*[!=]=\s*\"", text), f"{path} compares a role's name"
            assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+.*\bFROM\b", text), f"{path} holds SQL"


def test_a_new_records_default_marking_is_the_same_in_every_interface() -> None:
    """One default: the CLI and the API take the create model's, and the web's forms
    offer the same one (owner only: releasing a record is a choice)."""
    from detente.store.models import DEFAULT_MARKING
    from detente.store.records import record_types

    assert DEFAULT_MARKING == "UNCLASSIFIED"
    for kind in record_types().values():
        assert kind.create_model.model_fields["marking"].default == DEFAULT_MARKING
    web = {p: t for p, t in sources().items() if p.startswith("web/")}
    assert not [p for p, t in web.items() if 'defaults["marking"] = "' in t]
    form = (SRC / "web" / "templates" / "engagement_form.html").read_text(encoding="utf-8")
    assert "values.marking or 'UNCLASSIFIED' }}" in form
