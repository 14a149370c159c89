"""What every skelact method shares: the data facts it is built from and the pipeline record it saves.

A method does not have to derive from `SkelactMethod` (any registered LightningModule trains), but deriving
gives it the two things the rest of skelact relies on: `linked_from_data`, which `skelact fit` uses to fill
the method's arguments from the store so configs never restate them, and the pipeline record written into
every checkpoint, which `Predictor`, export and `skelact test` read (test also restores the other saved
arguments, except `evaluation_arguments`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import lightning as L
import torch

from skelact.data.clips import ClipSpec
from skelact.errors import ConfigError
from skelact.inference.compatibility import describe, record_mismatch, state_mismatch
from skelact.inference.pipeline import CHECKPOINT_KEY, PipelineRecord, read_record
from skelact.models.inputs.modality import parse_modality


class SkelactMethod(L.LightningModule):
    """Base of skelact's LightningModules."""

    method_name: ClassVar[str] = "unregistered"  # set by `register_method`
    # method argument -> datamodule attribute, linked by the CLI and by `for_data`.
    linked_from_data: ClassVar[dict[str, str]] = {}
    # Arguments that choose how an evaluation runs, not what the network is: `skelact test` takes them from
    # its own configs and command line, and every other argument from the checkpoint (cli/follow_checkpoint).
    evaluation_arguments: ClassVar[tuple[str, ...]] = ("report_dir", "report_worst", "compile")

    @classmethod
    def for_data(cls, datamodule: Any, **kwargs: Any) -> SkelactMethod:
        """The method for `datamodule`'s store, its facts linked as `skelact fit` links them."""
        facts = {arg: getattr(datamodule, attribute) for arg, attribute in cls.linked_from_data.items()}
        return cls(**facts, **kwargs)

    def hparams_record(self, clip: Any, **data: Any) -> PipelineRecord:
        """The pipeline record of a method whose hyper-parameters name its network the usual way (`model`,
        `model_args`, `modality`, the data facts) and which holds `layout` and `class_names`; `clip` and
        `data` come from the datamodule when known."""
        hp = self.hparams
        return self.network_record(
            clip, hp.model, dict(hp.model_args or {}), parse_modality(hp.modality), **data
        )

    def network_record(
        self, clip: Any, model: str, model_args: dict[str, Any], modality: tuple[str, ...], **data: Any
    ) -> PipelineRecord:
        """The pipeline record of the network `model` (`model_args`, reading `modality`), for a method that
        fixes some of these itself; the data facts come from its hyper-parameters (`num_classes`,
        `num_channels`, `num_coords`, `num_persons`), `layout` and `class_names` from the method."""
        hp = self.hparams
        return PipelineRecord(
            method=self.method_name,
            model=model,
            model_args=model_args,
            layout=self.layout.to_dict(),
            modality=modality,
            num_classes=hp.num_classes,
            num_channels=hp.num_channels,
            num_coords=hp.num_coords,
            num_persons=hp.num_persons,
            class_names=tuple(self.class_names),
            clip=clip if clip is not None else ClipSpec(max_persons=hp.num_persons),
            inputs=self.model_inputs(),
            **data,
        )

    def model_inputs(self) -> tuple[str, ...]:
        """The sample modalities the method's network (`self.net`, once built) reads."""
        net = getattr(self, "net", None)
        return tuple(getattr(net, "inputs", ("keypoint",)))

    def setup(self, stage: str) -> None:
        """Ask the datamodule for the modalities the network reads beyond keypoints, before it builds its
        loaders (`skelact.data.modalities`)."""
        inputs = self.model_inputs()
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        require = getattr(datamodule, "require_modalities", None)
        if len(inputs) > 1 and require is not None:
            require(inputs)

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

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Lightning calls this before it loads the weights: a checkpoint of another layout, class count,
        channels or modality than this configuration's is one ConfigError naming both, instead of torch's
        `size mismatch` for every tensor. Subclasses that override it call super()."""
        self._records_on_load: tuple[PipelineRecord, PipelineRecord] | None = None
        built = self.pipeline_record()
        if built is None or not checkpoint.get(CHECKPOINT_KEY):
            return  # no datamodule attached (load_from_checkpoint), or a checkpoint without a record
        source = self._checkpoint_source()
        saved = read_record(checkpoint, source)
        problem = record_mismatch(saved, built)
        if problem:
            raise ConfigError(f"{source}: {problem}", hint=_same_data_hint(saved))
        self._records_on_load = (saved, built)

    def load_state_dict(
        self, state_dict: Mapping[str, torch.Tensor], strict: bool = True, assign: bool = False
    ) -> Any:
        """Weights that do not fit are one line (count and first tensor), not torch's list of them all."""
        problem = state_mismatch(self.state_dict(), state_dict, strict)
        if problem:
            records = getattr(self, "_records_on_load", None)
            saved, built = (_in_full(r) for r in records) if records else ("", "")
            context = f" (the checkpoint: {saved}; this configuration: {built})" if saved != built else ""
            raise ConfigError(
                f"{self._checkpoint_source()}: the weights do not fit this model: {problem}{context}",
                hint=_same_data_hint(records[0]) if records else "use the configuration it was trained with",
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _checkpoint_source(self) -> str:
        """The checkpoint being restored, for messages; "checkpoint" outside a Trainer."""
        trainer = self._trainer
        path = getattr(trainer, "ckpt_path", None) if trainer is not None else None
        return str(path) if path else "checkpoint"


def _in_full(record: PipelineRecord) -> str:
    persons = f"{record.num_persons} person{'' if record.num_persons == 1 else 's'}"
    return f"{describe(record)}, {persons}, model_args {dict(record.model_args)}"


def _same_data_hint(saved: PipelineRecord) -> str:
    where = f"; its store was {saved.store}" if saved.store else ""
    return f"test and resume with the data and model configuration the checkpoint was trained with{where}"
