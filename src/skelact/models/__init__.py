"""Models: registry, backbones, heads and shared layers. Importing this package registers every backbone."""

from skelact.models import backbones as _backbones  # noqa: F401  (fills the registry)
from skelact.models.heads import ClassificationHead
from skelact.models.registry import create_model, list_models, model_options, register_model

__all__ = ["ClassificationHead", "create_model", "list_models", "model_options", "register_model"]
