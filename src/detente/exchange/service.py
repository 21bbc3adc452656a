"""The exchange service: write a report with a marking per paragraph, see it as a reader
or a partner sees it (the tear-line), release it under an agreement, pass it on with the
originator's consent, verify and withdraw it, and the dissemination list.

Every read goes through the store kernel (``Store``), so a reader gets only the portions
their clearance and the portions' markings allow; the tear-line adds the "portion
withheld" markers and the banner of what is shown. Every decision (a release, a consent,
an override of the misinformation guard, a verification, a withdrawal) is appended to the
audit trail in the same transaction as the rows it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update

from detente.core.errors import AuthError, ConflictError, NotFoundError, ValidationError
from detente.core.markings import Principal, may_read, parse
from detente.exchange import grading
from detente.exchange.rules import banner_of, covering_agreement, partner_principal
from detente.exchange.tables import IntelReport, ReleaseConsent, ReportRelease, ReportVerification
from detente.sharing.coalitions import members
from detente.store.service import ListQuery, Store

__all__ = ["WITHHELD", "Exchange", "Portion", "ReportView"]

WITHHELD = "portion withheld"
REPORTS, PORTIONS = "intel_reports", "report_portions"


@dataclass(frozen=True)
class Portion:
    """One paragraph as a reader sees it: its text and marking, or a withheld marker."""

    position: int
    id: str | None = None
    text: str | None = None
    marking: str | None = None
    record: Any = field(default=None, repr=False, compare=False)  # the portion's record, when shown

    @property
    def withheld(self) -> bool:
        return self.text is None


@dataclass
class ReportView:
    """A report as one reader (or a partner) sees it."""

    report: Any  # the header's public model
    portions: list[Portion]
    banner: str  # the combination of the header and the portions shown
    reader: str  # "you", or "partner KEN"
    source: Any | None = None  # the protected source, when the reader may see it
    caution: str | None = None
    owner_org_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def grade(self) -> str:
        """``usually reliable, B; probably true, 2``."""
        return grading.grade_words(self.report.source_reliability, self.report.info_credibility)

    @property
    def source_grade(self) -> str:
        """What every reader sees of the source: its grade, never its identity."""
        return grading.grade_words(self.report.source_reliability)

    @property
    def shown(self) -> list[Portion]:
        return [p for p in self.portions if not p.withheld]

    @property
    def withheld(self) -> int:
        return sum(p.withheld for p in self.portions)

    def as_dict(self) -> dict[str, Any]:
        """The view as the API returns it: withheld portions carry no text and no marking."""
        report = self.report.model_dump(mode="json")
        return {
            "report": report,
            "banner": self.banner,
            "reader": self.reader,
            "grade": self.grade,
            "source_grade": self.source_grade,
            "source": self.source.codename if self.source is not None else None,
            "caution": self.caution,
            "portions": [
                {"position": p.position, "withheld": True, "marker": WITHHELD}
                if p.withheld
                else {"position": p.position, "id": p.id, "marking": p.marking, "text": p.text}
                for p in self.portions
            ],
        }


def _now() -> datetime:
    return datetime.now(UTC)


class Exchange:
    """Intelligence reports for one principal, through the store kernel."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.session = store.session
        self._coalitions: dict[str, set[str]] | None = None

    @property
    def coalitions(self) -> dict[str, set[str]]:
        if self._coalitions is None:
            self._coalitions = members(self.session)
        return self._coalitions

    def partner(self, partner: str) -> Principal:
        """A partner country or coalition as the marking rules see it."""
        return partner_principal(partner, self.coalitions)

    # ------------------------------------------------------------------ writing
    def write(self, header: Mapping[str, Any], paragraphs: Sequence[tuple[str, str]]) -> ReportView:
        """Create a report and its paragraphs (marking, text) in one go."""
        if not paragraphs:
            raise ValidationError("a report needs at least one paragraph", field="paragraphs")
        report = self.store.create(REPORTS, header)
        for position, (marking, text) in enumerate(paragraphs, start=1):
            portion = {"report_id": report.id, "position": position, "text": text, "marking": marking}
            if report.external_id:  # a re-import finds each paragraph by its report's key
                portion["external_id"] = f"{report.external_id}:p{position}"
            try:
                self.store.create(PORTIONS, portion)
            except ValidationError as exc:
                raise ValidationError(f"paragraph {position}: {exc.message}", field=exc.field) from None
        return self.view(report.id)

    # ------------------------------------------------------------------ reading
    def _portions(self, report_id: str) -> list[Any]:
        rows = self.store.list(PORTIONS, ListQuery(filters={"report_id": report_id}, limit=None))
        return sorted(rows, key=lambda p: (p.position, p.created_at))

    def view(self, report_id: str, partner: str | None = None) -> ReportView:
        """The report as the principal sees it, or (``partner``) as a partner country or
        coalition would receive it: the portions it may read, a marker for each withheld
        one, and the banner of what is shown."""
        report = self.store.get(REPORTS, report_id)
        reader: Principal | None = self.partner(partner) if partner else None
        owner = report.owner_org_id
        length = int(
            self.session.scalar(select(IntelReport.paragraphs).where(IntelReport.id == report.id)) or 0
        )
        if reader is not None and not may_read(reader, parse(report.marking), owner):
            raise ValidationError(
                f"this report's header is marked {report.marking}: nothing of it is releasable to {partner}",
                field="partner",
            )
        seen: dict[int, Any] = {}
        for row in self._portions(report_id):
            if reader is None or may_read(reader, parse(row.marking), owner):
                seen.setdefault(row.position, row)
        length = max([length, *seen])
        portions = [
            Portion(n, seen[n].id, seen[n].text, seen[n].marking, seen[n]) if n in seen else Portion(n)
            for n in range(1, length + 1)
        ]
        source = None
        if report.source_id and reader is None:
            source = self.store.get("intel_sources", report.source_id)
        banner = banner_of([report.marking, *(p.marking for p in portions if p.marking)], self.coalitions)
        return ReportView(
            report=report,
            portions=portions,
            banner=banner,
            reader=f"partner {partner.upper()}" if partner else "you",
            source=source,
            caution=grading.caution(report.source_reliability, report.info_credibility, report.verification),
            owner_org_id=owner,
        )

    def reports(self, query: ListQuery | None = None) -> list[Any]:
        """The report headers the principal may see."""
        return self.store.list(REPORTS, query or ListQuery(order_by="report_time", descending=True))

    # ------------------------------------------------------------------ dissemination
    def _consent_for(self, report: Any, partner: str) -> ReleaseConsent | None:
        return self.session.scalar(
            select(ReleaseConsent).where(
                ReleaseConsent.report_id == report.id,
                ReleaseConsent.partner == partner,
                ReleaseConsent.requested_by_org == self.store.principal.org,
                ReleaseConsent.status == "approved",
            )
        )

    def _passing_on(self, report: Any) -> bool:
        """Whether a release by this principal passes on someone else's report."""
        return report.owner_org_id != self.store.principal.org or report.origin is not None

    def _check_release(
        self, view: ReportView, partner: str, chosen: list[Portion], override: str | None
    ) -> tuple[Any, ReleaseConsent | None]:
        """Why the release is refused (raised), or the agreement and consent it rests on."""
        report = view.report
        if report.verification == "withdrawn":
            raise ConflictError("this report is withdrawn: it can no longer be released")
        consent = None
        if self._passing_on(report) and report.orcon:
            consent = self._consent_for(report, partner)
            if consent is None:
                origin = report.origin or "its originating organisation"
                raise AuthError(
                    f"originator control (ORCON): passing this report on to {partner} needs the consent "
                    f"of {origin}; request it first (detente intel consent {report.id} --to {partner})"
                )
        if grading.guarded(report.info_credibility, report.verification) and not (override or "").strip():
            raise ValidationError(
                f"misinformation guard: this report is unverified and graded {report.info_credibility} "
                f"({grading.CREDIBILITY[report.info_credibility]}); releasing it needs an override with a "
                "reason (--override REASON)",
                field="override",
            )
        released = parse(
            banner_of([report.marking, *(p.marking for p in chosen if p.marking)], self.coalitions)
        )
        cover = covering_agreement(self.store, self.store.principal.country, partner, released, date.today())
        if not cover:
            raise AuthError(f"release to {partner} refused: {cover.reason}")
        return cover, consent

    def release(
        self,
        report_id: str,
        partner: str,
        *,
        portions: Iterable[int] | None = None,
        override: str | None = None,
    ) -> ReportRelease:
        """Release a report (all paragraphs releasable to ``partner`` by their markings, or
        the positions given) to a partner country or coalition, under the agreement that
        covers it; refused with the reason otherwise. Logged and audited."""
        self.store.require("write", "release intelligence reports")
        partner = partner.strip().upper()
        mine = self.view(report_id)
        try:
            theirs = self.view(report_id, partner)
        except ValidationError as exc:  # a header not releasable to them
            raise AuthError(
                f"release to {partner} refused: {exc.message.removeprefix('partner: ')}"
            ) from None
        releasable = {p.position for p in theirs.shown}
        wanted = sorted(set(portions)) if portions is not None else sorted(releasable)
        for position in wanted:
            shown = next((p for p in mine.portions if p.position == position and not p.withheld), None)
            if shown is None:
                raise ValidationError(f"no paragraph {position} in this report", field="portions")
            if position not in releasable:
                raise AuthError(
                    f"paragraph {position} is marked {shown.marking}: not releasable to {partner}"
                )
        if not wanted:
            raise AuthError(f"no paragraph of this report is releasable to {partner} by its markings")
        chosen = [p for p in mine.portions if p.position in wanted]
        cover, consent = self._check_release(mine, partner, chosen, override)
        banner = banner_of([mine.report.marking, *(p.marking for p in chosen if p.marking)], self.coalitions)
        row = ReportRelease(
            report_id=report_id,
            report_version=mine.report.version,
            partner=partner,
            portions=wanted,
            banner=banner,
            agreement_id=cover.agreement.id,
            released_by=self.store.principal.user,
            released_by_org=self.store.principal.org,
            released_at=_now(),
            override_reason=(override or "").strip() or None,
            consent_id=consent.id if consent else None,
        )
        self.session.add(row)
        self.session.flush()
        if row.override_reason:
            self.store.record(
                "guard_override",
                REPORTS,
                {"release": row.id, "partner": partner, "reason": row.override_reason},
                record_id=report_id,
            )
        self.store.record(
            "release",
            REPORTS,
            {"release": row.id, "partner": partner, "version": row.report_version, "portions": wanted,
             "agreement": cover.agreement.id, "banner": banner},
            record_id=report_id,
        )  # fmt: skip
        return row

    def disseminations(self, report_id: str) -> list[ReportRelease]:
        """The report's releases: every one for its originator, one's own for a recipient."""
        report = self.store.get(REPORTS, report_id)
        stmt = select(ReportRelease).where(ReportRelease.report_id == report.id)
        if report.owner_org_id != self.store.principal.org:
            stmt = stmt.where(ReportRelease.released_by_org == self.store.principal.org)
        return list(self.session.scalars(stmt.order_by(ReportRelease.released_at)))

    def released_to(self, partner: str) -> list[str]:
        """Ids of the reports (the principal may see) released to ``partner``, withdrawn ones too
        (their withdrawal travels), directly or to a coalition it belongs to."""
        who = self.partner(partner)
        tokens = sorted(who.tokens)
        ids = set(
            self.session.scalars(select(ReportRelease.report_id).where(ReportRelease.partner.in_(tokens)))
        )
        return (
            sorted(r.id for r in self.store.list(REPORTS, ListQuery(filters={"id": sorted(ids)}, limit=None)))
            if ids
            else []
        )

    # ------------------------------------------------------------------ originator control
    def request_consent(self, report_id: str, partner: str, reason: str | None = None) -> ReleaseConsent:
        """A recipient asks the originator's consent to pass the report on to ``partner``."""
        report = self.store.get(REPORTS, report_id)
        if not self._passing_on(report):
            raise ValidationError("this is your own report: release it, no consent is needed")
        row = ReleaseConsent(
            report_id=report.id, partner=partner.strip().upper(), requested_by=self.store.principal.user,
            requested_by_org=self.store.principal.org, requested_at=_now(), reason=reason, status="requested",
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.store.record(
            "consent_request", REPORTS, {"consent": row.id, "partner": row.partner}, record_id=report.id
        )
        return row

    def consents(self, report_id: str) -> list[ReleaseConsent]:
        """The consent requests about a report: all for its originator, one's own otherwise."""
        report = self.store.get(REPORTS, report_id)
        stmt = select(ReleaseConsent).where(ReleaseConsent.report_id == report.id)
        if report.owner_org_id != self.store.principal.org:
            stmt = stmt.where(ReleaseConsent.requested_by_org == self.store.principal.org)
        return list(self.session.scalars(stmt.order_by(ReleaseConsent.requested_at)))

    def decide_consent(self, consent_id: str, approve: bool, reference: str | None = None) -> ReleaseConsent:
        """The originator approves or refuses a request (for a report received from a peer,
        its holder records the originator's answer, with the originator's reference)."""
        row = self.session.get(ReleaseConsent, consent_id)
        if row is None:
            raise NotFoundError(f"no consent request with id {consent_id}")
        report = self.store.get(REPORTS, row.report_id)  # "not found" when hidden
        self.store.require("write", "answer consent requests")
        if report.owner_org_id != self.store.principal.org:
            raise AuthError("only the report's originator answers a request to pass it on")
        if report.origin is not None and not (reference or "").strip():
            raise ValidationError(
                f"this report came from {report.origin}: record its originator's answer with --reference",
                field="reference",
            )
        row.status = "approved" if approve else "refused"
        row.decided_by = self.store.principal.user
        row.decided_at = _now()
        row.reference = (reference or "").strip() or None
        self.session.flush()
        self.store.record("consent_" + row.status, REPORTS, {"consent": row.id, "partner": row.partner},
                          record_id=report.id)  # fmt: skip
        return row

    # ------------------------------------------------------------------ verification
    def verify(
        self, report_id: str, status: str, *, related: str | None = None, note: str | None = None
    ) -> Any:
        """Move the report's verification (corroborated or contradicted by ``related``, or
        back to unverified), keeping the step in its verification history."""
        report = self.store.get(REPORTS, report_id)
        if status == "withdrawn":
            return self.withdraw(report_id, note)
        changes: dict[str, Any] = {"verification": status}
        if related:
            related = self.store.resolve_ref(REPORTS, related, field="related")
            if related == report.id:
                raise ValidationError("a report cannot corroborate or contradict itself", field="related")
            if status == "corroborated":
                changes["corroborated_by"] = [*report.corroborated_by, related]
            elif status == "contradicted":
                changes["contradicted_by"] = [*report.contradicted_by, related]
        updated = self.store.update(REPORTS, report.id, changes, expected_version=report.version)
        self._step(report, status, related, note)
        return updated

    def _step(self, report: Any, status: str, related: str | None, note: str | None) -> None:
        self.session.add(
            ReportVerification(
                report_id=report.id, status=status, previous=report.verification, related_id=related,
                note=note, by=self.store.principal.user, at=_now(),
            )
        )  # fmt: skip
        self.session.flush()
        self.store.record("verify", REPORTS, {"from": report.verification, "to": status}, record_id=report.id)

    def withdraw(self, report_id: str, note: str | None = None) -> Any:
        """The originator withdraws the report: withdrawn for every recipient (and every peer
        it was federated to: its STIX object is revoked)."""
        report = self.store.get(REPORTS, report_id)
        updated = self.store.withdraw(REPORTS, report.id, expected_version=report.version)
        self._step(report, "withdrawn", None, note)
        partners = sorted({r.partner for r in self.disseminations(report.id)})
        self.store.record("withdraw", REPORTS, {"recipients": partners}, record_id=report.id)
        return updated

    def verification_history(self, report_id: str) -> list[ReportVerification]:
        """The report's verification steps, oldest first (a related report the principal may
        not see is left out)."""
        report = self.store.get(REPORTS, report_id)
        rows = list(
            self.session.scalars(
                select(ReportVerification)
                .where(ReportVerification.report_id == report.id)
                .order_by(ReportVerification.at)
            )
        )
        related = {r.related_id for r in rows if r.related_id}
        seen = (
            {r.id for r in self.store.list(REPORTS, ListQuery(filters={"id": sorted(related)}, limit=None))}
            if related
            else set()
        )
        for row in rows:
            if row.related_id and row.related_id not in seen:
                self.session.expunge(row)
                row.related_id = None
        return rows

    # ------------------------------------------------------------------ federation
    def receive(self, payload: Mapping[str, Any], origin: str) -> tuple[str, str]:
        """Store a report received from the peer ``origin`` (``report_from_stix``'s payload):
        a new one is created with its paragraphs; one already received (same ``origin_ref``)
        is replaced only by a newer version (an older or equal one changes nothing). Returns
        (id, "created" | "updated" | "unchanged" | "older")."""
        header = dict(payload["report"])
        header["origin"] = origin
        ref = header.get("origin_ref")
        if not ref:
            raise ValidationError("a received report needs its STIX id (origin_ref)", field="origin_ref")
        modified = header.get("origin_modified")
        found = self.store.list(REPORTS, ListQuery(filters={"origin_ref": ref}, limit=None))
        mine = [r for r in found if r.origin == origin]
        status = header.pop("verification", "unverified")
        if not mine:
            start = status if status in ("unverified", "corroborated", "contradicted") else "unverified"
            view = self.write({**header, "verification": start}, self._paragraphs(payload))
            if status == "withdrawn":
                self.store.withdraw(REPORTS, view.report.id, expected_version=view.report.version)
            return view.report.id, "created"
        current = mine[0]
        if current.origin_modified and modified and modified <= current.origin_modified:
            return current.id, "unchanged" if modified == current.origin_modified else "older"
        changes = {k: v for k, v in header.items() if k not in ("origin", "origin_ref")}
        if status != current.verification:
            changes["verification"] = status
        self.store.update(REPORTS, current.id, changes, expected_version=current.version)
        for old in self._portions(current.id):
            self.store.delete(PORTIONS, old.id)
        self.session.execute(update(IntelReport).where(IntelReport.id == current.id).values(paragraphs=0))
        for position, (marking, text) in enumerate(self._paragraphs(payload), start=1):
            self.store.create(
                PORTIONS, {"report_id": current.id, "position": position, "text": text, "marking": marking}
            )
        return current.id, "updated"

    @staticmethod
    def _paragraphs(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
        portions = sorted(payload.get("portions") or [], key=lambda p: int(p.get("position") or 0))
        return [(str(p["marking"]), str(p["text"])) for p in portions]
