"""Record types: how a slice declares a kind of record to the store kernel.

A ``RecordType`` ties a table to its models (Create, Update, Public), its references
to other records, its list-valued links (agreement parties, engagement partners), its
lifecycle and its natural key (how a re-imported row finds the record it describes
when the file carries no id). Each slice declares its own record types in its
``records`` module and registers them; the kernel, the bulk import and export and the
interfaces (CLI verbs, API routes, web pages) are generated from these declarations.

The kernel knows no slice: the record types are found through the ``detente.records``
entry points (pyproject.toml), each naming a slice's module whose import registers its
types, the way plugins announce themselves. ``record_types()`` loads them once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import Index, String

from detente.core.errors import ValidationError
from detente.store.lifecycle import Lifecycle
from detente.store.models import RecordPublic, create_model_of, public_model_of, update_model_of

if TYPE_CHECKING:
    from detente.store.reads import Reader

__all__ = [
    "META_FIELDS",
    "WITHHELD",
    "Link",
    "RecordType",
    "record_type",
    "record_types",
    "register",
]

# Bookkeeping columns every record has, in export order (after the record's own fields).
META_FIELDS = ("marking", "version", "created_at", "created_by", "updated_at", "updated_by")
# The reference fields withheld from the reader (their target is hidden from them): a
# list-valued column of every export, informational only (an import ignores it).
WITHHELD = "withheld"
GROUP = "detente.records"


@dataclass(frozen=True)
class Link:
    """A list-valued reference kept in a link table (owner id, member id, position)."""

    table: type[Any]
    owner_column: str
    target: str = "actors"
    member_column: str = "actor_id"

    @property
    def owner(self) -> Any:
        return getattr(self.table, self.owner_column)

    @property
    def member(self) -> Any:
        return getattr(self.table, self.member_column)


# A rule that needs the store (a parent chain without cycles): called with the store and
# the record's merged values before a create or an update is written; raises to refuse.
Check = Callable[["Reader", Mapping[str, Any]], None]
# Another way a user names a record (a country for its state actor): the id, or None.
Resolver = Callable[["Reader", str, "str | None"], "str | None"]


@dataclass(frozen=True)
class RecordType:
    """One kind of record, as its slice declares it."""

    name: str  # plural, as in URLs and file names: "engagements"
    singular: str
    slice: str  # the package that owns it: "registry", "assessment"...
    rank: int  # where it comes in listings, exports and imports: after every type it references
    table: type[Any]
    fields_model: type[BaseModel]  # the record's own fields, each described once
    title_field: str
    natural_key: tuple[str, ...]
    description: str = ""
    refs: dict[str, str] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    lifecycle: tuple[str, Lifecycle] | None = None  # (status field, lifecycle)
    list_fields: tuple[str, ...] = ()  # list-valued columns (``withheld`` is added)
    filters: tuple[str, ...] = ("external_id",)  # fields a listing may be filtered by (exact match)
    date_field: str | None = None  # what --from/--to and calendars filter on
    order: str = "created_at"  # default sort
    aliases: tuple[str, ...] = ()  # other names users type ("attaches" for people)
    checks: tuple[Check, ...] = ()
    resolvers: tuple[Resolver, ...] = ()
    cli_names: dict[str, str] = field(default_factory=dict)  # field -> option name ("lead_actor_id": "lead")
    # a valid record, for the API's documentation and the tests: references are written
    # "@<record type>" (a list of references as several), to be filled with real ids
    example: dict[str, Any] = field(default_factory=dict)
    public_base: type[BaseModel] = RecordPublic  # adds computed properties (a commitment's overdue)
    # built from the declaration: what a user may send to create one, to change one, and
    # what detente returns (detente.store.models)
    create_model: type[BaseModel] = field(init=False)
    update_model: type[BaseModel] = field(init=False)
    public_model: type[BaseModel] = field(init=False)

    def __post_init__(self) -> None:
        if WITHHELD not in self.list_fields:
            object.__setattr__(self, "list_fields", (*self.list_fields, WITHHELD))
        object.__setattr__(self, "create_model", create_model_of(self.fields_model))
        object.__setattr__(self, "update_model", update_model_of(self.fields_model))
        public = public_model_of(self.fields_model, self.refs, self.public_base)
        object.__setattr__(self, "public_model", public)

    @property
    def fields(self) -> tuple[str, ...]:
        """The record's own fields in a stable, readable order."""
        return tuple(self.fields_model.model_fields)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every exported column: id, external id, own fields, bookkeeping."""
        return ("id", "external_id", *self.fields, *META_FIELDS, WITHHELD)

    def ref_target(self, name: str) -> str | None:
        if name in self.refs:
            return self.refs[name]
        if name in self.links:
            return self.links[name].target
        return None

    def describe(self, name: str) -> str:
        """What a field means (its ``Field(description=...)``), for help texts and labels."""
        info = self.fields_model.model_fields.get(name)
        return (info.description if info else None) or name.replace("_", " ")

    @property
    def withdraw_status(self) -> str | None:
        """The status a withdrawal moves a record to (its lifecycle says), if any."""
        return self.lifecycle[1].withdraw if self.lifecycle else None


_TYPES: dict[str, RecordType] = {}
_ALIASES: dict[str, str] = {}
_loaded = False
_ordered: dict[str, RecordType] | None = None  # record_types(), until the next register


def register(*types: RecordType) -> None:
    """Announce record types to the kernel (a slice's ``records`` module does, on import)."""
    global _ordered
    _ordered = None
    for kind in types:
        known = _TYPES.get(kind.name)
        if known is not None and known is not kind:
            raise ValueError(f"record type {kind.name!r} is declared twice ({known.slice}, {kind.slice})")
        _TYPES[kind.name] = kind
        for alias in (kind.singular.replace(" ", "_"), *kind.aliases):
            _ALIASES[alias] = kind.name
        _index_natural_key(kind)


def _index_natural_key(kind: RecordType) -> None:
    """Index the record type's natural key (every create, change and import looks it up):
    its columns up to the first unbounded text (a description is not indexed), unless an
    index already starts with them. Without it SQLite chose a one-column index, and looking
    up an engagement by title and start date read every engagement on that date. Migration
    0017 made these indexes; a new record type's migration makes its own."""
    table = kind.table.__table__
    columns = []
    for key in kind.natural_key:
        column = table.c[key]
        if isinstance(column.type, String) and column.type.length is None:
            break
        columns.append(column)
    names = tuple(c.name for c in columns)
    if names and not any(tuple(c.name for c in i.columns)[: len(names)] == names for i in table.indexes):
        Index(f"ix_{table.name}_natural_key", *columns)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from importlib.metadata import entry_points  # here: a command of one slice never reads them

    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        point.load()  # importing the module registers its types
    _loaded = True


def record_types() -> dict[str, RecordType]:
    """Every registered record type, by name, in rank order: a type comes after every
    type it references (the order imports take, and listings and exports show). Computed
    once (every request asks), again only when a type is registered."""
    global _ordered
    _load()
    if _ordered is not None:
        return dict(_ordered)
    ordered = sorted(_TYPES.values(), key=lambda k: (k.rank, k.name))
    rank = {k.name: k.rank for k in ordered}
    for kind in ordered:
        for target in (*kind.refs.values(), *(link.target for link in kind.links.values())):
            if target != kind.name and rank.get(target, kind.rank) >= kind.rank:
                raise ValueError(f"{kind.name} references {target}, which must rank before it")
    _ordered = {kind.name: kind for kind in ordered}
    return dict(_ordered)


def record_type(name: str) -> RecordType:
    """The record type called ``name`` (plural, singular or an alias); a clear error if none.

    A type already registered is returned without loading the other slices (a command
    that imported its own slice's ``records`` module starts without the rest)."""
    if name in _TYPES:
        return _TYPES[name]
    written = name.strip().lower().replace("-", "_")
    if _ALIASES.get(written, written) in _TYPES:
        return _TYPES[_ALIASES.get(written, written)]
    types = record_types()  # every slice's
    key = _ALIASES.get(written, written)
    if key not in types:
        raise ValidationError(f"unknown record type {name!r}; one of {', '.join(types)}")
    return types[key]


def iter_fields(kind: RecordType) -> Iterator[tuple[str, Any]]:
    """(name, pydantic field info) of a record type's own fields."""
    yield from kind.fields_model.model_fields.items()
