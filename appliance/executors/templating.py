"""Templates in actions: a sandboxed Jinja2 environment; arguments are data, never code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from appliance.errors import TemplateError

_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def render(template: str, arguments: Mapping[str, Any], *, what: str,
           quote: Callable[[Any], Any] | None = None) -> str:
    """Render ``template`` with the call's arguments (each passed through ``quote``)."""
    values = {k: quote(v) if quote else v for k, v in arguments.items()}
    try:
        return _ENV.from_string(template).render(**values)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{what}: template failed: {exc}") from None
    except (TypeError, ValueError, KeyError, ZeroDivisionError) as exc:
        raise TemplateError(f"{what}: template failed: {exc}") from None


def check(template: str, *, what: str) -> None:
    """Raise :class:`TemplateError` if ``template`` does not even parse."""
    try:
        _ENV.parse(template)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{what}: bad template: {exc.message}") from None
