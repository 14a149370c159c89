"""skelact.video."""
