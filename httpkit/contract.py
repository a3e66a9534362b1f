"""Declared operations: each route names its parameters, body and replies as msgspec types.

The same types parse what arrives and generate `/openapi.json` (`httpkit.openapi`),
so the contract is written once. Path, query and header values are text on the
wire; an integer must be ASCII digits (`int("²")` would raise and `int("١")`
would pass, so Python's own parsing is not used on them), a number plain
decimal notation, and every value then meets the bounds its type declares.
Anything else is a 400 naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import msgspec
import msgspec.inspect as mi
from starlette.routing import BaseRoute, Route

from seatmap.errors import BadRequest

T = TypeVar("T")

# PostgreSQL bigint: every id column; a larger id can name nothing.
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, msgspec.Meta(ge=0, le=BIGINT_MAX)]
NonNegative = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
# Plain decimal notation only: no exponent, no inf/nan, no Unicode digits.
DECIMAL_PATTERN = r"-?[0-9]{1,40}(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,4})?"
# Text that is stored or shown: no control characters (PostgreSQL text refuses NUL).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
_INTEGER = re.compile(r"[0-9]{1,19}")
_DECIMAL = re.compile(DECIMAL_PATTERN)
_BOOLEANS = {"true": True, "false": False}
_FIELD_AT = re.compile(r"at `\$\.?([A-Za-z0-9_-]+)")
_FIELD_NAMED = re.compile(r"field `([^`]+)`")

JSON = "application/json"
BUYER: tuple[tuple[str, ...], ...] = (("buyerToken",),)
OPERATOR: tuple[tuple[str, ...], ...] = (("apiKey",),)


class EventPath(msgspec.Struct):
    """An event named in the path (both services' routes start with one)."""

    event_id: Annotated[Id, msgspec.Meta(description="The event's id.")]


class ErrorReply(msgspec.Struct):
    """Every error body: a stable code, a sentence for people, and sometimes more fields."""

    error: str
    detail: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response: a JSON model, or raw media (images, PDF, bytes), or nothing."""

    description: str
    model: Any = None
    media: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    # Media that carry the same content as plain text beside the model's (CSV beside JSON).
    text_media: tuple[str, ...] = ()


def json_reply(model: Any, description: str = "OK", headers: tuple[str, ...] = ()) -> Reply:
    """A reply whose body is JSON of `model`."""
    return Reply(description, model, (JSON,), headers)


def binary_reply(*media: str, description: str, headers: tuple[str, ...] = ()) -> Reply:
    """A reply whose body is bytes of one of the media types."""
    return Reply(description, None, media, headers)


def empty_reply(description: str) -> Reply:
    """A reply without a body (204, 304)."""
    return Reply(description)


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path: what it takes and what it may answer."""

    method: str
    path: str
    summary: str
    tag: str
    replies: Mapping[int, Reply]
    errors: tuple[int, ...] = ()
    path_params: type | None = None
    query: type | None = None
    headers: type | None = None
    body: Any = None
    body_required: bool = True
    security: tuple[tuple[str, ...], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


class DeclaredRoute(Route):
    """A Starlette route that carries the operations it serves, for the OpenAPI document."""

    def __init__(
        self, endpoint: Callable[..., Any], *operations: Operation, path: str | None = None
    ) -> None:
        methods = sorted({op.method for op in operations})
        super().__init__(path or operations[0].path, endpoint, methods=methods)
        self.operations = operations


def declared(
    endpoint: Callable[..., Any], *operations: Operation, path: str | None = None
) -> Route:
    """A route for `endpoint` serving the given operations (on their path unless `path`)."""
    return DeclaredRoute(endpoint, *operations, path=path)


def documents(route: BaseRoute, *operations: Operation) -> BaseRoute:
    """`route` (a Mount whose inner routes are wrapped, say) marked as serving the operations."""
    route.operations = operations  # type: ignore[attr-defined]
    return route


def _scalar(kind: mi.Type) -> mi.Type:
    """The type a text value converts to: the non-null member of an optional, unannotated."""
    if isinstance(kind, mi.Metadata):
        return _scalar(kind.type)
    if isinstance(kind, mi.UnionType):
        kinds = [k for k in kind.types if not isinstance(k, mi.NoneType)]
        return _scalar(kinds[0]) if len(kinds) == 1 else kind
    return kind


def _from_text(name: str, raw: object, kind: mi.Type) -> object:
    """A text value as the Python value its declared type expects (bounds come later)."""
    if not isinstance(raw, str):
        return raw
    kind = _scalar(kind)
    if isinstance(kind, mi.LiteralType) and all(isinstance(v, int) for v in kind.values):
        kind = mi.IntType()
    if isinstance(kind, mi.IntType):
        if not raw.isascii() or not _INTEGER.fullmatch(raw):
            raise BadRequest(f"{name} must be an integer of ASCII digits, got {raw[:40]!r}",
                             field=name)
        return int(raw)
    if isinstance(kind, mi.FloatType):
        if not raw.isascii() or not _DECIMAL.fullmatch(raw):
            raise BadRequest(f"{name} must be a decimal number, got {raw[:40]!r}", field=name)
        return float(raw)
    if isinstance(kind, mi.BoolType):
        if raw not in _BOOLEANS:
            raise BadRequest(f"{name} must be true or false", field=name)
        return _BOOLEANS[raw]
    return raw


def field_of(error: msgspec.ValidationError) -> str | None:
    """The field a msgspec validation message names, if any."""
    text = str(error)
    found = _FIELD_AT.search(text) or _FIELD_NAMED.search(text)
    return found.group(1) if found else None


def _refusal(error: msgspec.ValidationError, where: str) -> BadRequest:
    name = field_of(error)
    message = str(error).split(" - at ")[0]
    if name is None:
        return BadRequest(f"{where}: {message}")
    return BadRequest(f"{name}: {message}", field=name)


_PARAM_FIELDS: dict[type[Any], tuple[tuple[str, mi.Type], ...]] = {}


def _param_fields(model: type[Any]) -> tuple[tuple[str, mi.Type], ...]:
    """(wire name, type) of each field of a parameter model, inspected once per model:
    `msgspec.inspect.type_info` costs about as much as the rest of a hold request."""
    found = _PARAM_FIELDS.get(model)
    if found is None:
        info = mi.type_info(model)
        assert isinstance(info, mi.StructType)
        found = _PARAM_FIELDS[model] = tuple((f.encode_name, f.type) for f in info.fields)
    return found


def parse_params(model: type[T], raw: Mapping[str, Any], where: str = "parameter") -> T:
    """Path, query or header values (text) as a `model`, or a 400 naming the bad one."""
    values: dict[str, object] = {}
    for name, kind in _param_fields(model):
        if name in raw:
            values[name] = _from_text(name, raw[name], kind)
    try:
        return msgspec.convert(values, model, strict=True)
    except msgspec.ValidationError as exc:
        raise _refusal(exc, where) from None


def _integral(value: object) -> object:
    """JSON's integers as ints: `2.0` is the integer 2 to JSON Schema, and so to the models.

    Only within bigint range: a larger number fits no integer field, and is a float
    wherever any JSON is allowed (so later hashing or storing never meets a huge int).
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= BIGINT_MAX:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > BIGINT_MAX:
        try:
            return float(value)
        except OverflowError:
            raise BadRequest("a number in the body is beyond any float") from None
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


def decode_body(model: type[T], raw: bytes) -> T:
    """A JSON body as a `model`: malformed JSON or a bad value is a 400 naming the field."""
    try:
        return msgspec.convert(_integral(msgspec.json.decode(raw)), model, strict=True)
    except msgspec.ValidationError as exc:
        raise _refusal(exc, "body") from None
    except (msgspec.DecodeError, RecursionError):
        raise BadRequest("body is not valid JSON") from None
