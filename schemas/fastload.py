"""A schema's load for input that is already in its plain form, without marshmallow's machinery.

`compile_loader(schema)` builds, from the schema's declared fields, a function that gives
exactly what `schema.load` gives for input it can vouch for, and raises `Decline` for anything
else: a missing or unknown key, a value of an unexpected type or outside a validator's bounds,
a field or hook it does not know. The caller then loads that item with the schema itself, which
says what is wrong in its own words. So an item is either loaded as the schema loads it, or
handed to the schema: the fast path never accepts what the schema refuses, nor words an error.

What it knows: strings (free text too, cleaned as `FreeText` cleans it), integers, lists of
strings, ISO dates (within a Range), nested schemas (also one that
declares a `shorthand`: a plain string standing for the object of that one field), and the
validators Length, OneOf and Range; any other field is deserialized by the field itself, any
other validator called as the schema would call it. A schema with pre/post-load hooks, field
validators (`@validates`), renamed keys or load defaults is not compiled (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing

from schemas.common import FreeText

Check = Callable[[Any], Any]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class Decline(Exception):
    """The fast path cannot vouch for this item: load it with the schema.

    Raised as the class, so each decline is a new instance that goes with its traceback once
    caught (one shared instance would chain every raise's frames onto its traceback).
    """


def compile_loader(schema: Schema) -> Callable[[Any], dict[str, Any]] | None:
    """A loader equal to `schema.load` on the input it accepts (see the module), or None."""
    if schema.unknown != RAISE or schema.many or schema.partial:
        return None
    hooks = type(schema).resolve_hooks()  # the schema's pre/post-load hooks and validators
    if hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES]:
        return None
    validators: list[Callable[..., Any]] = []
    for attr_name, hook_many, kwargs in hooks[VALIDATES_SCHEMA]:
        if hook_many or kwargs.get("pass_original"):
            return None
        validators.append(getattr(schema, attr_name))
    plan: list[tuple[str, bool, Check]] = []
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            return None
        if field.load_default is not missing:
            return None
        check = _field_check(field, name)
        if check is None:
            return None
        plan.append((name, field.required, check))

    def load(item: Any) -> dict[str, Any]:
        if type(item) is not dict:
            raise Decline
        out: dict[str, Any] = {}
        for name, required, check in plan:
            value = item.get(name, missing)
            if value is missing:
                if required:
                    raise Decline
                continue
            out[name] = check(value)
        if len(out) != len(item):  # a key the schema does not know
            raise Decline
        for validator in validators:
            try:
                validator(out, partial=None, many=False, unknown=RAISE)
            except ValidationError:
                raise Decline from None
        return out

    return load


def _field_check(field: fields.Field, name: str) -> Check | None:
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        return None
    kind = type(field)
    bounds = _bounds(field.validators)
    check: Check | None
    if kind is fields.String:
        check = _string(bounds)
    elif kind is FreeText:
        check = _string(bounds, FreeText.clean)
    elif isinstance(field, fields.Integer) and kind is fields.Integer and not field.strict:
        check = _integer(bounds)
    elif isinstance(field, fields.List) and kind is fields.List:
        inner = field.inner
        plain = type(inner) is fields.String and not inner.allow_none
        check = _string_list(bounds, _string(_bounds(inner.validators))) if plain else None
    elif (
        isinstance(field, fields.Date)
        and kind._deserialize is fields.Date._deserialize
        and field.format in (None, "iso", "iso8601")
    ):
        check = _date(field, name)
    elif isinstance(field, fields.Nested) and (kind is fields.Nested or _shorthand(field)):
        plain = field.unknown is None and not field.many
        nested = compile_loader(field.schema) if plain else None
        shorthand = _shorthand(field)
        check = _nested(nested, shorthand) if nested is not None and not field.validators else None
    else:
        check = None
    if check is None:  # let the field do it, as the schema would
        check = _generic(field, name)
    if field.allow_none:
        return _or_none(check)
    return check


# Bounds: (min length, max length, choices) with the validators the check leaves to others.
Bounds = tuple[tuple[int | None, int | None, Any], list[Callable[[Any], Any]]]


def _bounds(validators: list[Callable[[Any], Any]]) -> Bounds | None:
    low = high = None
    choices: Any = None
    rest: list[Callable[[Any], Any]] = []
    for v in validators:
        if type(v) is validate.Length and v.equal is None and low is None and high is None:
            low, high = v.min, v.max
        elif type(v) is validate.OneOf and choices is None:
            choices = frozenset(v.choices)
        elif type(v) is validate.Range:
            rest.append(v)
        else:
            return None
    return (low, high, choices), rest


def _run(rest: list[Callable[[Any], Any]], value: Any) -> None:
    for v in rest:
        try:
            v(value)
        except ValidationError:
            raise Decline from None


def _sized(length: int, low: int | None, high: int | None) -> bool:
    """Whether a length is within a Length validator's bounds."""
    return (low is None or length >= low) and (high is None or length <= high)


def _string(bounds: Bounds | None, clean: Callable[[str], str] | None = None) -> Check | None:
    if bounds is None or bounds[1]:
        return None
    (low, high, choices), _ = bounds

    def check(value: Any) -> Any:
        if type(value) is not str or not _sized(len(value), low, high):
            raise Decline
        if choices is not None and value not in choices:
            raise Decline
        return value if clean is None else clean(value)

    return check


def _integer(bounds: Bounds | None) -> Check | None:
    if bounds is None or bounds[0] != (None, None, None):
        return None
    rest = bounds[1]

    def check(value: Any) -> Any:
        if type(value) is not int:
            raise Decline
        _run(rest, value)
        return value

    return check


def _string_list(bounds: Bounds | None, inner: Check | None) -> Check | None:
    if bounds is None or bounds[1] or bounds[0][2] is not None or inner is None:
        return None
    low, high, _ = bounds[0]

    def check(value: Any) -> Any:
        if type(value) is not list or not _sized(len(value), low, high):
            raise Decline
        return [inner(v) for v in value]

    return check


def _date(field: fields.Field, name: str) -> Check:
    bounds = _bounds(field.validators)  # Range validators only (bounds of days)
    if bounds is None or bounds[0] != (None, None, None):
        return _generic(field, name)
    rest = bounds[1]

    def check(value: Any) -> Any:
        if type(value) is not str or not _ISO_DATE.match(value):
            raise Decline
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise Decline from None
        _run(rest, day)
        return day

    return check


def _shorthand(field: fields.Nested) -> str | None:
    """The key a plain string stands for, on a nested field that declares one (`shorthand`:
    it loads a string `s` as the object `{shorthand: s}`)."""
    key = getattr(type(field), "shorthand", None)
    return key if isinstance(key, str) else None


def _nested(load: Callable[[Any], dict[str, Any]], shorthand: str | None = None) -> Check:
    if shorthand is None:
        return load

    def check(value: Any) -> Any:
        return load({shorthand: value} if type(value) is str else value)

    return check


def _generic(field: fields.Field, name: str) -> Check:
    def check(value: Any) -> Any:
        if value is None:
            raise Decline
        try:
            return field.deserialize(value, name, None)
        except ValidationError:
            raise Decline from None

    return check


def _or_none(check: Check) -> Check:
    def maybe(value: Any) -> Any:
        return None if value is None else check(value)

    return maybe
