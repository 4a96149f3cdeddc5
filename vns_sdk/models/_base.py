"""Base configurations shared by every wire model, and the open tagged unions of the Realtime session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["OTHER_TAG", "Flag", "RealtimeModel", "SessionGuid", "VNSModel", "type_tag"]

# Tag of the catch-all member of an open union: a `type` this release does not know is kept as a plain dict.
OTHER_TAG = "__other__"


# VNS's identifier of a call: every webhook of a call carries it, and an empty one names no call.
SessionGuid = Annotated[str, Field(min_length=1)]

# A .NET boolean VNS may leave null: read as False rather than refuse the whole webhook.
Flag = Annotated[bool, BeforeValidator(lambda value: False if value is None else value)]


class VNSModel(BaseModel):
    """Base of the Voice Nexus Service payloads.

    Attributes are snake_case; on the wire they are camelCase (`session_guid` <-> `sessionGuid`). Both
    spellings are accepted on input, and dumps use the wire names. Fields VNS adds later are kept and
    dumped back unchanged.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        validate_assignment=True,
    )


class RealtimeModel(BaseModel):
    """Base of the OpenAI Realtime session parts: snake_case on the wire, as OpenAI spells it.

    Fields OpenAI adds later are kept and passed through, so a new session option needs no new release.
    A `type` field with a default (the tag of a tagged union) always counts as set, so that
    `model_dump(exclude_unset=True)` still says which member of the union a value is.
    """

    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        validate_assignment=True,
    )

    def model_post_init(self, context: Any, /) -> None:
        """Mark a defaulted `type` tag as set (see the class docstring)."""
        field = type(self).model_fields.get("type")
        if field is not None and not field.is_required() and field.default is not None:
            self.__pydantic_fields_set__.add("type")


def type_tag(known: frozenset[str], *, missing: str = OTHER_TAG) -> Callable[[Any], str]:
    """Build a callable discriminator on `type` whose unknown values select the `OTHER_TAG` member.

    Args:
        known: The `type` values that have a model.
        missing: The tag to use when the value has no `type` at all.

    Returns:
        A function for `pydantic.Discriminator`.
    """

    def pick(value: Any) -> str:
        tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        if tag is None:
            return missing
        return tag if tag in known else OTHER_TAG

    return pick
