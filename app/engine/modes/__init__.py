"""Plan and team mode, and what they share.

- ``plan``: PLAN_EXEC, phases in order with replanning (``planner``: the planner's reply and
  the phases as they run; ``plan_prompts``: what the planner and each phase are told);
- ``team``: TEAM_COLLAB, a lead and experts (``roster``: the teams; ``team_plan``: the lead's
  plan, its checks and its phases as they run; ``team_prompts``: what lead and experts are told);
- ``phase``: one phase (or one expert's task) as a nested ReAct run, ended by
  ``finish_phase`` (``finish``); ``progress``: its events mapped for the parent stream;
- ``replies``: JSON replies (a plan, a lead's plan) parsed, with one repair attempt;
- ``synthesis``: the streamed final answer, with the shared "missing" and fallback text;
- ``errors`` and ``text``: the errors and the small text helpers of both modes.
"""
