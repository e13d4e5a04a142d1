"""The plan and team panels: the state folded from events (unit tests), and the live panel
in the app with the offline demo model (Pilot): it appears, follows the turn, survives a
switch of session mid-run, toggles and resizes, and is rebuilt from the log on review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.engine.events import (
    ExpertInfo,
    ExpertStepData,
    ExpertStepEvent,
    PhaseFailedData,
    PhaseFailedEvent,
    PhaseInfo,
    PlanUpdateData,
    PlanUpdateEvent,
    ReplanningData,
    ReplanningEvent,
    ResultData,
    ResultEvent,
    TeamFormedData,
    TeamFormedEvent,
)
from app.store import Event as StoredEvent
from app.ui.work import WorkState, state_from_log
from tests.ui.conftest import AppFactory, type_and_send, until

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def update(*rows: tuple[str, str]) -> PlanUpdateEvent:
    return PlanUpdateEvent(
        data=PlanUpdateData(
            plan_phases=[PhaseInfo(id=pid, title=pid.upper(), status=st) for pid, st in rows]  # type: ignore[arg-type]
        )
    )


def test_a_replan_starts_a_revision_that_keeps_finished_phases() -> None:
    state = WorkState()
    state.apply(update(("p1", "pending"), ("p2", "pending")), T0)
    state.apply(update(("p1", "running"), ("p2", "pending")), T0)
    state.apply(update(("p1", "done"), ("p2", "running")), T0 + timedelta(seconds=3))
    state.apply(PhaseFailedEvent(data=PhaseFailedData(phase_id="p2", error="boom")), T0)
    state.apply(ReplanningEvent(data=ReplanningData(reason="p2 failed", attempt=1)), T0)
    state.apply(update(("p1", "done"), ("p3", "pending")), T0 + timedelta(seconds=5))
    assert [r.number for r in state.revisions] == [1, 2]
    assert state.current is not None and state.current.reason == "p2 failed"
    assert [p.id for p in state.phases] == ["p1", "p3"]
    first = state.phase("p1")
    assert first is not None and first.started_at == T0  # carried over, with its times
    assert state.revisions[0].phases[1].error == "boom"
    state.apply(ResultEvent(data=ResultData(status="completed")), T0)
    assert state.finished and state.outcome == "completed"


def test_concurrent_expert_streams_do_not_mix() -> None:
    state = WorkState()
    experts = [ExpertInfo(id=x, name=x.title(), color="red", role="") for x in ("a", "b")]
    state.apply(
        TeamFormedEvent(
            data=TeamFormedData(
                team_id="t", status="active", experts=experts, plan_phases=[], lead_expert="a"
            )
        ),
        T0,
    )

    def piece(who: str, text: str, step: int = 1) -> ExpertStepEvent:
        return ExpertStepEvent(
            data=ExpertStepData(
                expert_id=who,
                expert_name=who,
                expert_color="red",
                content=text,
                step=step,
                kind="text",
            )
        )

    for event in (piece("a", "Hel"), piece("b", "Wor"), piece("a", "lo"), piece("b", "ld")):
        state.apply(event, T0)
    assert state.experts["a"].latest == "Hello" and state.experts["b"].latest == "World"
    state.apply(piece("a", "Next", step=2), T0)
    assert state.experts["a"].latest == "Next"  # a new step starts a new line of progress
    assert state.experts["a"].status == "working"


def stored(seq: int, turn: str, event: object) -> StoredEvent:
    from app.engine.events import to_wire

    wire = to_wire(event)  # type: ignore[arg-type]
    kind = wire.pop("type")
    return StoredEvent(
        id=seq, session_id="s", seq=seq, type=kind, data=wire, turn_id=turn, created_at=T0
    )


def test_the_log_gives_the_last_planned_turn() -> None:
    log = [
        stored(1, "one", update(("old", "done"))),
        stored(2, "two", update(("new", "running"))),
        stored(3, "three", ResultEvent(data=ResultData(status="completed"))),  # no plan here
    ]
    state = state_from_log(log)
    assert state is not None and [p.id for p in state.phases] == ["new"]
    assert state_from_log([stored(1, "x", ResultEvent(data=ResultData(status="error")))]) is None


async def test_plan_panel_follows_a_demo_plan_and_toggles(make_app: AppFactory) -> None:
    app = await make_app(demo_delay=0.002)
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "/plan summarise the readme")
        await until(pilot, lambda: not app.main.has_class("-no-panel"))
        await until(pilot, lambda: not app.turns.live, within=20)
        panel = app.panel
        assert panel.state is not None and panel.state.phases
        assert all(p.status == "done" for p in panel.state.phases)
        assert "Plan" in str(panel.query_one("#work-header").render())
        await pilot.press("f9")
        assert app.main.has_class("-no-panel")
        await pilot.press("f9")
        assert not app.main.has_class("-no-panel")
        panel.focus()
        width = panel.outer_size.width
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert panel.outer_size.width > width


async def test_team_panel_survives_a_switch_mid_run_and_is_rebuilt_on_review(
    make_app: AppFactory,
) -> None:
    app = await make_app(demo_delay=0.01)
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "/team look at the readme")
        await until(pilot, lambda: not app.main.has_class("-no-panel"), within=20)
        assert app.current is not None
        team_session = app.current.id
        await pilot.press("ctrl+n")
        await until(pilot, lambda: app.current is None)
        assert app.main.has_class("-no-panel")  # nothing planned in a new session
        await until(pilot, lambda: not app.turns.live, within=30)
        await app.conversation.open_session(team_session)
        await pilot.pause()
        panel = app.panel
        live = panel.state
        assert live is not None and live.kind == "team" and live.finished
        assert all(p.status == "done" for p in live.phases)  # caught up while away
        assert len(live.results) == len(live.phases)
        app.sessions.forget(team_session)  # as after a restart: only the log is left
        await app.conversation.open_session(team_session)
        await pilot.pause()
        review = panel.state
        assert review is not None and review is not live
        assert [(p.id, p.status, p.expert_id) for p in review.phases] == [
            (p.id, p.status, p.expert_id) for p in live.phases
        ]
        assert [r.content for _, r in review.results] == [r.content for _, r in live.results]
        # Each result says what the expert's own model calls used, live and in review.
        assert all(r.tokens for _, r in live.results)
        assert [r.tokens for _, r in review.results] == [r.tokens for _, r in live.results]
        await until(pilot, lambda: bool(panel.query(".work-result")))
        titles = [str(view.title) for view in panel.query(".work-result")]
        assert all(" tokens — " in title for title in titles), titles
        assert {e.id: e.status for e in review.experts.values()} == {
            e.id: e.status for e in live.experts.values()
        }
