"""skelact.models."""
