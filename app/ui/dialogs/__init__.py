"""Modal dialogs: typed answers through dismiss(), no side effects."""
