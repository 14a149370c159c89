"""skelact.methods."""
