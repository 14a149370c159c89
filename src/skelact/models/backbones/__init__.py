"""skelact.models.backbones."""
