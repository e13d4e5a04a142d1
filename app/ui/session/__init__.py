"""One object per session, and the parts of the app that work on sessions."""
