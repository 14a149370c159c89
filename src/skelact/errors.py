"""One error family, so the CLI can print a single helpful line for anything the user got wrong."""

from __future__ import annotations

from os import PathLike


class SkelactError(Exception):
    """Base of every error skelact raises on purpose; `hint` says what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} (hint: {self.hint})" if self.hint else text


class FormatError(SkelactError):
    """Input data is malformed: names the file, the place in it, and what was expected."""

    def __init__(
        self,
        message: str,
        path: str | PathLike[str] | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.where = where
        prefix = ""
        if self.path:
            prefix = f"{self.path}"
            if where:
                prefix += f" ({where})"
            prefix += ": "
        elif where:
            prefix = f"{where}: "
        super().__init__(prefix + message, hint)


class LayoutError(SkelactError):
    """A skeleton layout is inconsistent, unknown, or does not match the data it is used with."""


class ConfigError(SkelactError):
    """A configuration value or key is invalid."""
