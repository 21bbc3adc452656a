"""Organisations, users, coalitions, authentication and the principal of a request.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random 256-bit
secrets stored only as SHA-256 digests, revocable and expiring; logins are
throttled (locked for a while after repeated failures). Every login, failed or
not, goes to the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Date, Row, Select, and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from detente.core import audit
from detente.core.errors import AuthError, ConflictError, NotFoundError, ValidationError
from detente.core.markings import Principal, schemes
from detente.sharing import coalitions
from detente.sharing.tables import ApiToken, CoalitionChange, CoalitionMember, Organisation, User
from detente.store.access import binding_columns, binding_values, bound_as, system_access, unbind
from detente.store.permissions import may, role_permissions, roles
from detente.store.records import record_types

__all__ = ["AuthError", "Sharing"]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
TOUCH_EVERY = timedelta(minutes=1)
_hasher = PasswordHasher()


def now() -> datetime:
    return datetime.now(UTC)


def _clearance_levels(clearances: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for scheme, level in clearances.items():
        levels = schemes().get(scheme)
        if levels is None:
            raise ValidationError(
                f"unknown scheme {scheme!r}; one of {', '.join(schemes())}", field="clearance"
            )
        name = " ".join(level.upper().split())
        if name not in levels:
            raise ValidationError(
                f"unknown {scheme} level {level!r}; one of {', '.join(levels)}", field="clearance"
            )
        out[scheme] = levels.index(name)
    return out


def _who(stmt: Select[Any] | Any, on: date | ColumnElement[date] | None = None) -> Any:
    """``stmt`` with what a principal is made of: the user, their organisation and, one
    row each, the coalitions its country belongs to on ``on`` (default today; none: one
    row, coalition null)."""
    return (
        stmt.add_columns(User.username, User.active, User.clearances, User.role, User.org_id)
        .add_columns(Organisation.country, CoalitionMember.coalition)
        .join_from(User, Organisation, Organisation.id == User.org_id)
        .outerjoin(
            CoalitionMember,
            # the membership rule is the coalitions module's (as in coalitions.of_country)
            and_(
                CoalitionMember.country == Organisation.country,
                coalitions._member_on(coalitions.today() if on is None else on),
            ),
        )
    )


@cache
def _token_statement(carry: bool = False) -> Select[Any]:
    """The one query behind every authenticated request, built once (its values bound
    at run time: building it cost more than running it on SQLite). ``carry``: it also
    binds, for PostgreSQL's row-level security, the principal the token stood for last time
    (``binding_columns``), which ``identify`` then checks against the one it reads."""
    token = select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at)
    joined = token.join(User, User.id == ApiToken.user_id)
    stmt: Select[Any] = _who(joined, bindparam("on", type_=Date)).where(
        ApiToken.token_hash == bindparam("digest")
    )
    return stmt.add_columns(*binding_columns(CARRIED)) if carry else stmt


CARRIED = "carried_"  # the prefix of the values _token_statement(carry=True) binds
# Who each token stood for when this process last read it (by the token's digest): what a
# request on PostgreSQL binds in the same statement that reads who is calling, one round
# trip instead of two; ``identify`` checks it against what that statement reads.
_last_seen: dict[str, Principal] = {}
LAST_SEEN = 1024  # tokens remembered; the memory is emptied when it is full


def _principal_of(rows: Sequence[Row[Any]] | Sequence[Any]) -> Principal:
    first = rows[0]
    return Principal(
        user=first.username,
        org=first.org_id,
        country=first.country,
        coalitions=frozenset(r.coalition for r in rows if r.coalition is not None),
        clearances=_clearance_levels(first.clearances),
        role=first.role,
    )


class Sharing:
    """Sharing operations inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ coalitions
    def coalitions(self, on: date | None = None) -> dict[str, set[str]]:
        """Each coalition's member countries on ``on`` (default: today)."""
        return coalitions.members(self.session, on)

    def set_coalition(
        self,
        name: str,
        label: str | None,
        members: Iterable[str],
        *,
        actor: Principal | None,
        effective_on: date | None = None,
    ) -> list[CoalitionChange]:
        """Make ``members`` the coalition's members from ``effective_on`` (default today):
        the operator's alone, since it changes what every member's users may read.
        Each join and departure is audited and listed for every administrator."""
        from detente.core.countries import resolve

        self._require(actor, "operate", "change coalitions")
        assert actor is not None
        isos = sorted({resolve(m, field="members").iso3 or m for m in members})
        changes = coalitions.set_members(
            self.session, name, label, isos, on=effective_on or coalitions.today(), actor=actor.user
        )
        for change in changes:
            detail = {"coalition": change.coalition, "change": change.change, "country": change.country}
            detail["effective_on"] = change.effective_on.isoformat() if change.effective_on else None
            self._audit(actor, "coalition", "coalitions", None, detail)
        return changes

    def coalition_changes(self, *, actor: Principal, limit: int = 500) -> list[tuple[CoalitionChange, bool]]:
        """Every change of coalition membership, newest first, each with whether it
        concerns the administrator's organisation; shown to every administrator."""
        self._require(actor, "admin", "see coalition changes")
        today = self.coalitions()
        return [
            (change, coalitions.affects(change, actor.country, today))
            for change in coalitions.history(self.session, limit)
        ]

    # ------------------------------------------------------------ organisations
    def add_org(self, name: str, country: str, *, actor: Principal | None) -> Organisation:
        """Add an organisation. The first runs the instance (its first user is the
        operator); later ones are added by the operator only: an organisation's country
        decides what its users may read, so no administrator may make one."""
        from detente.core.countries import resolve

        first = not self.session.scalar(select(func.count()).select_from(Organisation))
        if not first:
            self._require(actor, "operate", "add organisations")
        iso3 = resolve(country, field="country").iso3
        if not iso3:
            raise ValidationError(f"{country!r} has no ISO code", field="country")
        if self.session.scalar(select(Organisation.id).where(Organisation.name == name.strip())):
            raise ConflictError(f"an organisation named {name!r} exists")
        org = Organisation(name=name.strip(), country=iso3, created_at=now(), runs_instance=first)
        self.session.add(org)
        self.session.flush()
        if first:
            self._adopt_orphans(org)
            coalitions.install_shipped(self.session, actor.user if actor else "detente")
        self._audit(actor, "org.create", "organisations", org.id, {"name": org.name, "country": iso3})
        return org

    def _adopt_orphans(self, org: Organisation) -> None:
        """Records made before organisations existed belong to the first one."""
        system_access(self.session)
        for res in record_types().values():
            self.session.execute(
                update(res.table).where(res.table.owner_org_id.is_(None)).values(owner_org_id=org.id)
            )

    def orgs(self) -> list[Organisation]:
        return list(self.session.scalars(select(Organisation).order_by(Organisation.name)))

    def org(self, name_or_id: str) -> Organisation:
        org = self.session.scalar(
            select(Organisation).where((Organisation.id == name_or_id) | (Organisation.name == name_or_id))
        )
        if org is None:
            raise NotFoundError(f"no organisation {name_or_id!r}")
        return org

    # ------------------------------------------------------------ users
    def add_user(
        self,
        username: str,
        org: str,
        *,
        role: str,
        clearances: dict[str, str],
        password: str | None,
        actor: Principal | None,
        display_name: str | None = None,
    ) -> User:
        """Add a user. An administrator adds users to their own organisation, with
        clearances no higher than their own; the operator also adds the first
        administrator of another organisation. The workspace's first user is its operator."""
        first = not self.session.scalar(select(func.count()).select_from(User))
        if not first:
            self._require(actor, "admin", "add users")
        if role not in roles():
            raise ValidationError(f"unknown role {role!r}; one of {', '.join(roles())}", field="role")
        username = username.strip().lower()
        if not username or not all(ch.isalnum() or ch in "._-@" for ch in username):
            raise ValidationError("usernames use letters, digits and . _ - @", field="username")
        levels = _clearance_levels(clearances)
        organisation = self.org(org)
        if first:
            if role != "operator" or not organisation.runs_instance:
                raise ValidationError(
                    "the first user of a workspace is its operator: role operator, in the first organisation",
                    field="role",
                )
        else:
            assert actor is not None
            if organisation.id != actor.org:
                # onboarding a partner: the operator adds its first administrator; after
                # that each organisation manages its own users
                has_users = self.session.scalar(
                    select(func.count()).select_from(User).where(User.org_id == organisation.id)
                )
                if not self._may(actor, "operate") or has_users or role != "administrator":
                    raise AuthError("administrators manage the users of their own organisation only")
            self._check_grant(actor, organisation, role, levels, {})
        if self.session.scalar(select(User.id).where(User.username == username)):
            raise ConflictError(f"a user named {username!r} exists")
        if password is not None and len(password) < 12:
            raise ValidationError("passwords need at least 12 characters", field="password")
        user = User(
            username=username,
            display_name=display_name,
            org_id=organisation.id,
            role=role,
            clearances={s: schemes()[s][lv] for s, lv in levels.items()},
            password_hash=_hasher.hash(password) if password else None,
            active=True,
            failed_logins=0,
            created_at=now(),
        )
        self.session.add(user)
        self.session.flush()
        self._audit(
            actor,
            "user.create",
            "users",
            user.id,
            {"username": username, "role": role, "clearances": user.clearances},
        )
        return user

    def update_user(
        self,
        username: str,
        *,
        actor: Principal,
        role: str | None = None,
        clearances: dict[str, str] | None = None,
        active: bool | None = None,
        display_name: str | None = None,
    ) -> User:
        """Change a user of the administrator's own organisation: role, clearances (none
        above the administrator's own), whether they may sign in, display name."""
        self._require(actor, "admin", "change users")
        user = self.user(username)
        organisation = self.org(user.org_id)
        if user.org_id != actor.org:
            raise AuthError("administrators manage the users of their own organisation only")
        if user.role == "operator" and not self._may(actor, "operate"):
            raise AuthError("only an operator may change an operator")
        if role is not None and role not in roles():
            raise ValidationError(f"unknown role {role!r}; one of {', '.join(roles())}", field="role")
        levels = _clearance_levels(clearances) if clearances is not None else None
        self._check_grant(
            actor, organisation, role or user.role, levels or {}, _clearance_levels(user.clearances)
        )
        changed: dict[str, Any] = {}
        if role is not None and role != user.role:
            changed["role"] = role
        if levels is not None:
            named = {s: schemes()[s][lv] for s, lv in levels.items()}
            if named != user.clearances:
                changed["clearances"] = named
        if active is not None and active != user.active:
            changed["active"] = active
        if display_name is not None and display_name != user.display_name:
            changed["display_name"] = display_name
        if user.role == "operator" and (
            changed.get("role", "operator") != "operator" or changed.get("active") is False
        ):
            others = self.session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.role == "operator", User.active.is_(True), User.id != user.id)
            )
            if not others:
                raise ValidationError(
                    "the workspace needs an active operator: make another first", field="role"
                )
        for key, value in changed.items():
            setattr(user, key, value)
        self.session.flush()
        if changed:
            self._audit(actor, "user.update", "users", user.id, {"username": user.username, **changed})
        return user

    def _check_grant(
        self,
        actor: Principal,
        organisation: Organisation,
        role: str,
        levels: dict[str, int],
        current: dict[str, int],
    ) -> None:
        """No administrator grants more than they hold; only an operator makes an operator,
        and only in the organisation that runs the instance."""
        if role == "operator" and not (self._may(actor, "operate") and organisation.runs_instance):
            raise AuthError(
                "only an operator may make an operator, in the organisation that runs the instance"
            )
        if not role_permissions(role) <= role_permissions(actor.role):
            raise AuthError(f"you cannot grant the role {role!r}: it can do more than yours")
        for scheme, level in levels.items():
            if level > actor.clearances.get(scheme, -1) and level > current.get(scheme, -1):
                raise AuthError("you cannot grant a clearance above your own")

    def users(self, org_id: str | None = None) -> list[User]:
        stmt = select(User).order_by(User.username)
        if org_id:
            stmt = stmt.where(User.org_id == org_id)
        return list(self.session.scalars(stmt))

    def user(self, username: str) -> User:
        user = self.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFoundError(f"no user {username!r}")
        return user

    def principal(self, username: str) -> Principal:
        """The principal of an existing, active user."""
        rows = self.session.execute(_who(select()).where(User.username == username.strip().lower())).all()
        if not rows or not rows[0].active:
            raise AuthError(f"no active user {username!r}")
        return _principal_of(rows)

    def _principal(self, user: User, org: Organisation | None = None) -> Principal:
        org = org or self.session.get(Organisation, user.org_id)
        assert org is not None
        return Principal(
            user=user.username,
            org=org.id,
            country=org.country,
            coalitions=coalitions.of_country(self.session, org.country),
            clearances=_clearance_levels(user.clearances),
            role=user.role,
        )

    # ------------------------------------------------------------ authentication
    def login(self, username: str, password: str) -> Principal:
        """Check a password; repeated failures lock the account for a while.

        A failure raises ``AuthError``; its bookkeeping (the failure count, the
        lock, the audit entry) is written in the caller's transaction, so callers
        that roll back on errors use ``attempt_login`` and commit either way.
        """
        outcome = self.attempt_login(username, password)
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome

    def attempt_login(self, username: str, password: str) -> Principal | AuthError:
        """``login`` that returns the refusal instead of raising it."""
        try:
            return self._login(username, password)
        except AuthError as exc:
            return exc

    def _login(self, username: str, password: str) -> Principal:
        user = self.session.scalar(select(User).where(User.username == username.strip().lower()))
        stamp = now()
        if user is None or not user.active or not user.password_hash:
            _hasher.hash(password)  # same work as a real check: no timing hint
            self._audit(None, "login.failed", "users", None, {"username": username})
            raise AuthError("wrong username or password")
        if user.locked_until and user.locked_until > stamp:
            self._audit(None, "login.locked", "users", user.id, {"username": username})
            raise AuthError("too many failed logins: try again later")
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = stamp + LOCKOUT
                user.failed_logins = 0
            self.session.flush()
            self._audit(None, "login.failed", "users", user.id, {"username": username})
            raise AuthError("wrong username or password") from None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.failed_logins = 0
        user.locked_until = None
        self.session.flush()
        principal = self._principal(user)
        self._audit(principal, "login", "users", user.id, {})
        return principal

    def issue_token(
        self, principal: Principal, *, name: str = "cli", days: int = 30, hours: int | None = None
    ) -> tuple[str, ApiToken]:
        """A new token for ``principal``, valid ``days`` (or ``hours``: web sign-ins)."""
        secret = "dtt_" + secrets.token_urlsafe(32)
        user = self.user(principal.user)
        lifetime = timedelta(hours=hours) if hours is not None else timedelta(days=days)
        token = ApiToken(
            user_id=user.id,
            token_hash=hashlib.sha256(secret.encode()).hexdigest(),
            name=name,
            created_at=now(),
            expires_at=now() + lifetime,
        )
        self.session.add(token)
        self.session.flush()
        detail = {"name": name, **({"hours": hours} if hours is not None else {"days": days})}
        self._audit(principal, "token.issue", "api_tokens", token.id, detail)
        return secret, token

    def revoke_secret(self, secret: str) -> None:
        """Revoke the token whose secret this is (signing out); unknown secrets are ignored."""
        digest = hashlib.sha256(secret.strip().encode()).hexdigest()
        token = self.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if token is None or token.revoked_at is not None:
            return
        token.revoked_at = now()
        self.session.flush()
        owner = self.session.get(User, token.user_id)
        actor = self._principal(owner) if owner is not None else None
        self._audit(actor, "token.revoke", "api_tokens", token.id, {"name": token.name})

    def authenticate(self, secret: str, *, touch: bool = True) -> Principal:
        """The principal a token stands for. ``touch`` records when it was last used
        (at most once a minute, so that a busy client does not turn reads into writes).

        Checked against the database on every call (one query: the token, its user,
        their organisation and its country's coalitions today), so a revoked or expired
        token, a deactivated user or a changed coalition takes effect at the next request."""
        principal, stale = self.identify(secret)
        if touch and stale is not None:
            self.touch_token(stale)
        return principal

    def identify(self, secret: str) -> tuple[Principal, str | None]:
        """The principal a token stands for, and the token's id if its last use is over a
        minute old (for ``touch_token``), without writing: a server authenticates a change
        in a short read before it queues for the write lock, then touches in the write."""
        digest = hashlib.sha256(secret.strip().encode()).hexdigest()
        # on the connection: plain rows, past the ORM's per-statement handling (every request)
        values: dict[str, Any] = {"digest": digest, "on": coalitions.today()}
        carried = _last_seen.get(digest) if self.session.get_bind().dialect.name == "postgresql" else None
        if carried is not None:
            values.update({f"{CARRIED}{k}": v for k, v in binding_values(carried).items()})
        rows = self.session.connection().execute(_token_statement(carried is not None), values).all()
        stamp = now()
        if not rows or rows[0].revoked_at is not None or rows[0].expires_at <= stamp or not rows[0].active:
            if carried is not None:
                unbind(self.session)
            raise AuthError("invalid, expired or revoked token")
        token_id, _, _, last_used_at = rows[0][:4]
        stale = last_used_at is None or stamp - last_used_at > TOUCH_EVERY
        principal = _principal_of(rows)
        if carried is not None:
            bound_as(self.session, principal, carried)
        if len(_last_seen) >= LAST_SEEN:
            _last_seen.clear()
        _last_seen[digest] = principal
        return principal, token_id if stale else None

    def touch_token(self, token_id: str) -> None:
        """Record that the token was used now."""
        self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(last_used_at=now())
            .execution_options(synchronize_session=False)
        )

    def revoke_token(self, token_id: str, *, actor: Principal) -> None:
        token = self.session.get(ApiToken, token_id)
        owner = self.session.get(User, token.user_id) if token else None
        if (
            token is None
            or owner is None
            or (
                owner.username != actor.user and not (self._may(actor, "admin") and owner.org_id == actor.org)
            )
        ):
            raise NotFoundError(f"no token {token_id}")
        token.revoked_at = now()
        self.session.flush()
        self._audit(actor, "token.revoke", "api_tokens", token.id, {})

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _may(actor: Principal | None, permission: str) -> bool:
        return may(actor, permission)

    def _require(self, actor: Principal | None, permission: str, what: str) -> None:
        if not self._may(actor, permission):
            who = "the workspace's operator" if permission == "operate" else "an administrator"
            raise AuthError(f"only {who} may {what}")

    def _audit(
        self,
        actor: Principal | None,
        action: str,
        table: str | None,
        record_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        audit.append(
            self.session,
            actor=actor.user if actor else "-",
            org_id=actor.org if actor else None,
            action=action,
            table=table,
            record_id=record_id,
            detail=detail,
        )
