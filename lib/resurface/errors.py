"""Exceptions with messages meant for people: each names the parameter and the fix."""

from __future__ import annotations


class ResurfaceError(Exception):
    """Base class for errors that should be shown to the user without a traceback."""


class ParameterError(ResurfaceError, ValueError):
    """A parameter has an unknown name, a wrong type, or a value outside its range."""

    def __init__(self, name: str, problem: str, accepted: str | None = None):
        self.name = name
        msg = f"parameter '{name}': {problem}"
        if accepted:
            msg += f" (accepted: {accepted})"
        super().__init__(msg)


class HubUnavailableError(ResurfaceError):
    """A Hub model or dataset was asked for but cannot be reached."""


class DeviceError(ResurfaceError):
    """A device was asked for that this machine does not have."""


class ArtifactError(ResurfaceError):
    """An artifact on disk is incomplete, corrupt or inconsistent with its metadata."""
