"""Pilot tests of session actions: rename, delete, export, model pick, retry, help,
``/`` commands and ``@``/``/`` completion."""

from __future__ import annotations

from pathlib import Path

from app.ui.dialogs.delete import DeleteDialog
from app.ui.dialogs.help import HelpDialog
from app.ui.dialogs.model_picker import ModelPicker
from app.ui.dialogs.rename import RenameDialog
from app.ui.widgets.composer import Composer
from app.ui.widgets.message_views import AssistantMessage, UserMessage
from tests.fakes.provider import FakeProvider
from tests.fakes.scripts import openai_reply
from tests.ui.conftest import AppFactory, type_and_send, until


async def _with_session(make_app: AppFactory) -> tuple[object, str]:
    app = await make_app()
    session = await app.store.create_session("default", title="Old title")
    await app.store.append_message(session.id, "user", "hello")
    await app.store.append_message(session.id, "assistant", "hi")
    return app, session.id


async def test_rename_with_the_dialog(make_app: AppFactory) -> None:
    app, session_id = await _with_session(make_app)
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RenameDialog))  # type: ignore[attr-defined]
        await pilot.press(*"Fresh name", "enter")
        await until(pilot, lambda: app.current.title == "Fresh name")  # type: ignore[attr-defined]
        assert (await app.store.get_session(session_id)).title == "Fresh name"  # type: ignore[attr-defined]


async def test_delete_asks_first(make_app: AppFactory) -> None:
    app, _session_id = await _with_session(make_app)
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, DeleteDialog))  # type: ignore[attr-defined]
        await pilot.press("n")
        await pilot.pause()
        assert await app.store.count_sessions() == 1  # type: ignore[attr-defined]
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, DeleteDialog))  # type: ignore[attr-defined]
        await pilot.press("y")
        await until(pilot, lambda: app.current is None)  # type: ignore[attr-defined]
        assert await app.store.count_sessions() == 0  # type: ignore[attr-defined]


async def test_pick_a_model_for_the_next_messages(make_app: AppFactory) -> None:
    async with FakeProvider() as fake:
        fake.script(openai_reply(["From the large model."]))
        provider = {"kind": "openai", "base_url": fake.url, "max_retries": 0}
        app = await make_app(providers={"fake": {**provider, "models": ["small", "large"]}})
        async with app.run_test(size=(120, 40)) as pilot:
            await type_and_send(pilot, "/model")
            await until(pilot, lambda: isinstance(app.screen, ModelPicker))
            picker = app.screen
            await until(pilot, lambda: "fake/large" in picker.visible_names)  # type: ignore[attr-defined]
            assert app.actions.session_model() == "demo"  # the default, which the pick must replace
            await pilot.press(*"large")
            await until(pilot, lambda: picker.visible_names == ["fake/large"])  # type: ignore[attr-defined]
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
            assert app.actions.session_model() == "fake/large" and app.status.model == "fake/large"
            await type_and_send(pilot, "hello")
            await until(
                pilot,
                lambda: (
                    any(
                        v.text == "From the large model."
                        for v in app.screen.query(AssistantMessage)
                    )
                    and not app.turns.live
                ),
            )
        asked = [r.json()["model"] for r in fake.requests if r.path.endswith("/chat/completions")]
        assert asked == ["large"]


async def test_retry_sends_the_last_message_again(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "hello")
        await until(pilot, lambda: bool(app.screen.query(AssistantMessage)) and not app.turns.live)
        await pilot.press("ctrl+r")
        await until(
            pilot, lambda: len(app.screen.query(AssistantMessage)) == 2 and not app.turns.live
        )
        assert [v.text for v in app.screen.query(UserMessage)] == ["hello", "hello"]


def help_shown(screen: object) -> dict[str, list[tuple[str, str, str]]]:
    """What the help dialog lists: {group: [(keys, description, binding id), …]}."""
    shown: dict[str, list[tuple[str, str, str]]] = {}
    group = ""
    for node in screen.query(".help-group, .help-key, .help-description, .help-id"):  # type: ignore[attr-defined]
        text = str(node.render())
        if node.has_class("help-group"):
            group = text
        elif node.has_class("help-key"):
            shown.setdefault(group, []).append((text, "", ""))
        elif node.has_class("help-description"):
            key, _, _ = shown[group][-1]
            shown[group][-1] = (key, text, "")
        else:
            key, description, _ = shown[group][-1]
            shown[group][-1] = (key, description, text)
    return shown


async def test_help_lists_every_key(make_app: AppFactory) -> None:
    from textual.binding import Binding

    from app.ui.dialogs.confirm import ConfirmDialog
    from app.ui.keys import ACTIONS, COMMANDS

    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))
        shown = help_shown(app.screen)
        rows = {row for group in shown.values() for row in group}
        for action in ACTIONS:  # every action, with its key and its binding id
            assert (action.keys, action.description, action.id) in rows, action.id
        for binding in app.BINDINGS:
            assert isinstance(binding, Binding) and binding.id is not None
            assert any(row[2] == binding.id for row in rows), binding.id
        app_rows = {(key, text) for key, text, _ in shown["App"]}
        assert ("ctrl+p", "every command") in app_rows and ("ctrl+q", "quit") in app_rows
        commands = {key: text for key, text, _ in shown["Commands"]}
        assert commands == {command.name: command.description for command in COMMANDS}
        dialog_keys = {
            key.strip().replace("esc", "escape")
            for row_keys, _, _ in shown["Approval dialog"]
            for key in row_keys.split("/")
        }
        for binding in ConfirmDialog.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.key in dialog_keys, binding.id
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpDialog))


async def test_help_shows_the_keys_as_remapped(make_app: AppFactory) -> None:
    app = await make_app(keys={"app.help": "f12", "session.new": "ctrl+t,ctrl+y"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))
        rows = {row for group in help_shown(app.screen).values() for row in group}
        assert ("f12", "Help", "app.help") in rows
        assert ("ctrl+t / ctrl+y", "New", "session.new") in rows
        assert not any(key == "f1" or key == "ctrl+n" for key, _, _ in rows)
        assert ("f4", "Close", "session.close") in rows  # not remapped: the default


async def test_completion_of_skills_and_commands(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.screen.query_one(Composer)
        composer.focus()
        await pilot.press("@", "r", "e")
        await pilot.pause()
        hint = app.screen.query_one("#completions")
        assert hint.display and composer.completion == "@review"
        await pilot.press("tab")
        assert composer.text == "@review "
        composer.clear()
        await pilot.press("/", "e", "x")
        await pilot.pause()
        assert composer.completion == "/export"
        composer.clear()
        await pilot.pause()
        assert not hint.display


async def test_unknown_commands_are_not_sent(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "/frobnicate")
        await pilot.pause()
        assert app.current is None and not app.turns.live


async def test_keys_can_be_remapped_in_config(make_app: AppFactory) -> None:
    app = await make_app(keys={"app.help": "f9"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, HelpDialog)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))


async def test_up_in_an_empty_composer_brings_back_the_last_message(
    make_app: AppFactory,
) -> None:
    app, _session_id = await _with_session(make_app)
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        composer = app.screen.query_one(Composer)  # type: ignore[attr-defined]
        composer.focus()
        await pilot.press("up")
        assert composer.text == "hello"  # to edit and send again


async def test_a_chosen_theme_is_remembered(make_app: AppFactory, tmp_path: Path) -> None:
    app = await make_app()
    app.config_file = tmp_path / "config.toml"
    app.config_file.write_text("# my settings\n[ui]\nshow_sidebar = true\n")
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = "nord"
        await until(pilot, lambda: 'theme = "nord"' in app.config_file.read_text())
    saved = app.config_file.read_text()
    assert 'theme = "nord"' in saved and "# my settings" in saved


async def test_review_approvals_and_revoke_a_saved_rule(
    make_app: AppFactory, workspace: Path
) -> None:
    from app.ui.dialogs.approvals import ApprovalsDialog
    from app.ui.dialogs.confirm import ConfirmDialog

    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "please run `mkdir one`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("a")
        dialog = app.screen
        dialog.query_one("#confirm-scope").value = "workspace"  # type: ignore[attr-defined]
        dialog.query_one("#confirm-rule-input").focus()
        await pilot.press("enter")
        await until(pilot, lambda: not app.turns.live)
        saved = workspace / ".agentkit" / "config.toml"
        assert "shell(mkdir *)" in saved.read_text()
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsDialog))
        review = app.screen
        [row] = review.history  # type: ignore[attr-defined]
        assert (row.tool, row.command, row.approved, row.decider) == (
            "shell",
            "mkdir one",
            True,
            "user",
        )
        assert (row.rule, row.scope) == ("shell(mkdir *)", "workspace")
        await pilot.press("r")
        await until(pilot, lambda: not isinstance(app.screen, ApprovalsDialog))
        assert "shell(mkdir *)" not in saved.read_text()
        await type_and_send(pilot, "please run `mkdir two`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))  # asks again
        await pilot.press("n")
        await until(pilot, lambda: not app.turns.live)


async def test_every_action_is_in_the_command_palette(make_app: AppFactory) -> None:
    from textual.command import CommandList, CommandPalette

    from app.ui.dialogs.help import HelpDialog

    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        described = {b.description for b in app.BINDINGS if b.description}  # type: ignore[union-attr]
        assert described <= titles
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Help")

        def help_is_highlighted() -> bool:
            found = app.screen.query(CommandList)
            if not found or found.first().highlighted is None:
                return False
            commands = found.first()
            option = commands.get_option_at_index(commands.highlighted)  # type: ignore[arg-type]
            return str(option.prompt).startswith("Help")

        await until(pilot, help_is_highlighted)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))
