"""REST routes for intelligence exchange: write a report with a marking per paragraph, read
it as you or a partner sees it (the tear-line), its STIX, release it under an agreement,
originator consent, verification and withdrawal, the dissemination list.

The report's header and paragraphs are also records (``/intel_reports``,
``/report_portions``): these routes add what the exchange service decides."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.exchange.service import Exchange
from detente.exchange.stix import report_to_stix

__all__ = ["router"]

router = APIRouter(prefix="/exchange", tags=["exchange"])
Work = Annotated[Unit, Depends(unit)]
Partner = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")]


class Paragraph(BaseModel):
    marking: str = Field(min_length=1, max_length=500, description="The paragraph's portion marking")
    text: str = Field(min_length=1, max_length=20000)


class WriteReport(BaseModel):
    header: dict[str, Any] = Field(description="The report's fields (as POST /intel_reports) and its marking")
    paragraphs: list[Paragraph] = Field(min_length=1, max_length=500)


class ReleaseIn(BaseModel):
    partner: Partner = Field(description="Country (ISO alpha-3) or coalition")
    portions: list[int] | None = Field(None, description="Positions to release (default: all releasable)")
    override: str | None = Field(
        None, max_length=2000, description="Why the misinformation guard is overridden"
    )


class ReleaseOut(BaseModel):
    id: str
    report_version: int
    partner: str
    portions: list[int]
    banner: str
    agreement_id: str | None
    released_by: str
    released_at: datetime
    override_reason: str | None


class ConsentIn(BaseModel):
    partner: Partner
    reason: str | None = Field(None, max_length=2000)


class DecisionIn(BaseModel):
    approve: bool
    reference: str | None = Field(None, max_length=300)


class ConsentOut(BaseModel):
    id: str
    partner: str
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str | None
    reference: str | None


class VerifyIn(BaseModel):
    status: str = Field(description="unverified, corroborated, contradicted or withdrawn")
    related: str | None = Field(None, description="The report that corroborates or contradicts it")
    note: str | None = Field(None, max_length=2000)


class StepOut(BaseModel):
    at: datetime
    by: str
    previous: str
    status: str
    related_id: str | None
    note: str | None


def _out(model: type[BaseModel], row: Any) -> Any:
    return model.model_validate({k: getattr(row, k) for k in model.model_fields})


@router.post("/reports", status_code=201, summary="Write a report: a header and paragraphs, each marked",
             responses=responses(401, 403, 422), operation_id="exchange_write")  # fmt: skip
def write(work: Work, body: WriteReport) -> dict[str, Any]:
    with work.registry(write=True) as store:
        view = Exchange(store).write(body.header, [(p.marking, p.text) for p in body.paragraphs])
        return view.as_dict()


@router.get("/reports/{report_id}", summary="A report as you see it, or as a partner would receive it",
            responses=responses(401, 404, 422), operation_id="exchange_view")  # fmt: skip
def view(work: Work, report_id: str, partner: str | None = None) -> dict[str, Any]:
    with work.registry() as store:
        return Exchange(store).view(report_id, partner).as_dict()


@router.get("/reports/{report_id}/stix", summary="The report as STIX 2.1 objects (for you, or for a partner)",
            responses=responses(401, 404, 422), operation_id="exchange_stix")  # fmt: skip
def stix(work: Work, report_id: str, partner: str | None = None) -> dict[str, Any]:
    import stix2  # type: ignore[import-untyped]

    with work.registry() as store:
        ex = Exchange(store)
        reader = ex.partner(partner) if partner else store.principal
        objects = report_to_stix(ex.view(report_id, partner), reader)
        return dict(json.loads(stix2.Bundle(objects=objects).serialize()))


@router.post("/reports/{report_id}/releases", status_code=201, response_model=ReleaseOut,
             summary="Release to a partner under the agreement that covers it (refused with the reason)",
             responses=responses(401, 403, 404, 409, 422), operation_id="exchange_release")  # fmt: skip
def release(work: Work, report_id: str, body: ReleaseIn) -> Any:
    with work.registry(write=True) as store:
        row = Exchange(store).release(report_id, body.partner, portions=body.portions, override=body.override)
        return _out(ReleaseOut, row)


@router.get("/reports/{report_id}/releases", response_model=list[ReleaseOut],
            summary="The dissemination list (all of it for the originator)",
            responses=responses(401, 404), operation_id="exchange_disseminations")  # fmt: skip
def disseminations(work: Work, report_id: str) -> Any:
    with work.registry() as store:
        return [_out(ReleaseOut, r) for r in Exchange(store).disseminations(report_id)]


@router.post("/reports/{report_id}/consents", status_code=201, response_model=ConsentOut,
             summary="Ask the originator's consent to pass a report on", responses=responses(401, 404, 422),
             operation_id="exchange_consent_request")  # fmt: skip
def request_consent(work: Work, report_id: str, body: ConsentIn) -> Any:
    with work.registry(write=True) as store:
        return _out(ConsentOut, Exchange(store).request_consent(report_id, body.partner, body.reason))


@router.get("/reports/{report_id}/consents", response_model=list[ConsentOut],
            summary="Consent requests about a report", responses=responses(401, 404),
            operation_id="exchange_consents")  # fmt: skip
def consents(work: Work, report_id: str) -> Any:
    with work.registry() as store:
        return [_out(ConsentOut, c) for c in Exchange(store).consents(report_id)]


@router.post("/consents/{consent_id}", response_model=ConsentOut, summary="The originator's answer",
             responses=responses(401, 403, 404, 422), operation_id="exchange_consent_decide")  # fmt: skip
def decide(work: Work, consent_id: str, body: DecisionIn) -> Any:
    with work.registry(write=True) as store:
        return _out(ConsentOut, Exchange(store).decide_consent(consent_id, body.approve, body.reference))


@router.post("/reports/{report_id}/verification", summary="Verify: corroborated, contradicted, withdrawn",
             responses=responses(401, 403, 404, 409, 422), operation_id="exchange_verify")  # fmt: skip
def verify(work: Work, report_id: str, body: VerifyIn) -> dict[str, Any]:
    with work.registry(write=True) as store:
        ex = Exchange(store)
        ex.verify(report_id, body.status, related=body.related, note=body.note)
        return ex.view(report_id).as_dict()


@router.get("/reports/{report_id}/verification", response_model=list[StepOut],
            summary="The verification history", responses=responses(401, 404),
            operation_id="exchange_verification_history")  # fmt: skip
def history(work: Work, report_id: str) -> Any:
    with work.registry() as store:
        return [_out(StepOut, s) for s in Exchange(store).verification_history(report_id)]
