"""What a validation carve produced, and whether it can select a model: the lines `skelact prepare` prints.

Whole subjects go to validation, so with few subjects "10 %" can become 20 % of the training clips and leave
some classes without any validation clip; and a validation split of a few dozen clips ranks epochs mostly by
noise. Both used to pass silently. The report is kept in the store's provenance too (`skelact info`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Below this many validation clips, best-on-validation selection is dominated by noise: one clip moves
#: top-1 by over 3 points, more than the epoch-to-epoch differences it is meant to rank.
TINY_VALIDATION = 30


def describe_carve(
    train: np.ndarray,
    val: np.ndarray,
    *,
    labels: np.ndarray,
    groups: np.ndarray | None,
    by: str,
) -> dict[str, Any]:
    """Counts of a (train, val) pair of store indices, as plain JSON values for the provenance.

    `classes_without_val` lists the classes that have training clips but no validation clip.
    """
    train, val = np.asarray(train, dtype=np.int64), np.asarray(val, dtype=np.int64)
    labels = np.asarray(labels)
    both = np.concatenate([train, val])
    missing = np.setdiff1d(np.unique(labels[both]), np.unique(labels[val]))
    report: dict[str, Any] = {
        "by": by,
        "train": int(train.size),
        "val": int(val.size),
        "classes": int(np.unique(labels[both]).size),
        "classes_without_val": [int(c) for c in missing],
    }
    if groups is not None:
        groups = np.asarray(groups)
        report["groups"] = int(np.unique(groups[both]).size)
        report["val_groups"] = int(np.unique(groups[val]).size)
    return report


def carve_lines(split: str, val_split: str, report: dict[str, Any], class_names: Sequence[str]) -> list[str]:
    """One line saying what the carve made, then one ``warning:`` line per problem."""
    total = report["train"] + report["val"]
    share = report["val"] / total if total else 0.0
    how = {"source": "given by the source", "class": "stratified by class"}.get(
        report["by"], f"by {report['by']}"
    )
    text = f"validation {val_split!r} from {split!r} ({how}): {report['val']} of {total} clips ({share:.0%})"
    if "groups" in report:
        text += f", {report['val_groups']} of {report['groups']} {report['by']}s"
    lines = [text]
    if report["val"] < TINY_VALIDATION:
        lines.append(
            f"warning: {val_split!r} holds only {report['val']} clips (< {TINY_VALIDATION}): choosing the "
            "best epoch on it is mostly noise; train on the full training split and test the last epoch "
            "instead (docs/custom-data.md, 'Small validation splits')"
        )
    missing = report["classes_without_val"]
    if missing:
        names = ", ".join(str(class_names[c]) if c < len(class_names) else str(c) for c in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        hint = {
            "source": "",
            "class": "; stratified, a class gives round(fraction x its clips), so it needs at least "
            "1 / (2 x fraction) of them",
        }.get(report["by"], "; carve stratified by class instead with --val-by class")
        lines.append(
            f"warning: {len(missing)} of {report['classes']} classes have no clip in {val_split!r} "
            f"({names}{more}): validation accuracy ignores them{hint}"
        )
    return lines
