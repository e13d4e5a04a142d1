"""Plan and team mode, and what they share.

- ``plan``: PLAN_EXEC, phases in order with replanning; ``team``: TEAM_COLLAB, a lead and
  experts (``roster`` holds the teams, ``team_plan`` the lead's plan and its checks);
- ``phase``: one phase (or one expert's task) as a nested ReAct run, ended by
  ``finish_phase`` (``finish``); ``progress``: its events mapped for the parent stream;
- ``replies``: JSON replies (a plan, a lead's plan) parsed, with one repair attempt;
- ``synthesis``: the streamed final answer, with the shared "missing" and fallback text;
- ``errors`` and ``text``: the errors and the small text helpers of both modes.
"""
