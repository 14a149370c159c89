"""skelact.data.prepare."""
