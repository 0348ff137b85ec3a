"""One exception hierarchy for the whole appliance.

Every error also inherits the builtin it most resembles, so callers that only
know Python's own exceptions still catch the right thing. Third-party errors
are converted at the edge with ``raise ... from``.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """Root of every error the appliance raises on purpose."""


# -- configuration and declarations ---------------------------------------------------


class ConfigError(ApplianceError, ValueError):
    """A configuration or tools file is wrong; the message names the file and key path."""

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None):
        self.source = source
        self.path = path
        where = ""
        if source and path:
            where = f"{source}: {path}: "
        elif source:
            where = f"{source}: "
        elif path:
            where = f"{path}: "
        super().__init__(f"{where}{message}")


class SchemaError(ConfigError):
    """A tool's JSON Schema uses a construct the tool caller cannot serve."""


# -- the language model ---------------------------------------------------------------


class ModelError(ApplianceError, RuntimeError):
    """The language model could not be loaded or run."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """A model file does not exist."""


class ChecksumError(ModelError):
    """A downloaded or assembled file does not have the pinned sha256."""


# -- calls and their arguments --------------------------------------------------------


class CallError(ApplianceError, ValueError):
    """A tool call is malformed, names an unknown tool, or has bad arguments."""


class CallSyntaxError(CallError):
    """Model output is not in FunctionGemma's call syntax."""


class UnknownToolError(CallError, LookupError):
    """A call names a tool that is not declared."""


class ArgumentError(CallError):
    """A call's arguments do not satisfy the tool's JSON Schema."""


# -- actions ---------------------------------------------------------------------------


class ExecutorError(ApplianceError, RuntimeError):
    """An action could not be carried out."""


class GpioError(ExecutorError):
    """A GPIO action failed (pin invalid, in use, or the device refused)."""


class MqttError(ExecutorError):
    """An MQTT action or connection failed."""


class HttpError(ExecutorError):
    """An HTTP action failed or was refused by the allow-list."""


class TemplateError(ExecutorError):
    """A template in an action could not be rendered."""


# -- speech ----------------------------------------------------------------------------


class AudioError(ApplianceError, OSError):
    """The audio device or a WAV file could not be used."""


class SpeechError(ApplianceError, RuntimeError):
    """The speech-to-text engine could not be loaded or run."""


# -- daemon ----------------------------------------------------------------------------


class JournalError(ApplianceError, OSError):
    """The command journal could not be written or read."""
