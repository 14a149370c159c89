"""Model inputs: modules that turn raw keypoints (N, M, T, V, C) into a backbone's input channels on the
device (joint, bone, motion and skip modalities, PSUMNet's part streams). They belong to the model, not to
the data pipeline: checkpoints and exported models carry them."""

from skelact.models.inputs.modality import MODALITIES, MODALITY_ALIASES, ModalityFeatures, parse_modality
from skelact.models.inputs.part_modality import UNIFIED_MODALITY, PartModalityFeatures

__all__ = [
    "MODALITIES",
    "MODALITY_ALIASES",
    "UNIFIED_MODALITY",
    "ModalityFeatures",
    "PartModalityFeatures",
    "parse_modality",
]
