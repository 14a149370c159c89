"""Reading a command line's config files and options before LightningCLI parses it: the parser's method
class, the run directory, the checkpoint to follow and the config-order guard depend on them."""

from __future__ import annotations

import os
from typing import Any

import yaml


def command_line_value(args: list[str], option: str) -> str | None:
    """The value of `option` given on the command line (the last one wins, as in LightningCLI)."""
    found = None
    for i, arg in enumerate(args):
        if arg.startswith(f"{option}="):
            found = arg.split("=", 1)[1]
        elif arg == option and i + 1 < len(args):
            found = args[i + 1]
    return found


def config_file_value(args: list[str], *keys: str) -> Any:
    """The value at `keys` in the last `--config` file of `args` that sets it, or None."""
    found = None
    for path in config_files(args):
        value: Any = load_yaml(path)
        for name in keys:
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None:
            found = value
    return found


def config_files(args: list[str]) -> list[str]:
    """The `--config` files of a command line, in order."""
    files = []
    for i, arg in enumerate(args):
        key, _, inline = arg.partition("=")
        path = inline if inline else (args[i + 1] if i + 1 < len(args) else None)
        if key == "--config" and path and os.path.isfile(path):
            files.append(path)
    return files


def load_yaml(path: str) -> Any:
    """A config file's content; None when it does not read (LightningCLI reports that itself)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return None
