"""skelact.viz."""
