"""One state object per session: the draft's model moves to the session made for it, marks
come from the states, and a live plan folds into the session's own panel state."""

from __future__ import annotations

from app.engine.events import ResultData, ResultEvent, TokenEvent
from app.ui.session.state import DRAFT, Sessions
from tests.ui.test_work_panel import T0, update


def test_a_model_chosen_before_the_session_exists_moves_to_it() -> None:
    sessions = Sessions(lambda _id: None)
    sessions.draft.model = "fake/large"
    made = sessions.adopt("s1")
    assert made.model == "fake/large" and sessions.get("s1") is made
    assert sessions.draft.model is None  # the next new conversation starts with the default
    assert sessions.adopt("s2").model is None


def test_the_sidebar_marks_come_from_the_states() -> None:
    sessions = Sessions(lambda _id: None)
    assert sessions.marks("unknown") == ""
    sessions.get("s1").running = True
    sessions.get("s2").attention = True
    both = sessions.get("s3")
    both.running = both.attention = True
    assert [sessions.marks(s) for s in ("s1", "s2", "s3")] == ["● ", "! ", "● ! "]
    sessions.forget("s3")
    assert sessions.marks("s3") == ""


def test_live_events_fold_into_the_sessions_own_plan() -> None:
    sessions = Sessions(lambda _id: None)
    one, two = sessions.get("s1"), sessions.get("s2")
    assert one.fold(TokenEvent(content="hi"), T0) is None  # not a panel event
    first = one.fold(update(("p1", "running")), T0)
    assert first is not None and one.work is first and one.work_loaded
    assert two.work is None  # the other session's panel is untouched
    assert one.fold(ResultEvent(data=ResultData(status="completed")), T0) is first
    assert first.finished
    again = one.fold(update(("p9", "pending")), T0)  # a new turn plans again: a fresh state
    assert again is not None and again is not first and [p.id for p in again.phases] == ["p9"]


def test_the_live_turn_is_the_runners() -> None:
    live = {"s1": object()}
    sessions = Sessions(lambda session_id: live.get(session_id))  # type: ignore[arg-type,return-value]
    assert sessions.get("s1").live is live["s1"] and sessions.get("s2").live is None
    assert sessions.get(DRAFT) is sessions.draft
