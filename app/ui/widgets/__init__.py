"""Widgets: they show state and post messages; they never do I/O."""
