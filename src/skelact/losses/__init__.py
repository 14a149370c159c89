"""skelact.losses."""
