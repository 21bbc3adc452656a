"""The exchange slice's tables: protected sources, intelligence reports (their header), the
paragraphs (portions) each under its own marking, an agreement's release terms, and the
plain tables of dissemination (releases, originator consents, verification history).

Record tables carry the kernel's bookkeeping and marking columns
(``detente.store.tables.RecordColumns``), so visibility, search and counts of a portion
follow its own marking. The plain tables are read only through ``detente.exchange.service``,
which decides who sees which rows (the originator and the recipient concerned).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime, new_id
from detente.store.tables import RecordColumns

__all__ = [
    "IntelReport",
    "IntelSource",
    "ReleaseConsent",
    "ReleaseTerms",
    "ReportActor",
    "ReportContradiction",
    "ReportCorroboration",
    "ReportEngagement",
    "ReportPortion",
    "ReportRelease",
    "ReportVerification",
]


class IntelSource(RecordColumns, Base):
    __tablename__ = "intel_sources"

    codename: Mapped[str] = mapped_column(String(300), index=True)
    reliability: Mapped[str] = mapped_column(String(1))
    identity: Mapped[str | None] = mapped_column(Text)
    access: Mapped[str | None] = mapped_column(Text)
    handler: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)


class IntelReport(RecordColumns, Base):
    __tablename__ = "intel_reports"

    title: Mapped[str] = mapped_column(String(500), index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    source_reliability: Mapped[str] = mapped_column(String(1))
    info_credibility: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("intel_sources.id", ondelete="RESTRICT"), index=True
    )
    info_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    verification: Mapped[str] = mapped_column(String(40), index=True)
    orcon: Mapped[bool] = mapped_column(Boolean, default=True)
    origin: Mapped[str | None] = mapped_column(String(200), index=True)
    origin_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    origin_modified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the highest paragraph position written (kept by the exchange slice, not a user field):
    # how many "portion withheld" markers a reader who sees fewer paragraphs is shown
    paragraphs: Mapped[int] = mapped_column(Integer, default=0)


class _ReportLink:
    report_id: Mapped[str] = mapped_column(
        ForeignKey("intel_reports.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class ReportActor(_ReportLink, Base):
    __tablename__ = "report_actors"

    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), primary_key=True)


class ReportEngagement(_ReportLink, Base):
    __tablename__ = "report_engagements"

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagements.id", ondelete="RESTRICT"), primary_key=True
    )


class ReportCorroboration(_ReportLink, Base):
    __tablename__ = "report_corroborations"

    related_id: Mapped[str] = mapped_column(
        ForeignKey("intel_reports.id", ondelete="RESTRICT"), primary_key=True
    )


class ReportContradiction(_ReportLink, Base):
    __tablename__ = "report_contradictions"

    related_id: Mapped[str] = mapped_column(
        ForeignKey("intel_reports.id", ondelete="RESTRICT"), primary_key=True
    )


class ReportPortion(RecordColumns, Base):
    __tablename__ = "report_portions"

    report_id: Mapped[str] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class ReleaseTerms(RecordColumns, Base):
    __tablename__ = "release_terms"

    title: Mapped[str] = mapped_column(String(300), index=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="RESTRICT"), index=True)
    up_to: Mapped[str] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)


class ReportRelease(Base):
    """One release of a report (some of its portions) to a partner: the dissemination list."""

    __tablename__ = "report_releases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"), index=True)
    report_version: Mapped[int] = mapped_column(Integer)
    partner: Mapped[str] = mapped_column(String(40), index=True)
    portions: Mapped[list[int]] = mapped_column(JSON, default=list)  # positions released
    banner: Mapped[str] = mapped_column(String(500))  # the banner of what was released
    agreement_id: Mapped[str | None] = mapped_column(String(36))
    released_by: Mapped[str] = mapped_column(String(200))
    released_by_org: Mapped[str] = mapped_column(String(36), index=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())
    override_reason: Mapped[str | None] = mapped_column(Text)
    consent_id: Mapped[str | None] = mapped_column(String(36))


class ReleaseConsent(Base):
    """A recipient's request to pass an originator-controlled report on, and the answer."""

    __tablename__ = "release_consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"), index=True)
    partner: Mapped[str] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_org: Mapped[str] = mapped_column(String(36), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="requested")  # approved, refused
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reference: Mapped[str | None] = mapped_column(String(300))  # the originator's own reference


class ReportVerification(Base):
    """One step of a report's verification history."""

    __tablename__ = "report_verifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(40))
    previous: Mapped[str] = mapped_column(String(40))
    related_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
