"""Tools the agent can call: the Tool contract, built-ins, registry and approval policy.

Import the submodules you need (``app.tools.base``, ``app.tools.registry``,
``app.tools.policy``); this package imports nothing so ``import app.tools`` stays light.
"""
