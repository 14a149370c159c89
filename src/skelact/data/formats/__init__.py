"""skelact.data.formats."""
