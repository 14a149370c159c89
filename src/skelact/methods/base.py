"""What every skelact method shares: the data facts it is built from and the pipeline record it saves.

A method does not have to derive from `SkelactMethod` (any registered LightningModule trains), but deriving
gives it the two things the rest of skelact relies on: `linked_from_data`, which `skelact fit` uses to fill
the method's arguments from the store so configs never restate them, and the pipeline record written into
every checkpoint, which `Predictor`, export and `skelact test` read.
"""

from __future__ import annotations

from typing import Any, ClassVar

import lightning as L

from skelact.inference.pipeline import CHECKPOINT_KEY, PipelineRecord


class SkelactMethod(L.LightningModule):
    """Base of skelact's LightningModules."""

    method_name: ClassVar[str] = "unregistered"  # set by `register_method`
    # method argument -> datamodule attribute, linked by the CLI and by `for_data`.
    linked_from_data: ClassVar[dict[str, str]] = {}

    @classmethod
    def for_data(cls, datamodule: Any, **kwargs: Any) -> SkelactMethod:
        """The method for `datamodule`'s store, its facts linked as `skelact fit` links them."""
        facts = {arg: getattr(datamodule, attribute) for arg, attribute in cls.linked_from_data.items()}
        return cls(**facts, **kwargs)

    def pipeline_record(self) -> PipelineRecord | None:
        """The record saved in checkpoints; None when the method has no input pipeline to record."""
        return None

    def datamodule_facts(self) -> dict[str, Any]:
        """Clip settings, preset and store of the attached datamodule for `PipelineRecord`; {} without one."""
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        facts = getattr(datamodule, "pipeline_facts", None)
        return facts() if facts is not None else {}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        record = self.pipeline_record()
        if record is not None:
            checkpoint[CHECKPOINT_KEY] = record.to_dict()
