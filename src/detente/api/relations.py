"""REST routes for partner relations: a country's partners, the defense-cooperation network,
a pair's cooperation index and UN alignment.

Each answer is computed from the context lake and the registry records the caller may
read, and carries the marking of those records (``UNCLASSIFIED//TLP:CLEAR`` when it used
open data only).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.relations import network as net
from detente.relations import peacekeeping as pko
from detente.relations import service

__all__ = ["router"]

router = APIRouter(prefix="/relations", tags=["relations"])
Work = Annotated[Unit, Depends(unit)]
Year = Annotated[int, Query(ge=1816, le=2100, description="The year.")]
Iso3 = Annotated[str, Query(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$", description="ISO3 code.")]


class Answer(BaseModel):
    marking: str
    data: dict[str, Any]


def _answer(work: Unit, compute: Any) -> Answer:
    with work.sharing() as (sharing, principal):
        from detente.store.service import Store

        reg = Store(sharing.session, principal)
        with service.open_lake(work.workspace.path) as lake:
            answer = compute(lake, reg)
        return Answer(marking=answer.marking(sharing.coalitions()), data=answer.data)


@router.get(
    "/partners/{country}",
    response_model=Answer,
    summary="A country's partners ranked, with changes, alignment flags and cooperation indices",
    responses=responses(401, 422),
    operation_id="relations_partner",
)
def partner(
    work: Work,
    country: Annotated[str, Path(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")],
    year: Year = 2010,
    top: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Answer:
    return _answer(work, lambda lake, reg: service.partner(lake, country, year, reg=reg, top=top))


@router.get(
    "/network",
    response_model=Answer,
    summary="The defense-cooperation network of a year: ties by layer, hubs, brokers, communities",
    responses=responses(401, 422),
    operation_id="relations_network",
)
def network(
    work: Work,
    year: Year,
    layer: Annotated[
        list[str] | None, Query(max_length=5, description="alliance, dca, exercise, events, registry")
    ] = None,
    threshold: Annotated[float, Query(ge=0, le=100)] = net.INDEX_THRESHOLD,
    layout: Annotated[bool, Query(description="Also return node positions (spring layout).")] = False,
) -> Answer:
    layers = tuple(layer or net.LAYERS)
    return _answer(
        work,
        lambda lake, reg: service.network(
            lake, year, layers=layers, threshold=threshold, reg=reg, layout=layout
        ),
    )


@router.get(
    "/index",
    response_model=Answer,
    summary="A pair's military cooperation index per month, with its parts and why it moved",
    responses=responses(401, 422),
    operation_id="relations_index",
)
def dyad_index(
    work: Work,
    a: Iso3,
    b: Iso3,
    first: Annotated[date, Query(description="First day (YYYY-MM-DD).")],
    last: Annotated[date, Query(description="Last day (YYYY-MM-DD).")],
) -> Answer:
    return _answer(work, lambda lake, reg: service.dyad_index(lake, a, b, first, last, reg))


@router.get(
    "/alignment",
    response_model=Answer,
    summary="A pair's UN General Assembly vote agreement and ideal-point distance, trend and flags",
    responses=responses(401, 422),
    operation_id="relations_alignment",
)
def dyad_alignment(
    work: Work,
    a: Iso3,
    b: Iso3,
    first: Annotated[int | None, Query(ge=1946, le=2100)] = None,
    last: Annotated[int | None, Query(ge=1946, le=2100)] = None,
) -> Answer:
    return _answer(work, lambda lake, _reg: service.dyad_alignment(lake, a, b, first, last))


@router.get(
    "/peacekeeping/{country}",
    response_model=Answer,
    summary="A country's UN peacekeeping personnel per year and per mission (IPI Peacekeeping Database)",
    responses=responses(401, 422),
    operation_id="relations_peacekeeping",
)
def peacekeeping(
    work: Work,
    country: Annotated[str, Path(min_length=2, max_length=100, description="ISO3 code or name.")],
    first: Annotated[int | None, Query(ge=1948, le=2100, description="First year.")] = None,
    last: Annotated[int | None, Query(ge=1948, le=2100, description="Last year.")] = None,
) -> Answer:
    return _answer(work, lambda lake, _reg: pko.contributions(lake, country, first, last))
