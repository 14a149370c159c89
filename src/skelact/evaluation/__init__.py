"""skelact.evaluation."""
