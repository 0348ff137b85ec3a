"""What a command would otherwise find out, checked when the config loads.

Each tool's action block against its tool (``pin_by`` and ``pins``), its templates' names
against the tool's parameters, every pin (Broadcom numbers, so that 17 and ``BOARD11`` are
one pin, and no pin used twice across tools, rooms, the button and the LED), the HTTP
hosts a fixed URL names, and the MQTT topic prefix. Every error names the file and key.
"""

from __future__ import annotations

from appliance.errors import ConfigError
from appliance.executors.gpio import GpioAction
from appliance.executors.http import HttpAction, parse_allowed
from appliance.executors.pins import bcm
from appliance.executors.templating import SAY_NAMES, names_in
from appliance.settings import Config
from appliance.tools import Action, Tool


def at(exc: ConfigError, source: str, prefix: str) -> ConfigError:
    """The same error, its key path under ``prefix``."""
    message = str(exc).removeprefix(f"{exc.path}: ") if exc.path else str(exc)
    return ConfigError(message, source=source,
                       path=f"{prefix}.{exc.path}" if exc.path else prefix)


def check_config(config: Config) -> None:
    """What a command would otherwise find out: names, pins, hosts, topics."""
    source = config.source
    try:
        allowed = parse_allowed(config.http.allowed_hosts)
    except ConfigError as exc:
        raise ConfigError(str(exc), source=source) from None
    claims: dict[int, str] = {}
    for i, tool in enumerate(config.tools):
        action = tool.action
        if action is None:
            continue
        where = f"tools[{i}].action"
        try:
            action.check(tool)
        except ConfigError as exc:
            raise at(exc, source, where) from None
        _check_names(tool, action, source=source, path=where)
        if isinstance(action, GpioAction):
            for pin, key in action.claims():
                _claim(claims, pin, f"{where}.{key} ({tool.name})", source=source)
        if isinstance(action, HttpAction):
            host = action.fixed_host()
            if host is not None and not _host_allowed(host, action.url, allowed):
                raise ConfigError(f"host {host!r} is not in http.allowed_hosts", source=source,
                                  path=f"{where}.url")
    for key, spec in (("button_pin", config.speech.button_pin),
                      ("led_pin", config.speech.led_pin)):
        if spec is not None:
            try:
                pin = bcm(spec)
            except ConfigError as exc:
                raise ConfigError(str(exc), source=source, path=f"speech.{key}") from None
            _claim(claims, pin, f"speech.{key}", source=source)
    _check_prefix(config)
    model = config.model
    if 0 < model.ask_below <= model.min_confidence:
        raise ConfigError(f"ask_below {model.ask_below:g} is not above min_confidence "
                          f"{model.min_confidence:g}: no call would ever be asked back "
                          f"(set it above min_confidence, or 0 to ask nothing back; the "
                          f"defaults are 0.7 and 0.5)",
                          source=source, path="model.ask_below")


def _check_names(tool: Tool, action: Action, *, source: str, path: str) -> None:
    templates = {f"{path}.{key}": (template, set(tool.properties))
                 for key, template in action.templates().items()}
    if tool.say is not None:
        index = path.removesuffix(".action")
        templates[f"{index}.say"] = (tool.say, {*tool.properties, *SAY_NAMES})
    for where, (template, known) in templates.items():
        try:
            unknown = sorted(names_in(template, key=where) - known)
        except ConfigError as exc:
            raise ConfigError(str(exc).removeprefix(f"{where}: "), source=source,
                              path=where) from None
        if unknown:
            raise ConfigError(f"the template uses {', '.join(unknown)}, not a parameter of "
                              f"{tool.name}", source=source, path=where)


def _claim(claims: dict[int, str], pin: int, who: str, *, source: str) -> None:
    if pin in claims:
        raise ConfigError(f"GPIO{pin} is already used by {claims[pin]}", source=source,
                          path=who.split(" (", maxsplit=1)[0])
    claims[pin] = who


def _host_allowed(host: str, url: str, allowed: set[tuple[str, int | None]]) -> bool:
    try:
        parsed = parse_allowed([host]).pop()
    except ConfigError:
        return False
    default = 443 if url.lower().startswith("https") else 80
    name, port = parsed
    return (name, port or default) in allowed or ((port in (None, default))
                                                  and (name, None) in allowed)


def _check_prefix(config: Config) -> None:
    raw = config.mqtt.prefix
    try:
        prefix = raw.format(device_id=config.device.id)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{raw!r} is not a valid prefix ({{device_id}} is the only name it "
                          f"may use): {exc}", source=config.source, path="mqtt.prefix") from None
    if any(c in prefix for c in "+#\0") or not prefix.endswith("/") or "//" in prefix:
        raise ConfigError(f"{prefix!r} must be topic levels ending in '/', without + # or //",
                          source=config.source, path="mqtt.prefix")
