"""The typed edges of every record type, built from one declaration of its fields.

A slice declares a record's own fields once, as a pydantic model whose
``Field(description=...)`` says what each means (``RecordFields``). From it come the
three models the interfaces use, split by direction:

- ``XCreate``: what a user may send to create one (the fields, an external id, a
  marking; never an id: detente assigns every record a random one);
- ``XUpdate``: what they may change (every field optional; only the fields sent
  change; cross-field rules are re-checked by the store on the merged record);
- ``XPublic``: what detente returns (plain types, a reference the reader may not see
  is null and named in ``withheld``, and the bookkeeping of every record).
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from detente.store.fields import Marking, OptionalText, clean_line

__all__ = [
    "DEFAULT_MARKING",
    "ExternalId",
    "RecordCreate",
    "RecordFields",
    "RecordPublic",
    "choices",
    "create_model_of",
    "plain",
    "public_model_of",
    "update_model_of",
]

ExternalId = Annotated[
    Annotated[str, AfterValidator(clean_line), StringConstraints(min_length=1, max_length=200)] | None,
    OptionalText,
    Field(description="Your own key for this record (used to match re-imports)"),
]


class RecordFields(BaseModel):
    """Base of a record type's own fields: unknown fields are refused, defaults checked."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


# The marking a new record gets when none is given, in every interface: the owner's
# organisation only (need to know); releasing it is a choice.
DEFAULT_MARKING = "UNCLASSIFIED"


class RecordCreate(RecordFields):
    # no id: detente assigns every record a random one (a client-chosen id could probe
    # whether a hidden record has it); external_id is the field for a user's own key
    external_id: ExternalId = None
    marking: Marking = Field(
        default=DEFAULT_MARKING,
        description="Marking banner, e.g. 'UNCLASSIFIED//TLP:CLEAR' or 'SECRET//REL TO USA, GBR'",
    )


class RecordPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The record's id (random, assigned by detente)")
    external_id: str | None = Field(description="Its owner's own key for it")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    version: int = Field(description="Its version: send it back to change it (optimistic concurrency)")
    marking: str = Field(description="Who may read it: classification, REL TO, TLP")
    owner_org_id: str | None = Field(default=None, description="The organisation that owns (and may edit) it")
    withheld: list[str] = Field(
        default_factory=list,
        description="Reference fields naming a record you may not see: null for you (lists of "
        "references hold only the records you may see)",
    )


def _name(fields: type[BaseModel], suffix: str) -> str:
    return fields.__name__.removesuffix("Fields") + suffix


def create_model_of(fields: type[BaseModel]) -> type[BaseModel]:
    """``XCreate``: the fields (with their rules), an external id and a marking."""
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        _name(fields, "Create"), __base__=(fields, RecordCreate), __module__=fields.__module__
    )
    return model


def update_model_of(fields: type[BaseModel]) -> type[BaseModel]:
    """``XUpdate``: every field optional, plus the external id and the marking. Cross-field
    rules are not repeated here: the store re-checks the whole record with ``fields``
    after merging the change."""
    spec: dict[str, Any] = {
        name: (info.rebuild_annotation() | None, Field(None, description=info.description))
        for name, info in fields.model_fields.items()
    }
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        _name(fields, "Update"),
        __base__=RecordFields,
        __module__=fields.__module__,
        external_id=(ExternalId, None),
        marking=(Marking | None, Field(None, description=RecordCreate.model_fields["marking"].description)),
        **spec,
    )
    return model


def plain(annotation: Any) -> Any:
    """The plain type under validators and constraints: ``Annotated[str, ...] | None`` is
    ``str | None``, ``list[Annotated[str, ...]]`` is ``list[str]``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return plain(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        parts = tuple(plain(a) for a in typing.get_args(annotation))
        out = parts[0]
        for part in parts[1:]:
            out = out | part
        return out
    if origin is list:
        return list[plain(typing.get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


def public_model_of(
    fields: type[BaseModel], refs: typing.Iterable[str], base: type[BaseModel] = RecordPublic
) -> type[BaseModel]:
    """``XPublic``: each field in its plain type, with its description; a reference may
    be null (withheld from a reader who may not see its target); ``base`` may add
    computed properties (a commitment's ``overdue``)."""
    refs = set(refs)
    spec: dict[str, Any] = {}
    for name, info in fields.model_fields.items():
        kind = plain(info.annotation)
        if name in refs:
            kind = kind | None
        default: Any = ... if info.is_required() and name not in refs else None
        if typing.get_origin(kind) is list:
            spec[name] = (kind, Field(default_factory=list, description=info.description))
        else:
            spec[name] = (kind, Field(default, description=info.description))
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        _name(fields, "Public"), __base__=base, __module__=fields.__module__, **spec
    )
    return model


def choices(annotation: Any, metadata: typing.Iterable[Any] = ()) -> tuple[str, ...]:
    """The values a field allows, when a validator in its type lists them (``choices()``
    on the validator's function, as a slice's taxonomy validators have)."""
    found: list[Any] = list(metadata)
    stack = [annotation]
    while stack:
        tp = stack.pop()
        if typing.get_origin(tp) is Annotated:
            base, *extra = typing.get_args(tp)
            found.extend(extra)
            stack.append(base)
        elif typing.get_origin(tp) in (Union, types.UnionType, list):
            stack.extend(typing.get_args(tp))
    for item in found:
        listed = getattr(getattr(item, "func", None), "choices", None)
        if listed is not None:
            return tuple(listed())
    return ()
