"""The exchange slice's record types, declared once and registered with the store kernel:
protected sources, intelligence reports, their portions (paragraphs, each under its own
marking) and the release terms of intelligence-sharing agreements.

A report is a header (title, summary, grading, times, verification) under its own
marking, and a body of portions, each a record under its own marking: the kernel's one
access decision then gives every reader exactly the portions releasable to them, and its
search index and counts hold each portion's words under that portion's marking (a
tear-line is what the kernel already returns). The banner a reader sees is the
combination of what they see (``detente.exchange.service``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
    model_validator,
)
from sqlalchemy import select, update

from detente.core.errors import ValidationError
from detente.core.markings import parse, schemes
from detente.exchange import tables as t
from detente.exchange.grading import VERIFICATION, caution, credibility_validator, reliability_validator
from detente.store.fields import Country, LongText, OptLong, OptRef, OptShort, Ref, ShortText, Title, distinct
from detente.store.lifecycle import Lifecycle
from detente.store.models import RecordFields, RecordPublic
from detente.store.records import Link, RecordType, register

if TYPE_CHECKING:
    from detente.store.reads import Reader

__all__ = [
    "INTEL_REPORTS",
    "INTEL_SOURCES",
    "RELEASE_TERMS",
    "REPORT_PORTIONS",
    "VERIFICATION_LIFECYCLE",
    "IntelReportFields",
    "IntelSourceFields",
    "ReleaseTermsFields",
    "ReportPortionFields",
]

Reliability = Annotated[str, reliability_validator()]
Credibility = Annotated[int, credibility_validator()]

VERIFICATION_LIFECYCLE = Lifecycle(
    initial="unverified",
    start=("unverified", "corroborated", "contradicted"),
    open=("unverified",),
    withdraw="withdrawn",
    transitions={
        "unverified": ("corroborated", "contradicted", "withdrawn"),
        "corroborated": ("contradicted", "unverified", "withdrawn"),
        "contradicted": ("corroborated", "unverified", "withdrawn"),
        "withdrawn": (),
    },
)
assert VERIFICATION_LIFECYCLE.statuses == VERIFICATION


def _verification(value: str) -> str:
    if value not in VERIFICATION:
        raise ValueError(f"unknown verification status {value!r}; one of {', '.join(VERIFICATION)}")
    return value


_verification.choices = lambda: VERIFICATION  # type: ignore[attr-defined]


def _level(value: str) -> str:
    text = " ".join(value.strip().upper().split())
    known = [level for levels in schemes().values() for level in levels]
    if text not in known:
        raise ValueError(f"classification {value!r}: one of {', '.join(known)}")
    return text


def _levels() -> tuple[str, ...]:
    return tuple(level for levels in schemes().values() for level in levels)


_level.choices = _levels  # type: ignore[attr-defined]


class IntelSourceFields(RecordFields):
    """A protected source: its identity under its own (higher) marking; reports that cite
    it carry only its grade."""

    codename: ShortText = Field(description="Codename (the register's key)")
    reliability: Reliability = Field(description="Source reliability, A (completely reliable) to F")
    identity: OptLong = Field(None, description="Who the source is (protected)")
    access: OptLong = Field(None, description="The source's access to the information (protected)")
    handler: OptShort = Field(None, description="Handling officer")
    notes: OptLong = Field(None, description="Notes")


class IntelReportFields(RecordFields):
    """An intelligence report's header: title, summary, Admiralty grading, times, related
    actors, countries and engagements, and its verification."""

    title: Title = Field(description="Title of the report")
    summary: OptLong = Field(None, description="Summary (under the header's marking)")
    source_reliability: Reliability = Field("F", description="Source reliability, A-F (Admiralty)")
    info_credibility: Credibility = Field(6, description="Information credibility, 1-6 (Admiralty)")
    source_id: OptRef = Field(None, description="The protected source it cites")
    info_time: datetime | None = Field(None, description="Time of information")
    report_time: datetime | None = Field(None, description="Time of report")
    countries: list[Country] = Field(
        default_factory=list, max_length=250, description="Countries it concerns"
    )
    actors: list[Ref] = Field(default_factory=list, max_length=500, description="Actors it concerns")
    engagements: list[Ref] = Field(default_factory=list, max_length=500, description="Related engagements")
    verification: Annotated[str, AfterValidator(_verification)] = Field(
        "unverified", description="Verification: unverified, corroborated, contradicted or withdrawn"
    )
    corroborated_by: list[Ref] = Field(
        default_factory=list, max_length=100, description="Reports corroborating it"
    )
    contradicted_by: list[Ref] = Field(
        default_factory=list, max_length=100, description="Reports contradicting it"
    )
    orcon: bool = Field(True, description="Originator controlled: recipients pass it on only with consent")
    origin: OptShort = Field(None, description="The peer it was received from (provenance); empty if ours")
    origin_ref: OptShort = Field(None, description="Its id at the peer (a STIX id)")
    origin_modified: datetime | None = Field(None, description="Its version time at the peer")

    @field_validator("countries", "actors", "engagements", "corroborated_by", "contradicted_by")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return distinct(value)

    @model_validator(mode="after")
    def _times(self) -> IntelReportFields:
        if self.info_time and self.report_time and self.report_time < self.info_time:
            raise ValueError(f"report_time ({self.report_time}) is before info_time ({self.info_time})")
        return self


class ReportPortionFields(RecordFields):
    """One paragraph of an intelligence report, under its own portion marking."""

    text: Annotated[LongText, StringConstraints(min_length=1)] = Field(description="The paragraph's text")
    report_id: Ref = Field(description="The report it belongs to")
    position: int = Field(1, ge=1, le=1000, description="Its place in the report (1 first)")


class ReleaseTermsFields(RecordFields):
    """What an intelligence-sharing agreement lets its parties release: the highest
    classification it covers."""

    title: ShortText = Field(description="A name for these terms")
    agreement_id: Ref = Field(description="The intelligence-sharing agreement")
    up_to: Annotated[str, AfterValidator(_level)] = Field(
        "UNCLASSIFIED", description="Highest classification it covers (e.g. SECRET, NATO SECRET)"
    )
    notes: OptLong = Field(None, description="Notes")


class IntelReportPublicBase(RecordPublic):
    """A report's header as returned, with its misinformation caution (every view shows it)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def caution(self) -> str | None:
        """The caution it carries: graded 5-6, from an F source, or not verified (else null)."""
        return caution(self.source_reliability, self.info_credibility, self.verification)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- rules that need the store
def _source_above_report(reader: Reader, data: Mapping[str, Any]) -> None:
    """The cited source's identity carries a higher marking than the report's header (a
    higher level, or releasable to fewer): reading the report never gives the identity."""
    source_id = data.get("source_id")
    if not source_id:
        return
    source = reader.session.scalar(
        select(t.IntelSource).where(t.IntelSource.id == source_id, reader.visible(t.IntelSource))
    )
    if source is None:
        return  # kept as it was by someone who cannot see it
    header, identity = parse(str(data.get("marking") or "UNCLASSIFIED")), parse(source.marking)
    lower = identity.requirements.get(header.scheme, -1) < header.level
    wider = not identity.public and bool(identity.rel_to - header.rel_to) and not header.public
    same = identity.requirements == header.requirements and identity.rel_to == header.rel_to
    if lower or wider or same or (identity.public and not header.public):
        raise ValidationError(
            f"source {source.codename}: its identity is marked {identity.render()}, which is not above "
            f"this report's {header.render()}; mark the source higher or the report lower",
            field="source_id",
        )


def _portion_of_own_report(reader: Reader, data: Mapping[str, Any]) -> None:
    """Portions are written by the report's own organisation (the originator); the report
    keeps the highest position written (how many paragraphs a tear-line shows markers for)."""
    report = reader.session.scalar(
        select(t.IntelReport).where(t.IntelReport.id == data.get("report_id"), reader.visible(t.IntelReport))
    )
    if report is None:
        return
    if report.owner_org_id != reader.principal.org:
        raise ValidationError(
            "this report belongs to another organisation: only its originator writes its paragraphs",
            field="report_id",
        )
    position = int(data.get("position") or 1)
    if position > (report.paragraphs or 0):  # the report's length, for the withheld markers
        reader.session.execute(
            update(t.IntelReport).where(t.IntelReport.id == report.id).values(paragraphs=position)
        )


INTEL_SOURCES = RecordType(
    name="intel_sources",
    singular="intelligence source",
    slice="exchange",
    rank=200,
    description="Intelligence: protected sources, their identity under a higher marking than the reports.",
    table=t.IntelSource,
    fields_model=IntelSourceFields,
    title_field="codename",
    natural_key=("codename",),
    filters=("external_id",),  # one-letter grades make no "did you mean" (store/test_filters.py)
    order="codename",
    aliases=("intel-sources", "intel_source"),
    example={"codename": "KESTREL", "reliability": "B", "identity": "A port official", "marking": "SECRET"},
)

INTEL_REPORTS = RecordType(
    name="intel_reports",
    singular="intelligence report",
    slice="exchange",
    rank=210,
    description="Intelligence: graded reports with a marking per paragraph, released under agreements.",
    table=t.IntelReport,
    fields_model=IntelReportFields,
    public_base=IntelReportPublicBase,
    title_field="title",
    natural_key=("title", "report_time"),
    filters=("verification", "info_credibility", "origin", "origin_ref", "external_id"),
    refs={"source_id": "intel_sources"},
    links={
        "actors": Link(t.ReportActor, "report_id"),
        "engagements": Link(t.ReportEngagement, "report_id", "engagements", "engagement_id"),
        "corroborated_by": Link(t.ReportCorroboration, "report_id", "intel_reports", "related_id"),
        "contradicted_by": Link(t.ReportContradiction, "report_id", "intel_reports", "related_id"),
    },
    lifecycle=("verification", VERIFICATION_LIFECYCLE),
    list_fields=("countries", "actors", "engagements", "corroborated_by", "contradicted_by"),
    date_field="report_time",
    order="report_time",
    aliases=("reports", "intel_report", "report"),
    checks=(_source_above_report,),
    cli_names={
        "source_reliability": "reliability",
        "info_credibility": "credibility",
        "source_id": "source",
        "info_time": "info-time",
        "report_time": "report-time",
        "countries": "country",
        "actors": "actor",
        "engagements": "engagement",
        "corroborated_by": "corroborated-by",
        "contradicted_by": "contradicted-by",
    },
    example={
        "title": "Vessel movements off Mombasa",
        "summary": "Unusual night-time transfers between two fishing vessels.",
        "source_reliability": "B",
        "info_credibility": 2,
        "report_time": "2026-11-02T09:00:00Z",
        "countries": ["KEN"],
    },
)

REPORT_PORTIONS = RecordType(
    name="report_portions",
    singular="report paragraph",
    slice="exchange",
    rank=220,
    description="Intelligence: a report's paragraphs, each under its own portion marking (tear-lines).",
    table=t.ReportPortion,
    fields_model=ReportPortionFields,
    title_field="text",
    natural_key=("report_id", "text"),
    filters=("report_id", "external_id"),
    refs={"report_id": "intel_reports"},
    order="position",
    aliases=("portions", "paragraphs", "report_portion"),
    checks=(_portion_of_own_report,),
    cli_names={"report_id": "report"},
    example={"text": "Two vessels met at 0200 local time.", "report_id": "@intel_reports", "position": 1},
)

RELEASE_TERMS = RecordType(
    name="release_terms",
    singular="release terms",
    slice="exchange",
    rank=205,
    description="Intelligence: the classification an intelligence-sharing agreement covers.",
    table=t.ReleaseTerms,
    fields_model=ReleaseTermsFields,
    title_field="title",
    natural_key=("agreement_id", "title"),
    filters=("agreement_id", "external_id"),
    refs={"agreement_id": "agreements"},
    order="title",
    aliases=("terms", "release_term"),
    cli_names={"agreement_id": "agreement", "up_to": "up-to"},
    example={"title": "Intelligence-sharing terms", "agreement_id": "@agreements", "up_to": "SECRET"},
)

register(INTEL_SOURCES, RELEASE_TERMS, INTEL_REPORTS, REPORT_PORTIONS)
