"""Templates in actions: a sandboxed Jinja2 environment; arguments are data, never code.

Templates come from the config (trusted); the values put into them come from a call
(untrusted). The environment is immutable and sandboxed (no attribute tricks, no
mutation), undefined names are errors, and values are inserted as values: a value
that looks like ``{{ ... }}`` is printed as it is, never evaluated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from appliance.errors import ExecutorError, TemplateError

_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


@functools.lru_cache(maxsize=256)
def _compile(template: str) -> jinja2.Template:
    return _ENV.from_string(template)


def render(template: str, arguments: Mapping[str, Any], *, what: str,
           quote: Callable[[str, Any], Any] | None = None) -> str:
    """Render ``template`` with the call's arguments (each passed through ``quote(name, v)``).

    Any failure is a :class:`TemplateError` whose message starts with ``what`` (the tool
    and the field); an :class:`ExecutorError` raised by ``quote`` passes through as it is.
    """
    try:
        values = {k: quote(k, v) if quote else v for k, v in arguments.items()}
        return _compile(template).render(**values)
    except ExecutorError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{what}: bad template (line {exc.lineno}): {exc.message}") from None
    except jinja2.TemplateError as exc:  # undefined names, sandbox refusals
        raise TemplateError(f"{what}: template failed: {exc}") from None
    except Exception as exc:  # a filter or an operation on a value of the wrong type
        raise TemplateError(f"{what}: template failed: {type(exc).__name__}: {exc}") from None


def check(template: str, *, what: str) -> None:
    """Raise :class:`TemplateError` if ``template`` does not even parse."""
    try:
        _compile(template)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{what}: bad template (line {exc.lineno}): {exc.message}") from None
