"""``ChatService.run_turn``: the one path for a turn (events handed to an ``emit`` callback),
with ``send`` as its async-iterator form; used by the live-turn hub (TUI, server) and
``agentkit run``. Also the rules in force: listing and removing them.

Order of a turn: refuse an unknown or closed session; save the person's message first (it
is kept whatever happens next); route; run the mode; save each assistant and tool message as
it completes; end with ``usage`` and exactly one ``result``. Events go to the caller as an
async iterator and, except streamed text, into the session's event log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path

from app.config import ApprovalMode, Settings, WorkspaceRules, rules_notice
from app.engine.cancel import CancellationToken, TurnCancelled
from app.engine.compaction import CompactionGuard, before_call
from app.engine.context import Calibration
from app.engine.events import (
    LOGGED_TYPES,
    Event,
    TurnStatus,
    notice,
    result,
    skill_match,
)
from app.engine.human import Human, RuleScope
from app.engine.router import RoutingResult, SimpleRouter
from app.engine.skills import Agent, ExecutionMode, SkillSet, resolve_agent
from app.engine.turn import Emit, TurnContext
from app.engine.turnflow import (
    TurnState,
    admit,
    as_stored,
    finish_turn,
    known_tools,
    local_reply,
    log_payload,
    mcp_news,
    run_mode,
    session_history,
    tell_failure,
    with_project_instructions,
)
from app.llm.errors import ContextTooLongError
from app.llm.gateway import Gateway
from app.llm.surrogates import fix_surrogates
from app.mcp.manager import McpManager
from app.store import Session, SessionStore, StoreError
from app.tools.policy import ApprovalPolicy
from app.tools.registry import ToolRegistry, builtin_registry
from app.tools.rules import (
    RuleError,
    RuleKind,
    config_file_for,
    read_rules_file,
    remove_rule,
)
from app.tools.rules import RuleScope as FileScope

log = logging.getLogger(__name__)

#: Modes that are not built yet run as REACT and say so.
FALLBACK_MODES = {
    ExecutionMode.REWOO: "REWOO is not built yet; running the normal tool loop (REACT).",
    ExecutionMode.REFLEXION: "REFLEXION is not built yet; running the normal tool loop (REACT).",
}

RULE_KINDS: tuple[RuleKind, ...] = ("allow", "ask", "deny")


@dataclass(frozen=True)
class RuleEntry:
    """A rule in force that the person may remove: its text, kind, and where it lives."""

    rule: str
    kind: RuleKind
    #: ``session``: added this run by an "always" answer; else the config file holding it.
    scope: RuleScope
    #: The file it lives in (workspace and user rules).
    path: Path | None = None
    #: The session it was added in (session rules).
    session_id: str | None = None


@dataclass
class RuleListing:
    """What :meth:`ChatService.saved_rules` found, and the files it could not read."""

    rules: list[RuleEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class ChatService:
    """Runs turns against one store, gateway and tool set."""

    def __init__(
        self,
        settings: Settings,
        store: SessionStore,
        gateway: Gateway,
        *,
        workspace: Path,
        user_config_file: Path,
        skills: SkillSet,
        registry: ToolRegistry | None = None,
        protected_dirs: tuple[Path, ...] = (),
        workspace_rules: WorkspaceRules | None = None,
        mcp: McpManager | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.gateway = gateway
        self.workspace = workspace
        self.user_config_file = user_config_file
        self.skills = skills
        self.registry = registry or builtin_registry()
        self.router = SimpleRouter(skills)
        #: Folders file tools must ask before writing to, in every mode (the user config).
        self.protected_dirs = protected_dirs
        #: Ids of the turns running now, per session.
        self._turns: defaultdict[str, set[str]] = defaultdict(set)
        self._tasks: set[asyncio.Future[None]] = set()
        self._tokens: set[CancellationToken] = set()
        #: Session-scoped "always" answers live as long as the service (one app run).
        self._policies: dict[tuple[str, ApprovalMode | None], ApprovalPolicy] = {}
        #: The workspace's own rules file (already merged into ``settings``), for the notice.
        self.workspace_rules = workspace_rules
        #: Invalid rules, as the policy reports them (invalid deny rules make tools ask).
        self.rule_problems = ApprovalPolicy(settings.approval, workspace).problems
        #: Sessions told this run which workspace rules are in force.
        self._rules_told: set[str] = set()
        #: How each model counts tokens, learnt over this service's turns.
        self.calibration = Calibration()
        #: Sessions being compacted now (never two compactions of one session at once).
        self.compactions = CompactionGuard()
        #: Per session, the project instruction files last told about (paths, sizes, times).
        self._instructions_seen: dict[str, tuple[tuple[str, int, int], ...]] = {}
        #: MCP tool servers: started now, in the background; their tools join the registry.
        self.mcp = mcp
        if mcp is not None:
            mcp.start(self.registry)

    async def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Stop every running turn and wait (a few seconds at most) for their partial
        replies and results to be saved — before the store is closed."""
        for token in list(self._tokens):
            token.cancel("shutdown")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_seconds)
        if self.mcp is not None:
            await self.mcp.shutdown()

    def running_turns(self, session_id: str) -> int:
        """How many turns of the session are running now."""
        return len(self._turns.get(session_id, ()))

    def saved_rules(self, session_id: str | None = None) -> RuleListing:
        """The rules in force that a person can remove: those added this run (of one
        session, or of all), then the workspace file's, then the user config's."""
        listing = RuleListing()
        seen: set[tuple[str, RuleKind, str]] = set()
        for (owner, _mode), policy in self._policies.items():
            if session_id is not None and owner != session_id:
                continue
            for kind in RULE_KINDS:
                for text in policy.session_rules(kind):
                    if (owner, kind, text) not in seen:
                        seen.add((owner, kind, text))
                        listing.rules.append(RuleEntry(text, kind, "session", session_id=owner))
        scopes: tuple[FileScope, ...] = ("workspace", "user")
        for scope in scopes:
            path = config_file_for(scope, self.user_config_file, self.workspace)
            try:
                found = read_rules_file(path)
            except RuleError as exc:
                listing.problems.append(str(exc))
                continue
            for kind in RULE_KINDS:
                listing.rules += [RuleEntry(text, kind, scope, path=path) for text in found[kind]]
        return listing

    def remove_rule(self, entry: RuleEntry) -> bool:
        """Remove a rule from where it lives (its file, or the session) and from every live
        policy of this run; False when it was not there. Raises ``RuleError`` when its file
        cannot be changed."""
        if entry.scope == "session":
            found = any(
                entry.rule.strip() in (text.strip() for text in policy.session_rules(entry.kind))
                for (owner, _mode), policy in self._policies.items()
                if entry.session_id in (None, owner)
            )
            self._rebuild_policies(entry.rule, entry.kind, entry.session_id, from_settings=False)
            return found
        found = remove_rule(
            entry.rule, entry.kind, entry.scope, self.user_config_file, self.workspace
        )
        other: FileScope = "user" if entry.scope == "workspace" else "workspace"
        try:
            elsewhere = read_rules_file(
                config_file_for(other, self.user_config_file, self.workspace)
            )
        except RuleError:
            elsewhere = {"allow": [], "ask": [], "deny": []}
        still = entry.rule.strip() in (text.strip() for text in elsewhere[entry.kind])
        self._rebuild_policies(entry.rule, entry.kind, None, from_settings=not still)
        return found

    def forget_rule(self, rule: str, kind: RuleKind) -> None:
        """Stop applying a rule the person removed (other session rules are kept)."""
        self._rebuild_policies(rule, kind, None, from_settings=True)

    def _rebuild_policies(
        self, rule: str, kind: RuleKind, session_id: str | None, *, from_settings: bool
    ) -> None:
        """Drop ``rule`` from the settings (``from_settings``) and from the session rules of
        the live policies (of ``session_id``, or all), keeping every other rule."""
        wanted = rule.strip()
        if from_settings:
            approval = self.settings.approval
            kept = [text for text in getattr(approval, kind) if text.strip() != wanted]
            self.settings = self.settings.model_copy(
                update={"approval": approval.model_copy(update={kind: kept})}
            )
        old, self._policies = self._policies, {}
        for (owner, agent_mode), policy in old.items():
            fresh = self._policy(owner, agent_mode)
            dropped = session_id in (None, owner)
            for each in RULE_KINDS:
                for text in policy.session_rules(each):
                    if not (dropped and each == kind and text.strip() == wanted):
                        fresh.add_session_rule(text, each)

    def _policy(self, session_id: str, agent_mode: ApprovalMode | None) -> ApprovalPolicy:
        key = (session_id, agent_mode)
        if key not in self._policies:
            self._policies[key] = ApprovalPolicy(
                self.settings.approval,
                self.workspace,
                mode=agent_mode,
                protected_dirs=self.protected_dirs,
            )
        return self._policies[key]

    async def run_turn(
        self,
        session_id: str,
        text: str,
        *,
        emit: Emit,
        human: Human,
        model_override: str | None = None,
        cancel: CancellationToken | None = None,
        mode: ExecutionMode | None = None,
        approval: ApprovalMode | None = None,
    ) -> None:
        """Run one turn, awaiting ``emit`` with each of its events in order (the engine waits
        for each to be handed on). Cancelling the caller stops the turn and waits for it to
        save what it had; :meth:`shutdown` stops it too.

        ``approval`` replaces the ``[approval]`` mode for this turn (an agent's own mode
        still wins), for callers with their own rule, like the server's REST turns.
        """
        token = cancel or CancellationToken()
        runner = asyncio.ensure_future(
            self._turn(session_id, text, human, model_override, token, mode, emit, approval)
        )
        self._tasks.add(runner)
        runner.add_done_callback(self._tasks.discard)
        self._tokens.add(token)
        runner.add_done_callback(lambda _task: self._tokens.discard(token))
        try:
            await asyncio.shield(runner)
        except asyncio.CancelledError:
            if not runner.done():
                token.cancel("closed")
                with contextlib.suppress(BaseException):
                    await asyncio.shield(runner)
            raise

    async def send(
        self,
        session_id: str,
        text: str,
        *,
        human: Human,
        model_override: str | None = None,
        cancel: CancellationToken | None = None,
        mode: ExecutionMode | None = None,
        approval: ApprovalMode | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Run one turn (:meth:`run_turn`); yields its events. Closing the iterator cancels
        the turn."""
        token = cancel or CancellationToken()
        queue: asyncio.Queue[Event | None] = asyncio.Queue()

        async def emit(event: Event) -> None:
            await queue.put(event)

        runner = asyncio.ensure_future(
            self.run_turn(
                session_id,
                text,
                emit=emit,
                human=human,
                model_override=model_override,
                cancel=token,
                mode=mode,
                approval=approval,
            )
        )
        runner.add_done_callback(lambda _task: queue.put_nowait(None))
        try:
            while True:
                event = await queue.get()
                if event is None:
                    break
                yield event
            await runner  # re-raise anything unexpected
        finally:
            if not runner.done():
                token.cancel("closed")
                with contextlib.suppress(BaseException):
                    await asyncio.shield(runner)

    async def _turn(
        self,
        session_id: str,
        text: str,
        human: Human,
        model_override: str | None,
        token: CancellationToken,
        mode: ExecutionMode | None,
        emit_to_caller: Emit,
        approval: ApprovalMode | None = None,
    ) -> None:
        # JSON (a WebSocket frame, a REST body) can carry lone UTF-16 surrogates, which
        # cannot be saved: they become U+FFFD here, before the message is stored.
        turn = TurnState(
            session_id, fix_surrogates(text), human, token, model_override, mode, approval
        )

        async def emit(event: Event) -> None:
            if turn.logged and event.type in LOGGED_TYPES:
                # The log is a record; a failed write must not end the turn.
                with contextlib.suppress(StoreError):
                    await self.store.append_event(
                        session_id, event.type, log_payload(event), turn_id=turn.turn_id
                    )
            await emit_to_caller(event)

        limit = self.settings.engine.max_concurrent_turns
        session = await admit(self.store, turn, self._turns[session_id], limit, emit)
        if session is None:
            await emit(result("error"))
            return
        others = set(self._turns[session_id])
        self._turns[session_id].add(turn.turn_id)
        try:
            turn.status = await self._run(turn, session, others, emit)
        except TurnCancelled:
            turn.status = "cancelled"
        except Exception as exc:
            await tell_failure(turn, exc, emit)
        finally:
            self._turns[session_id].discard(turn.turn_id)
            with contextlib.suppress(StoreError, ValueError):  # ValueError: store closed
                await asyncio.shield(self.store.release_turn(turn.turn_id))
            await finish_turn(turn, emit)

    async def _run(
        self, turn: TurnState, session: Session, others: set[str], emit: Emit
    ) -> TurnStatus:
        """Save the person's message, route it and run its mode; how the turn ended."""
        session_id = turn.session_id
        if session_id not in self._rules_told:
            self._rules_told.add(session_id)
            told = rules_notice(self.workspace_rules, self.rule_problems)
            if told:
                await emit(notice("workspace_rules", told))
        if self.mcp is not None:
            await mcp_news(self.mcp, session_id, turn.token, emit)
        saved = as_stored(self.settings, self.router, turn.text, session.agent_name, turn.mode)
        await self.store.append_message(session_id, "user", saved, turn_id=turn.turn_id)
        agent = resolve_agent(self.settings, session.agent_name)
        routing = self.router.route(turn.text, agent, turn.mode)
        if routing.local_reply is not None:
            await local_reply(self.store, turn, agent.name, routing, emit)
            return "completed"
        if routing.matched and routing.skill_name:
            method = routing.match_method or "prefix"
            await emit(skill_match(routing.skill_name, method, routing.match_confidence))
        mode = routing.execution_mode
        if mode in FALLBACK_MODES:
            await emit(notice("mode_fallback", FALLBACK_MODES[mode]))
            mode = ExecutionMode.REACT
        turn.ctx = ctx = await self._context(turn, agent, routing, emit)
        history = await session_history(ctx, turn.text, routing, others)
        if await before_call(ctx, self.compactions, history, others):
            history = await session_history(ctx, turn.text, routing, others)
        try:
            return await run_mode(ctx, history, mode, routing.team, self.settings)
        except ContextTooLongError:  # one compaction and one retry, then the clear error
            if not await before_call(ctx, self.compactions, history, others, refused=True):
                raise
        history = await session_history(ctx, turn.text, routing, others)
        return await run_mode(ctx, history, mode, routing.team, self.settings)

    async def _context(
        self, turn: TurnState, agent: Agent, routing: RoutingResult, emit: Emit
    ) -> TurnContext:
        """The turn's context: its tools, prompt (with project instructions) and model."""
        tool_names, unknown = known_tools(routing.tools, self.registry)
        if unknown:
            await emit(notice("unknown_tools", unknown))
        system_prompt = await with_project_instructions(
            self.settings,
            self.workspace,
            self._instructions_seen,
            turn.session_id,
            routing.system_prompt,
            emit,
        )
        resolved = await self.gateway.resolve(turn.model_override or routing.model)
        return TurnContext(
            session_id=turn.session_id,
            turn_id=turn.turn_id,
            agent_name=agent.name,
            model=resolved.name,
            system_prompt=system_prompt,
            tool_names=tool_names,
            store=self.store,
            gateway=self.gateway,
            registry=self.registry,
            policy=self._policy(turn.session_id, agent.approval or turn.approval),
            human=turn.human,
            cancel=turn.token,
            settings=self.settings,
            workspace=self.workspace,
            user_config_file=self.user_config_file,
            emit=emit,
            calibration=self.calibration,
        )
