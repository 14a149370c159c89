"""skelact.data.transforms."""
