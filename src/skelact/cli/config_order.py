"""The config-order guard: a config composed after the data config may not lower what the data holds unseen.

Configs compose left to right and a later file wins. A recipe composed after the data config that set
`data.max_persons: 1` silently trained a two-person dataset on one person (issue 19). Two things prevent
that now:

- recipes describe training, not the data: none sets `data.max_persons` or `data.with_score`
  (`tests/configs/test_recipes.py` checks every file under configs/recipes), so the README's order is safe;
- any other config that does, and so keeps fewer persons than the store holds or drops the store's scores,
  gets one warning naming the file, its value and the store's. A value from a data config (a file that names
  `data.store`: it is about this dataset) or from the command line is the user's declared choice and passes.
"""

from __future__ import annotations

import os
from typing import Any

from skelact.cli.config_files import load_yaml

COMMAND_LINE = "the command line"


def setting_source(args: list[str], key: str) -> tuple[str, bool] | None:
    """Who sets `data.<key>` last: (a config file, whether it names the store) or (COMMAND_LINE, True);
    None when nothing does (the datamodule's default)."""
    source: tuple[str, bool] | None = None
    for i, arg in enumerate(args):
        name, _, inline = arg.partition("=")
        if name == "--config":
            path = inline if inline else (args[i + 1] if i + 1 < len(args) else "")
            content = load_yaml(path) if os.path.isfile(path) else None
            data = content.get("data") if isinstance(content, dict) else None
            if isinstance(data, dict) and key in data:
                source = (path, "store" in data)
        elif name in (f"--data.{key}", "--data"):
            source = (COMMAND_LINE, True)
    return source


def lowered_data_warnings(args: list[str], datamodule: Any) -> list[str]:
    """One line per data fact that a config other than the data config lowered below the store's."""
    store = getattr(datamodule, "store", None)
    spec = getattr(datamodule, "spec", None)
    if store is None or spec is None:
        return []
    lines = []
    source = setting_source(args, "max_persons")
    if source is not None and not source[1] and spec.max_persons < store.max_persons:
        more = int((store.num_persons > spec.max_persons).sum())
        lines.append(
            f"{source[0]} sets data.max_persons {spec.max_persons}, below the {store.max_persons} persons of "
            f"the store {store.path} ({more} of {len(store)} samples have more): their other persons are "
            "dropped. Set data.max_persons in the data config or on the command line to keep this choice"
        )
    source = setting_source(args, "with_score")
    if source is not None and not source[1] and store.has_score and not spec.with_score:
        lines.append(
            f"{source[0]} sets data.with_score false, but the store {store.path} has keypoint scores: the "
            "score channel is dropped. Set data.with_score in the data config or on the command line to keep "
            "this choice"
        )
    return lines
