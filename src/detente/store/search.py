"""Full-text search over every kind of record a reader may see: the store kernel's index.

Each registered record type's text fields, found from its declaration (strings and long
texts, lists of words; never references, dates, numbers or the marking), make one
document per record in ``search_documents``: the title's words and the others', folded
here (case, accents, punctuation) so that both stores index the very same words. SQLite
indexes them with FTS5 (``search_fts``, an external-content table kept in step by
triggers); PostgreSQL with a generated ``tsvector`` under a GIN index (migration 0012,
which also indexes the records already there). ``Store.create``, ``update`` and
``delete`` keep the documents in step (``index``, ``forget``).

``search`` is filtered by the one access decision, ``visible`` on each record's own
table: a record the reader may not see is neither found nor counted. Its snippets are
cut from the records as the reader gets them, HTML-escaped, with the matched words in
``<mark>``. The web's search page, ``GET /api/v1/search`` and ``detente search`` call it
alike. Each document also carries its record's marking columns, for PostgreSQL's
row-level security (the second line, as on the record tables); the search itself never
trusts that copy.

Query syntax: words (each matches the words that start with it; all must match) and
"quoted phrases" (these words, whole, in a row).
"""

from __future__ import annotations

import html
import re
import typing
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    CursorResult,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import CTE

from detente.core.db import metadata
from detente.core.errors import ValidationError
from detente.store.access import SCHEME_COLUMNS
from detente.store.records import RecordType, record_type, record_types

if TYPE_CHECKING:
    from detente.store.reads import Reader

__all__ = [
    "DOCUMENTS",
    "Group",
    "Hit",
    "Results",
    "Snippet",
    "Terms",
    "forget",
    "index",
    "matching",
    "parse",
    "rebuild",
    "search",
    "text_fields",
    "words",
]

MAX_TERMS = 16
MAX_QUERY = 200  # characters
PER_KIND = 20  # hits shown per kind of record, unless asked otherwise
SNIPPETS = 3  # per hit, besides its title
WINDOW = (8, 14)  # words shown before and after the first match of a snippet
MARK_COLUMNS = (*SCHEME_COLUMNS.values(), "mk_rel", "mk_tlp", "mk_recipients", "mk_public", "owner_org_id")
EXTERNAL_ID = "external_id"

DOCUMENTS = Table(
    "search_documents",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("record_type", String(64), nullable=False),
    Column("record_id", String(36), nullable=False, index=True, unique=True),
    Column("title", Text(), nullable=False, default=""),
    Column("body", Text(), nullable=False, default=""),
    # PostgreSQL: generated from title (weight A) and body (B), under a GIN index;
    # SQLite: always null (its index is the FTS5 table search_fts)
    Column("tsv", TSVECTOR().with_variant(Text(), "sqlite"), nullable=True),
    Column("mk_national", Integer(), nullable=False, default=0),
    Column("mk_nato", Integer(), nullable=False, default=-1),
    Column("mk_rel", String(1000), nullable=False, default="|"),
    Column("mk_tlp", String(20), nullable=False, default=""),
    Column("mk_recipients", String(1000), nullable=False, default="|"),
    Column("mk_public", Boolean(), nullable=False, default=False),
    Column("owner_org_id", String(36), nullable=True),
)
Index(
    "ix_search_documents_tsv", DOCUMENTS.c.tsv, postgresql_using="gin", sqlite_where=text("tsv IS NOT NULL")
)
_FTS = sql_table("search_fts", sql_column("rowid"))


# ----------------------------------------------------------------- the words
_WORD = re.compile(r"[^\W_]+")


def fold(token: str) -> list[str]:
    """A token's searchable words: decomposed, accents dropped, case folded ("Élysée" ->
    ["elysee"]; a ligature or a fraction may give several)."""
    decomposed = unicodedata.normalize("NFKD", token)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _WORD.findall(plain)


def _tokens(value: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, folded words) of each word of ``value`` (NFC, as snippets show it)."""
    return [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(value)]


def words(value: str) -> list[str]:
    """The folded words of a text, in order: what the index holds and a query matches."""
    return [w for _, _, folded in _tokens(unicodedata.normalize("NFC", value)) for w in folded]


# ------------------------------------------------------------ the text fields
def _is_text(annotation: Any) -> bool:
    """Whether a declared type is text: str (constrained or not), a literal of strings,
    a string enum, an optional one of those, or a list of them (a list of words)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_text(typing.get_args(annotation)[0])
    if origin in (Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not NoneType]
        return bool(args) and all(_is_text(a) for a in args)
    if origin in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return len(args) == 1 and _is_text(args[0])
    if origin is Literal:
        return all(isinstance(v, str) for v in typing.get_args(annotation))
    return isinstance(annotation, type) and (
        annotation is str or (issubclass(annotation, str) and issubclass(annotation, Enum))
    )


_FIELDS: dict[tuple[str, int], tuple[str, ...]] = {}


def text_fields(res: RecordType) -> tuple[str, ...]:
    """A record type's text fields, title first: what its documents hold."""
    key = (res.name, id(res))
    if key not in _FIELDS:
        _FIELDS[key] = _text_fields(res)
    return _FIELDS[key]


def _text_fields(res: RecordType) -> tuple[str, ...]:
    found = [
        name
        for name, info in res.fields_model.model_fields.items()
        if name not in res.refs and name not in res.links and name != "marking" and _is_text(info.annotation)
    ]
    found.sort(key=lambda name: name != res.title_field)
    return (*found, EXTERNAL_ID)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(_as_text(v) for v in value)
    return str(value.value if isinstance(value, Enum) else value)


def _document(res: RecordType, values: Mapping[str, Any]) -> dict[str, str]:
    title = res.title_field if res.title_field in values else None
    body = [words(_as_text(values.get(f))) for f in text_fields(res) if f != title]
    return {
        "title": " ".join(words(_as_text(values.get(title)))) if title else "",
        "body": " ".join(w for part in body for w in part),
    }


# ------------------------------------------------------------------- writes
def index(session: Session, res: RecordType, row: Mapping[str, Any], *, new: bool = False) -> None:
    """Write the document of one record from its columns (as the store has just written
    them): a new record's is added, a changed one's rewritten."""
    values = {name: row.get(name) for name in text_fields(res)}
    doc: dict[str, Any] = {**_document(res, values), **{c: row[c] for c in MARK_COLUMNS}}
    doc["record_type"] = res.name
    connection = session.connection()  # plain statements, built once (written on every change)
    if not new:
        done = connection.execute(_UPDATE, {**doc, "written_id": row["id"]})
        if typing.cast(CursorResult[Any], done).rowcount:
            return
    connection.execute(_INSERT, {**doc, "record_id": row["id"]})


_INSERT = insert(DOCUMENTS)
_UPDATE = update(DOCUMENTS).where(DOCUMENTS.c.record_id == bindparam("written_id"))


def forget(session: Session, record_id: str) -> None:
    """Drop a deleted record's document."""
    session.execute(delete(DOCUMENTS).where(DOCUMENTS.c.record_id == record_id))


def rebuild(connection: Connection, batch: int = 2000) -> int:
    """Write every record's document again (migration 0012 indexes the records already
    there with this). It reads only the columns the tables have when it runs, so a later
    migration's column is not asked of an older schema. Returns the documents written."""
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    connection.execute(delete(DOCUMENTS))
    written = 0
    for res in record_types().values():
        table = res.table.__table__
        if table.name not in present:
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        fields = [f for f in text_fields(res) if f in have]
        stmt = select(table.c.id, *(table.c[f] for f in fields), *(table.c[c] for c in MARK_COLUMNS))
        last = ""
        while True:
            rows = connection.execute(stmt.where(table.c.id > last).order_by(table.c.id).limit(batch)).all()
            if not rows:
                break
            docs = []
            for row in rows:
                data = row._mapping
                doc = _document(res, {f: data[f] for f in fields})
                marks = {c: data[c] for c in MARK_COLUMNS}
                docs.append({"record_type": res.name, "record_id": data["id"], **doc, **marks})
            connection.execute(insert(DOCUMENTS), docs)
            written += len(docs)
            last = rows[-1]._mapping["id"]
    return written


# ------------------------------------------------------------------ queries
@dataclass(frozen=True)
class Terms:
    """What a query asks: words that must each begin a word of the record, and phrases
    whose words must come whole and in a row."""

    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    def fts5(self) -> str:
        """As an FTS5 query (every part quoted: no user text is read as FTS5 syntax)."""
        parts = [f'"{w}"*' for w in self.words] + ['"' + " ".join(p) + '"' for p in self.phrases]
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """As a PostgreSQL tsquery (every lexeme quoted)."""
        phrases = ["(" + " <-> ".join(f"'{w}'" for w in p) + ")" for p in self.phrases]
        return " & ".join([f"'{w}':*" for w in self.words] + phrases)


def parse(query: str) -> Terms:
    """The words and "quoted phrases" of a query, folded as the index folds text."""
    query = query.strip()
    if len(query) > MAX_QUERY:
        raise ValidationError(f"a search is at most {MAX_QUERY} characters", field="q")
    phrases: list[tuple[str, ...]] = []
    for quoted in re.findall(r'"([^"]*)"', query):
        found = tuple(words(quoted))
        if found and found not in phrases:
            phrases.append(found)
    loose = list(dict.fromkeys(words(re.sub(r'"[^"]*"?', " ", query))))
    if not loose and not phrases:
        raise ValidationError("type a word to search for (letters or digits)", field="q")
    if len(loose) + len(phrases) > MAX_TERMS:
        raise ValidationError(f"a search has at most {MAX_TERMS} words or phrases", field="q")
    return Terms(tuple(loose), tuple(phrases))


def _matches(session: Session, terms: Terms) -> CTE:
    """Every document matching ``terms``, with its score (higher is better): one scan of
    the index per statement (the CTE is materialised)."""
    if session.get_bind().dialect.name == "postgresql":
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), literal(terms.tsquery()))
        stmt = select(
            DOCUMENTS.c.record_type, DOCUMENTS.c.record_id, func.ts_rank(DOCUMENTS.c.tsv, tsq).label("score")
        ).where(DOCUMENTS.c.tsv.op("@@")(tsq))
    else:
        fts: ColumnElement[Any] = literal_column("search_fts")
        stmt = (
            select(
                DOCUMENTS.c.record_type,
                DOCUMENTS.c.record_id,
                (-func.bm25(fts, 2.5, 1.0)).label("score"),  # a title word weighs 2.5 (as on PostgreSQL)
            )
            .select_from(_FTS.join(DOCUMENTS, DOCUMENTS.c.id == _FTS.c.rowid))
            .where(fts.op("MATCH")(terms.fts5()))
        )
    return stmt.cte("search_matches").prefix_with("MATERIALIZED")


def _visible_matches(reader: Reader, found: CTE, res: RecordType) -> Select[Any]:
    """The matches of one kind of record that the reader may see (the one access decision)."""
    return (
        select(found.c.record_type, found.c.record_id, found.c.score)
        .join(res.table, res.table.id == found.c.record_id)
        .where(found.c.record_type == res.name, reader.visible(res.table))
    )


def matching(reader: Reader, res: RecordType, query: str) -> ColumnElement[bool]:
    """SQL condition: records of ``res`` whose text matches ``query`` (for a listing's
    own filters; the listing applies ``visible`` itself)."""
    found = _matches(reader.session, parse(query))
    ids = select(found.c.record_id).where(found.c.record_type == res.name)
    return typing.cast(ColumnElement[bool], res.table.id.in_(ids))


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class Snippet:
    """Part of a field's text around what matched: (text, matched) pieces."""

    field: str
    parts: tuple[tuple[str, bool], ...]

    @property
    def html(self) -> str:
        """HTML-escaped, the matched words in ``<mark>`` (the only tags it holds)."""
        return "".join(f"<mark>{html.escape(t)}</mark>" if hit else html.escape(t) for t, hit in self.parts)

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.parts)


@dataclass(frozen=True)
class Hit:
    kind: str
    record_id: str
    title: Snippet  # the whole title, what matched in it marked
    snippets: tuple[Snippet, ...]
    score: float
    record: Any  # the record as the reader may see it (its public model)


@dataclass(frozen=True)
class Group:
    """One kind of record: how many match for the reader, and the best of them."""

    kind: str
    singular: str
    count: int
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Results:
    query: str
    terms: Terms
    groups: tuple[Group, ...]  # kinds with a match, in the registry's order

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def counts(self) -> dict[str, int]:
        return {g.kind: g.count for g in self.groups}

    def as_dict(self) -> dict[str, Any]:
        """Plain data: what ``GET /api/v1/search`` returns and ``detente search --json`` prints."""
        return {
            "query": self.query,
            "total": self.total,
            "counts": self.counts,
            "groups": [
                {
                    "kind": g.kind,
                    "singular": g.singular,
                    "count": g.count,
                    "hits": [
                        {
                            "id": h.record_id,
                            "title": h.title.text,
                            "title_html": h.title.html,
                            "marking": h.record.marking,
                            "score": round(h.score, 6),
                            "snippets": [
                                {"field": s.field, "html": s.html, "text": s.text} for s in h.snippets
                            ],
                        }
                        for h in g.hits
                    ],
                }
                for g in self.groups
            ],
        }


def _kinds(kinds: Iterable[str] | None) -> list[RecordType]:
    if not kinds:
        return list(record_types().values())
    chosen = {record_type(k).name for k in kinds}
    return [res for res in record_types().values() if res.name in chosen]


def search(
    reader: Reader,
    query: str,
    *,
    kinds: Sequence[str] | None = None,
    limit: int = PER_KIND,
    offset: int = 0,
) -> Results:
    """Records of every kind (or of ``kinds``) whose text matches ``query``, among those
    the reader may see: per kind, how many, and the ``limit`` best from ``offset`` on,
    each with its title and snippets marked. Ties keep the records' ids in order."""
    if not 1 <= limit <= 1000 or offset < 0:
        raise ValidationError("limit is 1 to 1000 and offset 0 or more", field="limit")
    terms = parse(query)
    chosen = _kinds(kinds)
    session = reader.session
    found = _matches(session, terms)
    per_kind = [_visible_matches(reader, found, res) for res in chosen]
    counted = [
        select(sub.c.record_type, func.count().label("n")).group_by(sub.c.record_type)
        for sub in (s.subquery() for s in per_kind)
    ]
    counts = {str(kind): int(n) for kind, n in session.execute(_union(counted)) if n}
    if not counts:
        return Results(query, terms, ())
    best = [
        s.order_by(found.c.score.desc(), found.c.record_id).limit(limit).offset(offset).subquery()
        for s, res in zip(per_kind, chosen, strict=True)
        if res.name in counts
    ]
    ranked: dict[str, list[tuple[str, float]]] = {}
    for kind, record_id, score in session.execute(_union([select(b) for b in best])):
        ranked.setdefault(str(kind), []).append((str(record_id), float(score)))
    groups = []
    for res in chosen:
        if res.name not in counts:
            continue
        hits = _hits(reader, res, terms, ranked.get(res.name, []))
        groups.append(Group(res.name, res.singular, counts[res.name], tuple(hits)))
    return Results(query, terms, tuple(groups))


def _union(selects: list[Select[Any]]) -> Any:
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _hits(reader: Reader, res: RecordType, terms: Terms, ranked: list[tuple[str, float]]) -> list[Hit]:
    from detente.store.reads import ListQuery

    if not ranked:
        return []
    records = {
        r.id: r for r in reader.list(res.name, ListQuery(filters={"id": [i for i, _ in ranked]}, limit=None))
    }
    out = []
    for record_id, score in ranked:
        record = records.get(record_id)
        if record is None:  # removed since (or hidden by a marking changed since)
            continue
        title = _as_text(getattr(record, res.title_field, None)) or record_id
        snippets = [
            s
            for f in text_fields(res)
            if f != res.title_field
            for s in [_snippet(f, _as_text(getattr(record, f, None)), terms)]
            if s is not None
        ]
        whole = _snippet(res.title_field, title, terms, whole=True)
        assert whole is not None
        out.append(Hit(res.name, record_id, whole, tuple(snippets[:SNIPPETS]), score, record))
    return out


# ----------------------------------------------------------------- snippets
def _marked(tokens: list[tuple[int, int, list[str]]], terms: Terms) -> list[int]:
    """Indexes of the tokens that match a query word or belong to a matched phrase."""
    marked: set[int] = set()
    flat = [(i, w) for i, (_, _, folded) in enumerate(tokens) for w in folded]
    for i, w in flat:
        if any(w.startswith(term) for term in terms.words):
            marked.add(i)
    for phrase in terms.phrases:
        n = len(phrase)
        for start in range(len(flat) - n + 1):
            if tuple(w for _, w in flat[start : start + n]) == phrase:
                marked.update(i for i, _ in flat[start : start + n])
    return sorted(marked)


def _snippet(field: str, value: str, terms: Terms, *, whole: bool = False) -> Snippet | None:
    """The matched words of ``value`` in context (all of it if ``whole``); None if none match."""
    value = " ".join(unicodedata.normalize("NFC", value).split())
    tokens = _tokens(value)
    marked = _marked(tokens, terms)
    if not marked and not whole:
        return None
    start, end = 0, len(value)
    if not whole and marked:
        first = max(0, marked[0] - WINDOW[0])
        last = min(len(tokens) - 1, marked[0] + WINDOW[1])
        start, end = tokens[first][0], tokens[last][1]
    parts: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for i in marked:
        s, e, _ = tokens[i]
        if s < start or e > end:
            continue
        if s > at:
            parts.append((value[at:s], False))
        parts.append((value[s:e], True))
        at = e
    if at < end:
        parts.append((value[at:end], False))
    if end < len(value):
        parts.append(("…", False))
    return Snippet(field, tuple(parts))
