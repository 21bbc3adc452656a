"""REST route for full-text search over every kind of record the caller may read
(``detente.store.search``: the web's search page and ``detente search`` answer the same)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.store.fields import Line
from detente.store.search import PER_KIND, search

__all__ = ["router"]

router = APIRouter(tags=["search"])
Work = Annotated[Unit, Depends(unit)]


class SnippetOut(BaseModel):
    field: str = Field(description="The field the words were found in")
    html: str = Field(description="The text around them, HTML-escaped, the matched words in <mark>")
    text: str = Field(description="The same text, plain")


class HitOut(BaseModel):
    id: str
    title: str
    title_html: str = Field(description="The title, HTML-escaped, the matched words in <mark>")
    marking: str
    score: float = Field(description="Relevance (higher is better; comparable within one answer)")
    snippets: list[SnippetOut]


class GroupOut(BaseModel):
    kind: str = Field(description="The record type, as in its routes: /api/v1/{kind}/{id}")
    singular: str
    count: int = Field(description="Records of this kind that match and that you may read")
    hits: list[HitOut] = Field(description="The best of them, best first, from offset on")


class SearchOut(BaseModel):
    query: str
    total: int = Field(description="Records that match and that you may read, of every kind")
    counts: dict[str, int]
    groups: list[GroupOut] = Field(description="Kinds with a match, in the registry's order")


@router.get(
    "/search",
    response_model=SearchOut,
    summary="Search the text of every record you may read, grouped by kind, with highlighted snippets",
    responses=responses(401, 422),
    operation_id="search",
)
def search_records(
    work: Work,
    q: Annotated[
        Line,
        Query(
            min_length=1,
            max_length=200,
            description='Words (each finds the words starting with it; all must match) and "phrases"',
        ),
    ],
    kind: Annotated[
        list[Line] | None, Query(max_length=64, description="Only these record types (repeatable)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Hits per kind")] = PER_KIND,
    offset: Annotated[int, Query(ge=0, le=100_000, description="Hits to skip per kind")] = 0,
) -> SearchOut:
    with work.registry() as reg:
        found = search(reg, q, kinds=kind, limit=limit, offset=offset)
        return SearchOut.model_validate(found.as_dict())
