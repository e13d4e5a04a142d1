"""AgentKit TUI: a terminal app for working with LLM agents.

Nothing is imported here on purpose, so `import app.store` stays light.
"""

__version__ = "0.1.0"
