"""Plan Bridge."""
