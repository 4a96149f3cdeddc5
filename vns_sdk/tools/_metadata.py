"""From a function's signature to an arguments validator and a JSON Schema, once, at registration.

`inspect_function` reads the signature and the docstring, builds a pydantic model of the arguments
(one field per parameter, the `CallContext` parameter left out), and derives the tool's JSON Schema
from that same model, so the schema the model sees and the validation the handler gets cannot
disagree. Everything a call needs is computed here; `FunctionMetadata.bind` then does only the
per-call work: parse JSON-string arguments, validate, and lay out the call's arguments.
"""

from __future__ import annotations

import inspect
import json
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PydanticSchemaGenerationError, PydanticUserError, ValidationError
from pydantic import create_model as _create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import PydanticJsonSchemaWarning

from vns_sdk._problems import argument_problems
from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature, ToolArgumentsError
from vns_sdk.tools._docstring import parse_docstring
from vns_sdk.tools._schema import RecursiveSchemaError, clean_schema, schema_types
from vns_sdk.tools._signature import Unresolved, find_injected, is_async, read_signature

__all__ = ["FunctionMetadata", "inspect_function"]


class _Arguments(BaseModel):
    # Arguments arrive under their wire name (alias); the Python name is accepted too. Unknown keys
    # are ignored: a model that adds a stray argument should not fail the call.
    model_config = ConfigDict(populate_by_name=True, extra="ignore", protected_namespaces=())


@dataclass(frozen=True, eq=False)
class FunctionMetadata:
    """What `inspect_function` learned about a function: everything a call needs, precomputed.

    Attributes:
        description: The docstring's summary and long description, or ``None``.
        parameters: The tool's JSON Schema (``{"type": "object", "properties": ..., "required": ...}``).
        arguments_model: The pydantic model that validates the arguments.
        context_param: The name of the parameter that receives the `CallContext`, if any.
        is_async: The function is a coroutine function (otherwise it runs in a worker thread).
        json_keys: Argument keys whose values may arrive as JSON text (object and list parameters).
        positional: Fields passed positionally, in order (positional-only parameters).
        keywords: ``(field name, parameter name)`` of the fields passed by keyword.
        wire_names: Field name or alias -> the name the model uses, for error messages.
        renamed: Some field is positional or has another name than its parameter (slower binding).
    """

    description: str | None
    parameters: dict[str, Any]
    arguments_model: type[BaseModel]
    context_param: str | None
    is_async: bool
    json_keys: frozenset[str]
    positional: tuple[str, ...]
    keywords: tuple[tuple[str, str], ...]
    wire_names: Mapping[str, str]
    renamed: bool = field(init=False)
    _validate: Callable[[Any], BaseModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        renamed = bool(self.positional) or any(name != param for name, param in self.keywords)
        object.__setattr__(self, "renamed", renamed)
        # The validator's bound method, looked up once rather than through the model class on every call.
        object.__setattr__(self, "_validate", self.arguments_model.__pydantic_validator__.validate_python)

    def bind(
        self, tool_name: str, arguments: Mapping[str, Any], call: CallContext | None
    ) -> tuple[list[Any], dict[str, Any]]:
        """Validate the model's arguments and return the ``(args, kwargs)`` to call the function with.

        Raises:
            ToolArgumentsError: The arguments do not fit the signature.
        """
        if self.json_keys and isinstance(arguments, Mapping):
            arguments = _parse_json_strings(arguments, self.json_keys)
        try:
            values = self._validate(arguments).__dict__
        except ValidationError as exc:
            raise ToolArgumentsError(tool_name, argument_problems(exc, self._argument)) from None
        if self.renamed:
            args = [values[name] for name in self.positional]
            kwargs = {param: values[name] for name, param in self.keywords}
        else:
            # The usual case: every field is a keyword parameter of the same name. The validated
            # instance is thrown away, so its __dict__ can serve as the keyword arguments.
            args, kwargs = [], values
        if self.context_param is not None:
            kwargs[self.context_param] = call
        return args, kwargs

    def _argument(self, loc: tuple[int | str, ...]) -> str:
        """The argument's path as the model knows it: wire names, without pydantic's union-member tags."""
        if not loc:
            return "arguments"
        head = str(loc[0])
        text = self.wire_names.get(head, head)
        node: Mapping[str, Any] = self.parameters["properties"].get(text, {})
        rest = list(loc[1:])
        while rest:
            branches = [b for b in node.get("anyOf", ()) if b != {"type": "null"}]
            if len(branches) == 1:
                node = branches[0]  # nullable: no tag
                continue
            if len(branches) > 1:
                # pydantic names the union member it tried ("int", "Cat", or the discriminator value).
                rest.pop(0)
                node = _merge_branches(branches)
                continue
            part = rest.pop(0)
            if isinstance(part, int):
                text += f"[{part}]"
                items = node.get("items")
                node = items if isinstance(items, Mapping) else {}
            else:
                text += f".{part}"
                properties = node.get("properties", {})
                sub = properties.get(part) if isinstance(properties, Mapping) else None
                if sub is None:
                    extra = node.get("additionalProperties")
                    sub = extra if isinstance(extra, Mapping) else {}
                node = sub
        return text


def _merge_branches(branches: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Enough of the union of several schemas to follow an error's path into any of them."""
    merged: dict[str, Any] = {"properties": {}}
    for branch in branches:
        merged["properties"].update(branch.get("properties", {}))
        for key in ("items", "additionalProperties", "anyOf"):
            if key in branch and key not in merged:
                merged[key] = branch[key]
    return merged


def _parse_json_strings(arguments: Mapping[str, Any], keys: frozenset[str]) -> Mapping[str, Any]:
    # Models sometimes send an object or a list as JSON text ("[1, 2]"): parse it, as FastMCP does.
    copied: dict[str, Any] | None = None
    for key in keys:
        value = arguments.get(key)
        if type(value) is str:
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            if isinstance(parsed, (dict, list)):
                if copied is None:
                    copied = dict(arguments)
                copied[key] = parsed
    return arguments if copied is None else copied


# --- registration -----------------------------------------------------------------------------------


def _fail(tool_name: str, message: str) -> InvalidToolSignature:
    return InvalidToolSignature(f"Tool {tool_name!r}: {message}")


def _annotated_parts(annotation: Any, default: Any) -> tuple[list[FieldInfo], str | None]:
    """The `FieldInfo`s a parameter declares (in ``Annotated`` or as its default) and a bare-string description."""
    infos: list[FieldInfo] = []
    text: str | None = None
    if typing.get_origin(annotation) is Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, FieldInfo):
                infos.append(extra)
            elif isinstance(extra, str):
                text = extra
    if isinstance(default, FieldInfo):
        infos.append(default)
    return infos, text


def _argument_annotation(param: inspect.Parameter, tool_name: str) -> Any:
    """The annotation of a parameter that becomes an argument of the tool, once it is known to be fit for one."""
    if param.kind is inspect.Parameter.VAR_POSITIONAL:
        raise _fail(
            tool_name,
            f"*{param.name} is not allowed: the model passes named arguments only. "
            "Declare each argument as its own parameter.",
        )
    if param.kind is inspect.Parameter.VAR_KEYWORD:
        raise _fail(
            tool_name,
            f"**{param.name} is not allowed: the schema must list every argument. "
            "Declare each argument as its own parameter.",
        )
    annotation = param.annotation
    if annotation is inspect.Parameter.empty:
        raise _fail(
            tool_name,
            f"parameter {param.name!r} has no type annotation; annotate it (for example `{param.name}: str`) "
            "so the model knows what to send and the arguments can be checked.",
        )
    if isinstance(annotation, Unresolved):
        error = annotation.error
        raise _fail(
            tool_name,
            f"cannot resolve the annotation {annotation.text!r} of parameter {param.name!r} "
            f"({type(error).__name__}: {error}). Import that name at module level (not under "
            "`if TYPE_CHECKING:`), so it exists when the tool is registered.",
        )
    return annotation


def inspect_function(fn: Callable[..., Any], *, tool_name: str) -> FunctionMetadata:
    """Build the metadata of a tool function.

    Raises:
        InvalidToolSignature: The function cannot be a tool; the message says what to change.
    """
    if inspect.isclass(fn):
        raise _fail(tool_name, f"{fn.__name__} is a class; register a function (or an instance with __call__).")
    if not callable(fn):
        raise _fail(tool_name, f"{fn!r} is not callable; register a function.")
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise _fail(tool_name, "the function yields; a tool must return its result (use return, not yield).")

    owner = f"Tool {tool_name!r}"
    injected, arguments = find_injected(read_signature(fn, owner=owner), {"CallContext": CallContext}, owner=owner)
    docstring = parse_docstring(inspect.getdoc(fn))

    fields: dict[str, Any] = {}
    descriptions: dict[str, str] = {}  # field name -> description from Annotated text or the docstring
    positional: list[str] = []
    keywords: list[tuple[str, str]] = []

    for param in arguments:
        annotation = _argument_annotation(param, tool_name)
        infos, text = _annotated_parts(annotation, param.default)
        # pydantic refuses field names with a leading underscore or that shadow BaseModel attributes;
        # such a parameter gets an internal field name and keeps its own name on the wire.
        field_name = param.name
        if param.name.startswith("_") or hasattr(BaseModel, param.name):
            field_name = f"vns_arg_{len(fields)}"
            if not any(info.alias or info.validation_alias for info in infos):
                annotation = Annotated[annotation, Field(alias=param.name)]
        default: Any = ... if param.default is inspect.Parameter.empty else param.default
        fields[field_name] = (annotation, default)
        description = text or docstring.params.get(param.name)
        if description:
            descriptions[field_name] = description
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(field_name)
        else:
            keywords.append((field_name, param.name))

    model = _build_model(fn, tool_name, fields)
    parameters = _build_schema(model, tool_name, descriptions)
    properties: dict[str, Any] = parameters["properties"]
    # pydantic lists the properties in field order, under the name the model must use.
    wire_names: dict[str, str] = {}
    json_keys: set[str] = set()
    for field_name, wire in zip(fields, properties, strict=True):
        wire_names[field_name] = wire_names[wire] = wire
        admitted = schema_types(properties[wire])
        if admitted & {"object", "array"} and "string" not in admitted:
            json_keys.update((field_name, wire))

    return FunctionMetadata(
        description=docstring.description,
        parameters=parameters,
        arguments_model=model,
        context_param=injected.get("CallContext"),
        is_async=is_async(fn),
        json_keys=frozenset(json_keys),
        positional=tuple(positional),
        keywords=tuple(keywords),
        wire_names=wire_names,
    )


def _build_model(fn: Callable[..., Any], tool_name: str, fields: dict[str, Any]) -> type[BaseModel]:
    model_name = "".join(part.capitalize() for part in tool_name.replace("-", "_").split("_")) + "Arguments"
    try:
        return _create_model(
            model_name,
            __base__=_Arguments,
            __module__=getattr(fn, "__module__", None) or __name__,
            **fields,
        )
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError, NameError) as exc:
        culprit = _find_bad_field(fields)
        where = f"parameter {culprit!r}" if culprit else "a parameter"
        raise _fail(
            tool_name,
            f"{where} has a type that cannot be validated ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            "Use JSON-friendly types: str, int, float, bool, Literal, Enum, lists, dicts, pydantic models, "
            "dataclasses or TypedDicts.",
        ) from None


def _find_bad_field(fields: dict[str, Any]) -> str | None:
    for name, spec in fields.items():
        try:
            _create_model("Probe", __base__=_Arguments, **{name: spec})
        except Exception:
            return name
    return None


def _build_schema(model: type[BaseModel], tool_name: str, descriptions: dict[str, str]) -> dict[str, Any]:
    with warnings.catch_warnings():
        # A default that JSON cannot hold is left out of the schema; that is fine.
        warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
        raw = model.model_json_schema(by_alias=True, mode="validation")
    try:
        cleaned = clean_schema(raw)
    except RecursiveSchemaError as exc:
        raise _fail(
            tool_name,
            f"the type {exc.name!r} refers to itself, and a tool schema must be self-contained (no $ref). "
            "Use a non-recursive type with a fixed depth instead.",
        ) from None
    properties: dict[str, Any] = cleaned.get("properties", {})
    for (field_name, info), wire in zip(model.model_fields.items(), list(properties), strict=True):
        text = descriptions.get(field_name)
        if text and info.description is None:
            # The parameter's own words win over its type's docstring (a nested model, an enum).
            prop = {k: v for k, v in properties[wire].items() if k != "description"}
            properties[wire] = {**{k: v for k, v in prop.items() if k == "type"}, "description": text, **prop}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if cleaned.get("required"):
        schema["required"] = list(cleaned["required"])
    return schema
