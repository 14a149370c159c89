"""Result tables of the evaluation protocols (k-NN, semi-supervised repeats, ...): JSON for tools, Markdown
for people, both written atomically into the run directory."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skelact.atomic import atomic_write


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub Markdown table of `rows` restricted to `columns`, floats with four decimals."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_protocol_table(
    out_dir: str | Path,
    name: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str,
    facts: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write `<out_dir>/<name>.json` (facts + rows) and `<name>.md` (title, facts, table); return both."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{name}.json", out / f"{name}.md"
    with atomic_write(json_path, "w") as handle:
        json.dump({"protocol": name, **(facts or {}), "rows": list(rows)}, handle, indent=2, sort_keys=True)
        handle.write("\n")
    text = f"# {title}\n\n"
    text += "".join(f"- {key}: {value}\n" for key, value in (facts or {}).items())
    text += "\n" + markdown_table(rows, columns)
    with atomic_write(md_path, "w") as handle:
        handle.write(text)
    return json_path, md_path
