"""Templates in actions: a sandboxed Jinja2 environment; arguments are data, never code.

Templates come from the config (trusted); the values put into them come from a call
(untrusted). The environment is immutable and sandboxed (no attribute tricks, no
mutation), undefined names are errors, and values are inserted as values: a value
that looks like ``{{ ... }}`` is printed as it is, never evaluated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from appliance.errors import ConfigError, ExecutorError, TemplateError

SAY_NAMES = ("value", "done")
"""What a tool's ``say:`` template may use besides the call's arguments."""

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
        # Only what the template puts in is quoted: a timer's label "c/o pasta" is refused
        # from a topic, not from the payload beside it.
        used = _names(template) if quote else frozenset()
        values = {k: quote(k, v) if quote and k in used else v for k, v in arguments.items()}
        return _compile(template).render(**values)
    except ExecutorError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{what}: bad template (line {exc.lineno}): {exc.message}") from None
    except jinja2.TemplateError as exc:  # undefined names, sandbox refusals
        raise TemplateError(f"{what}: template failed: {exc}") from None
    except Exception as exc:  # a filter or an operation on a value of the wrong type
        raise TemplateError(f"{what}: template failed: {type(exc).__name__}: {exc}") from None


def names_in(template: str, *, key: str = "") -> set[str]:
    """The names ``template`` reads; :class:`ConfigError` at ``key`` if it does not parse."""
    try:
        return set(_names(template))
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"bad template (line {exc.lineno}): {exc.message}",
                          path=key or None) from None


@functools.lru_cache(maxsize=256)
def _names(template: str) -> frozenset[str]:
    return frozenset(jinja2.meta.find_undeclared_variables(_ENV.parse(template))) - set(
        _ENV.globals)


def check_templates(block: Mapping[str, Any], keys: Iterable[str]) -> None:
    """:class:`ConfigError` naming the key of the first template in ``block`` that does not
    parse."""
    for key in keys:
        template = block.get(key)
        if not isinstance(template, str):
            continue
        try:
            _compile(template)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"bad template (line {exc.lineno}): {exc.message}",
                              path=key) from None
