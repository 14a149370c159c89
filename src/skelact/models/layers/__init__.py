"""skelact.models.layers."""
