"""``agentkit serve``: the reference chat API (REST under ``/chat`` and a WebSocket) over
``ChatService`` and the session store.

FastAPI and uvicorn are an optional extra (``pip install 'agentkit-tui[serve]'``), so this
package imports them at module level and only the CLI (``app.cli.serve``) imports it, after
checking that they are there. Nothing about turns lives here: every turn goes through
``ChatService.send``.
"""
