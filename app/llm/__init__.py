"""The LLM layer: one gateway that streams chat turns from any configured model.

Import what you need from the submodules: :mod:`app.llm.types` (messages, requests,
chunks), :mod:`app.llm.errors` (typed errors), :mod:`app.llm.gateway` (``Gateway``) and
:mod:`app.llm.describe` (what ``agentkit models`` shows). Nothing here imports Textual.
"""
