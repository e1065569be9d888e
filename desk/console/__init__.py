"""The staff web console."""
