"""Typed parameters of criteria: each validates a raw JSON value into a clean, JSON-safe one,
describes itself for the filter builder, and displays a value in words.

Choices that depend on who builds the segment (tags, campaigns, custom fields…) are computed
from the build context, so validation refuses an id the user may not use with the same message
as an id that does not exist: nothing about other campaigns leaks through an error.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.segments.errors import ParamError

if TYPE_CHECKING:
    from crm.segments.registry import BuildContext

ChoiceList = Sequence[tuple[Any, Any]]
ChoiceSource = ChoiceList | Callable[["BuildContext"], ChoiceList]

MISSING: Any = None


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class Param:
    kind = "text"

    def __init__(
        self,
        name: str,
        label: Any,
        *,
        required: bool = True,
        default: Any = None,
        help_text: Any = "",
    ) -> None:
        self.name = name
        self.label = label
        self.required = required
        self.default = default
        self.help_text = help_text

    def clean(self, value: Any, ctx: BuildContext) -> Any:
        """The clean value, or None when absent and optional. Raises ParamError."""
        if _is_empty(value):
            if self.default is not None:
                return self.default
            if self.required:
                raise ParamError(_("This parameter is required."))
            return None
        return self.clean_value(value, ctx)

    def clean_value(self, value: Any, ctx: BuildContext) -> Any:
        raise NotImplementedError

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "label": str(self.label),
            "required": self.required,
        }
        if self.default is not None:
            spec["default"] = self.default
        if self.help_text:
            spec["help"] = str(self.help_text)
        return spec

    def display(self, value: Any, ctx: BuildContext) -> str:
        return str(value)


class Choice(Param):
    kind = "choice"

    def __init__(self, name: str, label: Any, choices: ChoiceSource, **kwargs: Any) -> None:
        super().__init__(name, label, **kwargs)
        self._choices = choices

    def choices(self, ctx: BuildContext) -> ChoiceList:
        source = self._choices
        return source(ctx) if callable(source) else source

    def _lookup(self, ctx: BuildContext) -> dict[str, Any]:
        cache = ctx.cache.setdefault(("choices", id(self)), {})
        if not cache:
            cache.update({str(value): value for value, _label in self.choices(ctx)})
        return cache

    def _one(self, value: Any, ctx: BuildContext) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ParamError(_("Choose one of the options."))
        found = self._lookup(ctx)
        key = str(value)
        if key not in found:
            raise ParamError(_("“%(value)s” is not one of the options.") % {"value": value})
        return found[key]

    def clean_value(self, value: Any, ctx: BuildContext) -> Any:
        return self._one(value, ctx)

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        spec = super().describe(ctx)
        spec["choices"] = [[value, str(label)] for value, label in self.choices(ctx)]
        return spec

    def label_of(self, value: Any, ctx: BuildContext) -> str:
        labels = ctx.cache.setdefault(("labels", id(self)), {})
        if not labels:
            labels.update({str(v): str(label) for v, label in self.choices(ctx)})
        return labels.get(str(value), str(value))

    def display(self, value: Any, ctx: BuildContext) -> str:
        return self.label_of(value, ctx)


class MultiChoice(Choice):
    kind = "multichoice"

    def __init__(self, *args: Any, max_items: int = 500, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_items = max_items

    def clean_value(self, value: Any, ctx: BuildContext) -> list[Any]:
        if not isinstance(value, list):
            value = [value]
        if len(value) > self.max_items:
            raise ParamError(
                _("Choose at most %(n)s options.") % {"n": self.max_items},
            )
        cleaned: list[Any] = []
        for item in value:
            one = self._one(item, ctx)
            if one not in cleaned:
                cleaned.append(one)
        return cleaned

    def display(self, value: Any, ctx: BuildContext) -> str:
        return ", ".join(self.label_of(v, ctx) for v in value)


class Boolean(Param):
    kind = "boolean"

    def clean_value(self, value: Any, ctx: BuildContext) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "1", 1, "yes", "on"):
            return True
        if value in ("false", "0", 0, "no", "off"):
            return False
        raise ParamError(_("Answer yes or no."))

    def display(self, value: Any, ctx: BuildContext) -> str:
        return _("yes") if value else _("no")


class Integer(Param):
    kind = "integer"

    def __init__(
        self, name: str, label: Any, *, min_value: int = 0, max_value: int = 10**9, **kw: Any
    ) -> None:
        super().__init__(name, label, **kw)
        self.min_value = min_value
        self.max_value = max_value

    def clean_value(self, value: Any, ctx: BuildContext) -> int:
        if isinstance(value, bool):
            raise ParamError(_("Enter a whole number."))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise ParamError(_("Enter a whole number."))
        if not self.min_value <= value <= self.max_value:
            raise ParamError(
                _("Enter a number between %(min)s and %(max)s.")
                % {"min": self.min_value, "max": self.max_value}
            )
        return value

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        return {**super().describe(ctx), "min": self.min_value, "max": self.max_value}


class DecimalAmount(Param):
    """A sum of money or a decimal figure, stored as a string ("25.50") to stay exact."""

    kind = "decimal"

    def __init__(
        self,
        name: str,
        label: Any,
        *,
        min_value: Decimal = Decimal(0),
        max_value: Decimal = Decimal(10**9),
        **kw: Any,
    ) -> None:
        super().__init__(name, label, **kw)
        self.min_value = min_value
        self.max_value = max_value

    def clean_value(self, value: Any, ctx: BuildContext) -> str:
        if isinstance(value, bool):
            raise ParamError(_("Enter a number."))
        try:
            number = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
        except InvalidOperation as error:
            raise ParamError(_("Enter a number.")) from error
        if not number.is_finite() or not self.min_value <= number <= self.max_value:
            raise ParamError(
                _("Enter a number between %(min)s and %(max)s.")
                % {"min": self.min_value, "max": self.max_value}
            )
        return str(number.normalize()) if number == number.to_integral() else str(number)

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        spec = super().describe(ctx)
        return {**spec, "min": str(self.min_value), "max": str(self.max_value)}


class DateParam(Param):
    kind = "date"

    def clean_value(self, value: Any, ctx: BuildContext) -> str:
        if isinstance(value, str):
            text = value.strip()
            for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
                try:
                    return dt.datetime.strptime(text, pattern).date().isoformat()
                except ValueError:
                    continue
        raise ParamError(_("Enter a date as YYYY-MM-DD or DD/MM/YYYY."))

    def display(self, value: Any, ctx: BuildContext) -> str:
        return date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")


class Text(Param):
    kind = "text"

    def __init__(self, name: str, label: Any, *, max_length: int = 200, **kw: Any) -> None:
        super().__init__(name, label, **kw)
        self.max_length = max_length

    def clean_value(self, value: Any, ctx: BuildContext) -> str:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ParamError(_("Enter some text."))
        text = str(value).strip()
        if len(text) > self.max_length:
            raise ParamError(
                _("Enter at most %(n)s characters.") % {"n": self.max_length},
            )
        if not text:
            raise ParamError(_("This parameter is required."))
        return text


class Codes(Param):
    """A list of codes (INSEE communes, IRIS, constituencies…), typed or pasted, separated by
    commas, spaces or new lines; each is normalised then checked against a pattern."""

    kind = "codes"

    def __init__(
        self,
        name: str,
        label: Any,
        *,
        pattern: re.Pattern[str],
        example: str,
        normalise: Callable[[str], str] = lambda code: code.strip().upper(),
        suggestions: Callable[[BuildContext], ChoiceList] | None = None,
        max_items: int = 2000,
        **kw: Any,
    ) -> None:
        super().__init__(name, label, **kw)
        self.pattern = pattern
        self.example = example
        self.normalise = normalise
        self.suggestions = suggestions
        self.max_items = max_items

    def clean_value(self, value: Any, ctx: BuildContext) -> list[str]:
        items = value if isinstance(value, list) else re.split(r"[\s,;]+", str(value))
        codes: list[str] = []
        bad: list[str] = []
        for item in items:
            if not isinstance(item, str | int) or isinstance(item, bool):
                raise ParamError(_("Enter codes as text."))
            raw = str(item)
            if not raw.strip():
                continue
            code = self.normalise(raw)
            if not self.pattern.fullmatch(code):
                bad.append(raw.strip())
            elif code not in codes:
                codes.append(code)
        if bad:
            raise ParamError(
                _("Not valid codes: %(codes)s (expected e.g. %(example)s).")
                % {"codes": ", ".join(bad[:10]), "example": self.example}
            )
        if not codes:
            raise ParamError(_("This parameter is required."))
        if len(codes) > self.max_items:
            raise ParamError(_("Enter at most %(n)s codes.") % {"n": self.max_items})
        return codes

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        spec = {**super().describe(ctx), "placeholder": self.example}
        if self.suggestions is not None:
            spec["suggestions"] = [[v, str(label)] for v, label in self.suggestions(ctx)]
        return spec

    def display(self, value: Any, ctx: BuildContext) -> str:
        shown = ", ".join(value[:12])
        return shown + (" …" if len(value) > 12 else "")


def _coordinate(value: Any, low: float, high: float, what: str) -> float:
    try:
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else value
    except ValueError as error:
        raise ParamError(_("Enter the %(what)s as a number.") % {"what": what}) from error
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise ParamError(_("Enter the %(what)s as a number.") % {"what": what})
    if not low <= number <= high:
        raise ParamError(
            _("The %(what)s must be between %(low)s and %(high)s.")
            % {"what": what, "low": low, "high": high}
        )
    return float(number)


def clean_point(value: Any) -> dict[str, float]:
    if isinstance(value, list | tuple) and len(value) == 2:
        value = {"lat": value[0], "lon": value[1]}
    if not isinstance(value, dict) or set(value) != {"lat", "lon"}:
        raise ParamError(_("Give a point as latitude and longitude."))
    return {
        "lat": _coordinate(value["lat"], -90, 90, _("latitude")),
        "lon": _coordinate(value["lon"], -180, 180, _("longitude")),
    }


class Point(Param):
    """A point in WGS84 degrees: {"lat": 47.58, "lon": 1.33}."""

    kind = "point"

    def clean_value(self, value: Any, ctx: BuildContext) -> dict[str, float]:
        return clean_point(value)

    def display(self, value: Any, ctx: BuildContext) -> str:
        return f"{value['lat']:.5f}, {value['lon']:.5f}"


class Polygon(Param):
    """A drawn area: a list of at least 3 points ({"lat", "lon"}), closed implicitly."""

    kind = "polygon"
    MAX_POINTS = 500

    def clean_value(self, value: Any, ctx: BuildContext) -> list[dict[str, float]]:
        if not isinstance(value, list):
            raise ParamError(_("Give the area as a list of points."))
        points = [clean_point(p) for p in value]
        if len(points) > 1 and points[0] == points[-1]:
            points.pop()  # closed rings repeat their first point
        if len(points) < 3:
            raise ParamError(_("An area needs at least 3 points."))
        if len(points) > self.MAX_POINTS:
            raise ParamError(_("An area may have at most %(n)s points.") % {"n": self.MAX_POINTS})
        return points

    def display(self, value: Any, ctx: BuildContext) -> str:
        return _("area of %(n)s points") % {"n": len(value)}
