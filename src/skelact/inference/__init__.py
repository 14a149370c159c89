"""skelact.inference."""
