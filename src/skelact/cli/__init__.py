"""skelact.cli."""
