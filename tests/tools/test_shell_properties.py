"""Property tests of the shell classifier and the floor (hypothesis).

Generated command lines start with a known-safe command and carry, somewhere among harmless
options and operands, one thing that must stop them being known-safe: an option that
writes or runs, a path outside the workspace, an expansion or a redirection. And generated
spellings of ``rm -rf ~`` must always hit the floor.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.tools.knownsafe import SPECS, KnownSafe
from app.tools.safety import floor_violation
from app.tools.shellparse import parse_command

#: Per command, arguments that write a file, run a program or change the system.
WRITES: dict[str, list[list[str]]] = {
    "sed": [["-i", "s/a/b/"], ["-e", "1e touch x"], ["-e", "w out"], ["-n", "1w out"],
            ["--in-place"], ["-e", "r /etc/passwd"], ["-f", "script.sed"]],
    "sort": [["-o", "out"], ["--output=out"], ["--compress-program=sh"], ["-T", "/tmp"]],
    "uniq": [["in", "out"]],
    "tree": [["-o", "out"], ["-R"], ["--fromfile"]],
    "file": [["-C"], ["-C", "-m", "x"]],
    "date": [["-s", "now"], ["--set=now"], ["-f", "/etc/passwd"], ["01010000"]],
    "find": [["-delete"], ["-exec", "rm", "{}", ";"], ["-fprint", "out"], ["-execdir", "x", ";"],
             ["-ok", "rm", "{}", ";"], ["-fls", "out"], ["-fprintf", "out", "%p"]],
    "rg": [["--pre", "sh"], ["-z"], ["--search-zip"], ["-L"], ["--follow"]],
    "grep": [["-R"], ["--dereference-recursive"]],
    "git": [["diff", "--output=out"], ["diff", "--ext-diff"], ["log", "--textconv"],
            ["-c", "core.pager=sh"], ["push"], ["branch", "-D", "x"], ["diff", "--no-index"],
            ["-C", "/"], ["--git-dir=/x", "status"], ["commit"], ["config", "x", "y"]],
    "ls": [["-L", "-R"]],
    "du": [["-L"], ["--files0-from=list"]],
    "wc": [["--files0-from=list"]],
    "tail": [["-f"], ["--follow"]],
}  # fmt: skip
OUTSIDE = ["/etc/passwd", "../secret", "../../x", "/proc/self/environ", "/sys/kernel",
           "/dev/sda", "~/.ssh/id_rsa", "~root", "src/../../x", "{a,/etc/passwd}", "*",
           "/tmp", "//etc", "/./etc/shadow"]  # fmt: skip
EXPANSIONS = ["$HOME", "$(id)", "`id`", "${PATH}", "$1", "$@"]
REDIRECTIONS = ["> out", ">> out", "2> out", "&> out", "< /etc/passwd", "| tee out",
                "| sh", ">| out"]  # fmt: skip
HARMLESS = ["README.md", "src", "-n", "."]

safe_names = st.sampled_from(sorted(n for n in SPECS if n not in ("echo", "printf", "true",
                                                                     "false", "expr")))  # fmt: skip
path_names = st.sampled_from(
    sorted(n for n, spec in SPECS.items() if spec.operands == "path" and not spec.first_operand)
)
noise = st.lists(st.sampled_from(HARMLESS), max_size=3)


def _line(words: list[str]) -> str:
    return " ".join(shlex.quote(w) for w in words)


def _known_safe(root: Path, command: str) -> bool:
    parsed = parse_command(command)
    verdicts = KnownSafe(root).check_parsed(parsed)
    return parsed.plain and bool(verdicts) and all(v is None for v in verdicts)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(WRITES)),
    before=noise,
    after=noise,
    data=st.data(),
)
def test_a_write_option_is_never_known_safe(
    tmp_path: Path, name: str, before: list[str], after: list[str], data: st.DataObject
) -> None:
    form = data.draw(st.sampled_from(WRITES[name]))
    words = [name, *form, *before, *after] if name == "git" else [name, *before, *form, *after]
    assert not _known_safe(tmp_path, _line(words)), words


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=path_names, before=noise, after=noise, outside=st.sampled_from(OUTSIDE))
def test_a_path_outside_the_workspace_is_never_known_safe(
    tmp_path: Path, name: str, before: list[str], after: list[str], outside: str
) -> None:
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "src").mkdir(exist_ok=True)
    command = f"{_line([name, *before])} {outside} {_line(after)}"  # ~ and * left unquoted
    assert not _known_safe(tmp_path, command), command


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=safe_names | st.sampled_from(["echo", "printf"]),
    before=noise,
    extra=st.sampled_from(EXPANSIONS + REDIRECTIONS),
    glue=st.sampled_from(["", "x", "/"]),
)
def test_an_expansion_or_redirection_is_never_known_safe(
    tmp_path: Path, name: str, before: list[str], extra: str, glue: str
) -> None:
    token = extra if extra[0] in "<>|&2" else glue + extra
    command = f"{_line([name, *before])} {token}"
    assert not _known_safe(tmp_path, command), command


LAUNCHERS = ["", "sudo ", "env ", "command ", "nice -n 5 ", "timeout 5 ", "nohup ", "busybox ",
             "env -i A=1 ", "stdbuf -oL ", "setsid ", "exec "]  # fmt: skip
RM = ["rm", "/bin/rm", "/usr/bin/rm", "\\rm", "r\\m", "'rm'", '"rm"', "{rm,}"]
FLAGS = ["-rf", "-fr", "-r -f", "-R -f", "-Rf", "--recursive --force", "-rfv", "-r", "-f -r",
         "--recursive"]  # fmt: skip
TARGETS = ["~", "~/", "~/*", "$HOME", "${HOME}", '"$HOME"', "$HOME/", "/", "/*", "//", "/.",
           "/..", "/usr", "/etc/", "~/.", "/home", "$HOME/*"]  # fmt: skip
WRAPS = ["{cmd}", "true && {cmd}", "{cmd}; true", "eval '{cmd}'", "sh -c '{cmd}'",
         "bash -lc '{cmd}'", "echo '{cmd}' | sh", "printf '%s' '{cmd}' | bash",
         "x=1 {cmd}", "if true; then {cmd}; fi", "echo $({cmd})", "(cd /tmp && {cmd})"]  # fmt: skip


@settings(max_examples=500)
@given(
    launcher=st.sampled_from(LAUNCHERS),
    rm=st.sampled_from(RM),
    flags=st.sampled_from(FLAGS),
    target=st.sampled_from(TARGETS),
    wrap=st.sampled_from(WRAPS),
)
def test_the_floor_holds_for_spellings_of_rm_rf_home(
    launcher: str, rm: str, flags: str, target: str, wrap: str
) -> None:
    inner = f"{launcher}{rm} {flags} {target}"
    if "'" in wrap and "'" in inner:
        inner = inner.replace("'", "")
    command = wrap.format(cmd=inner)
    assert floor_violation(command) is not None, command


@settings(max_examples=200)
@given(
    launcher=st.sampled_from(LAUNCHERS),
    target=st.sampled_from(["build", "./dist", "node_modules", "src/*.o", "/tmp/agentkit-x"]),
)
def test_the_floor_leaves_ordinary_deletes(launcher: str, target: str) -> None:
    assert floor_violation(f"{launcher}rm -rf {target}") is None
