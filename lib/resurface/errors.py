"""Exceptions with messages meant for people: each names the parameter and the fix."""

from __future__ import annotations


class ResurfaceError(Exception):
    """Base class for errors that should be shown to the user without a traceback."""


class ParameterError(ResurfaceError, ValueError):
    """A parameter has an unknown name, a wrong type, or a value outside its range."""

    def __init__(self, name: str, problem: str, accepted: str | None = None):
        self.name, self.problem, self.accepted = name, problem, accepted
        msg = f"parameter '{name}': {problem}"
        if accepted:
            msg += f" (accepted: {accepted})"
        super().__init__(msg)

    def renamed(self, name: str) -> "ParameterError":
        """The same error for another parameter name (e.g. a function's ``model`` is the CLI's ``student``)."""
        return ParameterError(name, self.problem, self.accepted)


def check_int(name: str, value: object, least: int, accepted: str | None = None) -> int:
    """``value`` when it is an integer (never a bool) of at least ``least``; else a ParameterError naming
    ``name`` and what it accepts (``accepted``, default "an integer >= least")."""
    accepted = accepted or f"an integer >= {least}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(name, f"expected an integer, got {type(value).__name__} {value!r}", accepted)
    if value < least:
        raise ParameterError(name, f"invalid value {value!r}", accepted)
    return value


class HubUnavailableError(ResurfaceError):
    """A Hub model or dataset was asked for but cannot be reached."""


class DeviceError(ResurfaceError):
    """A device was asked for that this machine does not have."""


class ArtifactError(ResurfaceError):
    """An artifact on disk is incomplete, corrupt or inconsistent with its metadata."""


class DiskSpaceError(ResurfaceError):
    """The disk that a stage writes to has less free space than the stage is estimated to need."""
