"""Organisations, users, coalitions, authentication and the principal of a request.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random 256-bit
secrets stored only as SHA-256 digests, revocable and expiring; logins are
throttled (locked for a while after repeated failures). Every login, failed or
not, goes to the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from detente.core import audit
from detente.core.errors import ConflictError, DetenteError, NotFoundError, ValidationError
from detente.core.markings import Principal, schemes
from detente.sharing.tables import ApiToken, Coalition, CoalitionMember, Organisation, User

__all__ = [
    "AuthError",
    "Sharing",
    "role_permissions",
    "roles",
]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
TOUCH_EVERY = timedelta(minutes=1)
_hasher = PasswordHasher()


class AuthError(DetenteError):
    """Authentication or authorisation failed (deliberately vague about why)."""

    exit_code = 6


@cache
def _config() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).with_name("roles.yaml")).read_text(encoding="utf-8"))


def roles() -> dict[str, dict[str, Any]]:
    return dict(_config()["roles"])


def role_permissions(role: str) -> frozenset[str]:
    return frozenset(roles()[role]["permissions"])


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


class Sharing:
    """Sharing operations inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ coalitions
    def coalitions(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {c: set() for c in self.session.scalars(select(Coalition.name))}
        for name, country in self.session.execute(select(CoalitionMember.coalition, CoalitionMember.country)):
            out[name].add(country)
        return out

    def set_coalition(
        self, name: str, label: str, members: Iterable[str], *, actor: Principal | None
    ) -> None:
        from detente.core.countries import resolve

        self._require_admin(actor)
        name = name.strip().upper()
        if not name or len(name) == 3 or not name.replace("-", "").replace("_", "").isalnum():
            raise ValidationError(
                "a coalition name is letters/digits, not 3 letters long (3-letter names are countries)",
                field="name",
            )
        isos = sorted({resolve(m, field="members").iso3 or m for m in members})
        coalition = self.session.get(Coalition, name)
        if coalition is None:
            self.session.add(Coalition(name=name, label=label))
        else:
            coalition.label = label
        self.session.flush()
        self.session.execute(CoalitionMember.__table__.delete().where(CoalitionMember.coalition == name))
        self.session.add_all(CoalitionMember(coalition=name, country=c) for c in isos)
        self.session.flush()
        self._audit(actor, "coalition", "coalitions", None, {"name": name, "members": isos})

    def ensure_default_coalitions(self) -> None:
        if self.session.scalar(select(func.count()).select_from(Coalition)):
            return
        for name, spec in _config()["coalitions"].items():
            self.session.add(Coalition(name=name, label=spec["label"]))
            self.session.flush()
            self.session.add_all(CoalitionMember(coalition=name, country=c) for c in spec["members"])
        self.session.flush()

    # ------------------------------------------------------------ organisations
    def add_org(self, name: str, country: str, *, actor: Principal | None) -> Organisation:
        from detente.core.countries import resolve

        first = not self.session.scalar(select(func.count()).select_from(Organisation))
        if not first:
            self._require_admin(actor)
        iso3 = resolve(country, field="country").iso3
        if not iso3:
            raise ValidationError(f"{country!r} has no ISO code", field="country")
        if self.session.scalar(select(Organisation.id).where(Organisation.name == name.strip())):
            raise ConflictError(f"an organisation named {name!r} exists")
        org = Organisation(name=name.strip(), country=iso3, created_at=now())
        self.session.add(org)
        self.session.flush()
        if first:
            self._adopt_orphans(org)
            self.ensure_default_coalitions()
        self._audit(actor, "org.create", "organisations", org.id, {"name": org.name, "country": iso3})
        return org

    def _adopt_orphans(self, org: Organisation) -> None:
        """Records made before organisations existed belong to the first one."""
        from detente.registry.resources import RESOURCES
        from detente.sharing.access import system_access

        system_access(self.session)
        for res in RESOURCES.values():
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
        first = not self.session.scalar(select(func.count()).select_from(User))
        if not first:
            self._require_admin(actor)
        elif role != "administrator":
            raise ValidationError("the first user of a workspace must be an administrator", field="role")
        if role not in roles():
            raise ValidationError(f"unknown role {role!r}; one of {', '.join(roles())}", field="role")
        username = username.strip().lower()
        if not username or not all(ch.isalnum() or ch in "._-@" for ch in username):
            raise ValidationError("usernames use letters, digits and . _ - @", field="username")
        levels = _clearance_levels(clearances)
        organisation = self.org(org)
        if actor is not None and not first and actor.org != organisation.id:
            # onboarding a partner: an administrator may create the first administrator of a
            # new organisation; after that each organisation manages its own users
            has_users = self.session.scalar(
                select(func.count()).select_from(User).where(User.org_id == organisation.id)
            )
            if has_users or role != "administrator":
                raise AuthError("administrators manage the users of their own organisation only")
        if actor is not None:
            for scheme, level in levels.items():
                if level > actor.clearances.get(scheme, -1):
                    raise AuthError("you cannot grant a clearance above your own")
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
        user = self.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None or not user.active:
            raise AuthError(f"no active user {username!r}")
        return self._principal(user)

    def _principal(self, user: User, org: Organisation | None = None) -> Principal:
        org = org or self.session.get(Organisation, user.org_id)
        assert org is not None
        coalitions = frozenset(
            self.session.scalars(
                select(CoalitionMember.coalition).where(CoalitionMember.country == org.country)
            )
        )
        return Principal(
            user=user.username,
            org=org.id,
            country=org.country,
            coalitions=coalitions,
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
        (at most once a minute, so that a busy client does not turn reads into writes)."""
        digest = hashlib.sha256(secret.strip().encode()).hexdigest()
        # one query for the token, its user and their organisation (this runs on every request)
        found = self.session.execute(
            select(ApiToken, User, Organisation)
            .join(User, User.id == ApiToken.user_id)
            .join(Organisation, Organisation.id == User.org_id)
            .where(ApiToken.token_hash == digest)
        ).first()
        stamp = now()
        if found is None:
            raise AuthError("invalid, expired or revoked token")
        token, user, org = found
        if token.revoked_at is not None or token.expires_at <= stamp or not user.active:
            raise AuthError("invalid, expired or revoked token")
        if touch and (token.last_used_at is None or stamp - token.last_used_at > TOUCH_EVERY):
            token.last_used_at = stamp
            self.session.flush()
        return self._principal(user, org)

    def revoke_token(self, token_id: str, *, actor: Principal) -> None:
        token = self.session.get(ApiToken, token_id)
        owner = self.session.get(User, token.user_id) if token else None
        if (
            token is None
            or owner is None
            or (
                owner.username != actor.user
                and not (actor.role == "administrator" and owner.org_id == actor.org)
            )
        ):
            raise NotFoundError(f"no token {token_id}")
        token.revoked_at = now()
        self.session.flush()
        self._audit(actor, "token.revoke", "api_tokens", token.id, {})

    # ------------------------------------------------------------ helpers
    def _require_admin(self, actor: Principal | None) -> None:
        if actor is None or "admin" not in role_permissions(actor.role):
            raise AuthError("this needs an administrator")

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
