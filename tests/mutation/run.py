"""Mutation testing of the modules that guard the person and their data (not run by pytest or CI).

    python tests/mutation/run.py                   # every module below (tens of minutes)
    python tests/mutation/run.py policy knownsafe  # some of them, by short name
    python tests/mutation/run.py --list            # the modules and the tests run against each
    python tests/mutation/run.py --report-only     # the report again, from the last results

mutmut runs a test against a function only if the test called that function in its own
process; tests that check a child process call the module in-process too (a no-op), so
they count. Each module is mutated by mutmut (``pip install -e '.[dev]'``) in a scratch copy of the
repository, against the fast test files that cover it, so a run fits on a 2-core machine.
The report, ``tests/mutation/report.md`` (``--report`` to change), gives killed/survived per
module and lists every survivor with its diff; ``tests/mutation/equivalent.toml`` holds the
survivors we judged equivalent (same behaviour), with the reason, and the report counts
them apart. The target is at least 85 % of the non-equivalent mutants killed per module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

KNOWNSAFE_TESTS = [
    "tests/tools/test_knownsafe.py",
    "tests/tools/test_knownsafe_mut.py",
    "tests/tools/test_shellparse.py",
    "tests/tools/test_policy.py",
    "tests/tools/test_policy_decisions.py",
]

# The property tests (test_shell_properties.py) are left out here: a thousand mutants
# times a hypothesis run each does not fit in a run on 2 cores.
SHELLPARSE_TESTS = [
    "tests/tools/test_shellparse.py",
    "tests/tools/test_shellparse_edges.py",
    "tests/tools/test_shell_cases.py",
    "tests/tools/test_safety.py",
    "tests/tools/test_knownsafe.py",
    "tests/tools/test_policy.py",
    "tests/tools/test_policy_decisions.py",
]

#: Tests written against the survivors of words, scripts, launchers and braces (they cover
#: one another's functions too, so each of those files runs all four).
SHELLPARSE_WORDS_TESTS = [
    "tests/tools/test_shell_words.py",
    "tests/tools/test_shell_scripts.py",
    "tests/tools/test_shell_launchers_mut.py",
    "tests/tools/test_shell_braces_mut.py",
]
SHELLPARSE_OWN_TESTS = {
    part: SHELLPARSE_WORDS_TESTS for part in ("braces", "launchers", "scripts", "words")
}

#: Short name -> (module, the test files that cover it: fast, in-process ones only).
MODULES: dict[str, tuple[str, list[str]]] = {
    "policy": (
        "app/tools/policy.py",
        [
            "tests/tools/test_policy.py",
            "tests/tools/test_policy_decisions.py",
            "tests/tools/test_policy_mut.py",
            "tests/tools/test_rules.py",
        ],
    ),
    "rules": (
        "app/tools/rules.py",
        [
            "tests/tools/test_rules.py",
            "tests/tools/test_rule_matching.py",
            "tests/tools/test_policy.py",
            "tests/tools/test_policy_decisions.py",
            "tests/tools/test_remove_rule.py",
            "tests/tools/test_trust_keeping.py",
            "tests/tools/test_rules_mcp.py",
        ],
    ),
    "safety": (
        "app/tools/safety.py",
        [
            "tests/tools/test_safety.py",
            "tests/tools/test_safety_mut.py",
            "tests/tools/test_shellparse.py",
            "tests/tools/test_shellparse_edges.py",
            "tests/tools/test_shell_cases.py",
            "tests/tools/test_policy.py",
            "tests/tools/test_policy_decisions.py",
            "tests/tools/test_red_team.py",
        ],
    ),
    # Packages are mutated one file at a time (mutmut keeps one results file per module);
    # ``knownsafe`` and ``shellparse`` on the command line stand for all their files.
    # knownsafe/table.py is left out: its functions only build the table at import, before
    # mutmut switches a mutant on, so mutmut cannot run it (every verdict tests the table).
    **{
        f"knownsafe.{part}": (f"app/tools/knownsafe/{part}.py", KNOWNSAFE_TESTS)
        for part in ("check", "commands", "git", "options", "paths", "wrappers")
    },
    **{
        f"shellparse.{part}": (
            f"app/tools/shellparse/{part}.py",
            SHELLPARSE_TESTS + SHELLPARSE_OWN_TESTS.get(part, []),
        )
        for part in ("braces", "carried", "effective", "launchers", "scripts", "words")
    },
    # effective.py has its own tests too (what the deny rules and the floor see of a line).
    "shellparse.effective": (
        "app/tools/shellparse/effective.py",
        [
            *SHELLPARSE_TESTS,
            "tests/tools/test_effective_commands.py",
            "tests/tools/test_effective_policy.py",
            "tests/tools/test_carried_commands.py",
        ],
    ),
    # carried.py: commands inside environment variables and option values.
    "shellparse.carried": (
        "app/tools/shellparse/carried.py",
        [
            *SHELLPARSE_TESTS,
            "tests/tools/test_carried_commands.py",
            "tests/tools/test_carried_units.py",
        ],
    ),
    # protected.py: shell lines that reach .git, .agentkit or agentkit's configuration.
    "protected": (
        "app/tools/protected.py",
        ["tests/tools/test_protected_commands.py", "tests/tools/test_policy_decisions.py"],
    ),
    "workspace": (
        "app/tools/workspace.py",
        [
            "tests/tools/test_workspace.py",
            "tests/tools/test_workspace_confinement.py",
            "tests/tools/test_files.py",
            "tests/tools/test_rule_matching.py",
            "tests/tools/test_policy_decisions.py",
        ],
    ),
    "secretenv": ("app/secretenv.py", ["tests/unit/test_secretenv.py"]),
    # The one atomic write (rule files, config, exports, file edits); it was rules.py's own.
    "atomic": (
        "app/atomic.py",
        ["tests/unit/test_shared_helpers.py", "tests/unit/test_atomic.py"],
    ),
    # Only the reply writer of turn.py is scored (see ONLY); the rest of the file is context.
    "writer": (
        "app/engine/turn.py",
        ["tests/engine/test_reply_writer.py", "tests/engine/test_reply_writer_edges.py"],
    ),
    "messages": (
        "app/store/messages.py",
        [
            "tests/store/test_messages.py",
            "tests/store/test_messages_contract.py",
            "tests/store/test_processes.py",
        ],
    ),
    "liveness": (
        "app/store/liveness.py",
        [
            "tests/store/test_liveness.py",
            "tests/store/test_messages.py",
            "tests/store/test_processes.py",
        ],
    ),
    "export": (
        "app/store/export.py",
        [
            "tests/store/test_export.py",
            "tests/store/test_export_mut.py",
            "tests/unit/test_textsafe.py",
        ],
    ),
    "guards": (
        "app/server/guards.py",
        # In-process tests only: mutmut's fork hangs on the uvicorn tests (threads, servers).
        [
            "tests/server/test_guards.py",
            "tests/server/test_loopback.py::test_host_header_rules",
            "tests/server/test_loopback.py::test_origin_rules",
            "tests/server/test_auth.py::test_keys_are_read_from_the_header_and_the_query",
        ],
    ),
}

#: A module whose run takes longer is reported as not finished (a hung run ends the wait);
#: ``--timeout`` changes it (shellparse needs more on a loaded machine: 1,661 mutants).
MODULE_TIMEOUT_SECONDS = 30 * 60

#: Modules where only some functions are scored: short name -> a part of their mutant names.
ONLY = {"writer": "ReplyWriter"}

#: What counts as killed: a test failed, the tests hung, or the type check refused it.
KILLED = ("killed", "timeout", "caught by type check")

#: mutmut's exit codes, as its own ``status_by_exit_code`` names them.
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "caught by type check",
}


@dataclass
class Outcome:
    """What mutmut found in one module."""

    name: str
    module: str
    tests: list[str]
    statuses: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    def count(self, *statuses: str) -> int:
        """How many mutants ended in one of ``statuses``."""
        return sum(1 for status in self.statuses.values() if status in statuses)


def _scratch_copy(name: str, module: str, tests: list[str], workdir: Path) -> Path:
    """A copy of the repository with a ``setup.cfg`` that points mutmut at one module."""
    target = workdir / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for part in ("app", "tests", "styles"):
        shutil.copytree(
            ROOT / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "mutants")
        )
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    selection = "\n    ".join(tests)
    (target / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = app\n"
        f"only_mutate = {module}\n"
        f"pytest_add_cli_args_test_selection =\n    {selection}\n"
        "pytest_add_cli_args = -p no:cacheprovider -p no:randomly -x -q\n"
        "use_git_change_detection = false\n"
    )
    return target


def _run_module(
    name: str, workdir: Path, max_children: int, timeout: int = MODULE_TIMEOUT_SECONDS
) -> Outcome:
    module, tests = MODULES[name]
    outcome = Outcome(name, module, tests)
    copy = _scratch_copy(name, module, tests, workdir)
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("AGENTKIT_HOME", None)
    try:
        ran = subprocess.run(
            [str(mutmut), "run", "--max-children", str(max_children)],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        outcome.seconds = time.monotonic() - started
        outcome.error = f"mutmut did not finish in {timeout // 60} minutes"
        return outcome
    outcome.seconds = time.monotonic() - started
    meta = copy / "mutants" / (module + ".meta")
    if not meta.exists():
        outcome.error = (ran.stdout[-3000:] + "\n" + ran.stderr[-3000:]).strip()
        return outcome
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    codes = {key: code for key, code in codes.items() if ONLY.get(name, "") in key}
    if codes and all(code is None for code in codes.values()):
        # mutmut stops before any mutant when the tests fail on the unchanged code.
        outcome.error = "no mutant was checked:\n" + (ran.stdout[-3000:] + ran.stderr[-3000:])
        return outcome
    outcome.statuses = {
        key: STATUS.get(code, "suspicious") if code is not None else "not checked"
        for key, code in codes.items()
    }
    survivors = [key for key, status in outcome.statuses.items() if status not in KILLED]
    shown = subprocess.run(
        [sys.executable, "-c", _DIFFS, module, *survivors],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    outcome.diffs = json.loads(shown.stdout or "{}") if shown.returncode == 0 else {}
    return outcome


#: Prints {mutant: diff} for the survivors, in one process (``mutmut show`` is one each).
_DIFFS = """
import json, sys
from mutmut.__main__ import get_diff_for_mutant
module, names = sys.argv[1], sys.argv[2:]
print(json.dumps({name: get_diff_for_mutant(name, path=module) for name in names}))
"""


def _equivalent() -> dict[str, str]:
    """Survivors judged equivalent: mutant name -> why it changes nothing."""
    path = HERE / "equivalent.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    return {key: str(value) for key, value in data.get("equivalent", {}).items()}


def _report(outcomes: list[Outcome], equivalent: dict[str, str]) -> str:
    lines = [
        "# Mutation testing report",
        "",
        f"mutmut on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        "score = killed / (mutants - equivalent). Target: 85 % per module.",
        "",
        "| module | tests | mutants | killed | survived | equivalent | score |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        if o.error:
            lines.append(f"| `{o.module}` | | | | | | error (below) |")
            continue
        total = len(o.statuses)
        killed = o.count(*KILLED)
        judged = [k for k, status in o.statuses.items() if status not in KILLED and k in equivalent]
        survived = total - killed - len(judged)
        score = 100 * killed / max(1, total - len(judged))
        scope = f" ({ONLY[o.name]})" if o.name in ONLY else ""
        lines.append(
            f"| `{o.module}`{scope} | {len(o.tests)} files | {total} | {killed} | {survived} | "
            f"{len(judged)} | {score:.1f} % ({o.seconds / 60:.1f} min) |"
        )
    stale = _stale_equivalents(outcomes, equivalent)
    if stale:
        lines += ["", "## Equivalent entries that do not hold", ""]
        lines += [f"- `{key}`: {problem}" for key, problem in stale]
    for o in outcomes:
        lines += ["", f"## `{o.module}`", "", "Tests: " + ", ".join(f"`{t}`" for t in o.tests)]
        if o.error:
            lines += ["", "mutmut did not finish:", "", "```", o.error, "```"]
            continue
        for key, diff in sorted(o.diffs.items()):
            why = equivalent.get(key)
            heading = f"### `{key}` — {o.statuses[key]}" + (" (equivalent)" if why else "")
            lines += ["", heading, ""]
            if why:
                lines += [f"Equivalent: {why}", ""]
            lines += ["```diff", _trim(diff), "```"]
    return "\n".join(lines) + "\n"


def _module_of(mutant: str) -> str:
    """The dotted module of a mutant name (``app.tools.rules.x_parse_rule__mutmut_3``)."""
    return re.split(r"\.x[_\u01c1]", mutant, maxsplit=1)[0]


def _stale_equivalents(
    outcomes: list[Outcome], equivalent: dict[str, str]
) -> list[tuple[str, str]]:
    """Entries of equivalent.toml that a run contradicts: the mutant no longer exists in a
    module that was run (its code moved or changed), or a test now kills it."""
    ran = [o for o in outcomes if not o.error]
    modules = {_module_of(key) for o in ran for key in o.statuses}
    statuses = {key: status for o in ran for key, status in o.statuses.items()}
    stale = []
    for key in sorted(equivalent):
        if key in statuses and statuses[key] in KILLED:
            stale.append((key, f"listed as equivalent but {statuses[key]}"))
        elif key not in statuses and _module_of(key) in modules:
            stale.append((key, "no such mutant in the last run of its module"))
        elif key not in statuses and not _defined(key):  # its module was not run
            stale.append((key, "its function is no longer defined in that module"))
    return stale


def _defined(mutant: str) -> bool:
    """Whether the function a mutant name points at is still defined in its module's file
    (``x_name`` or ``x\u01c1Class\u01c1method``; a package's functions live in its modules)."""
    module = _module_of(mutant)
    rest = mutant[len(module) + 2 :]  # after ".x": "_name…" or "\u01c1Class\u01c1method…"
    function = re.sub(r"__mutmut_\d+$", "", rest.removeprefix("_")).split("\u01c1")[-1]
    path = ROOT / module.replace(".", "/")
    source = path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
    return source.exists() and f"def {function}(" in source.read_text()


def _trim(diff: str) -> str:
    kept = [line for line in diff.splitlines() if not re.match(r"^(# |index |diff )", line)]
    return "\n".join(kept[:40])


def main(argv: list[str] | None = None) -> int:
    """Run mutmut on the chosen modules and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"modules: {', '.join(MODULES)}")
    parser.add_argument("--list", action="store_true", help="show the modules and their tests")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from earlier results only"
    )
    parser.add_argument("--report", type=Path, default=HERE / "report.md")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "agentkit-mutation"
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--timeout",
        type=int,
        default=MODULE_TIMEOUT_SECONDS // 60,
        help="minutes one module may take (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, (module, tests) in MODULES.items():
            print(f"{name:11} {module}\n            {' '.join(tests)}")
        return 0
    names = [
        module
        for name in args.names
        for module in (
            [name] if name in MODULES else [m for m in MODULES if m.startswith(name + ".")]
        )
    ]
    unknown = [
        name
        for name in args.names
        if name not in MODULES and not any(m.startswith(name + ".") for m in MODULES)
    ]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)} (try --list)")
    for name in [] if args.report_only else names or list(MODULES):
        print(f"mutating {MODULES[name][0]} …", flush=True)
        outcome = _run_module(name, args.workdir, args.max_children, args.timeout * 60)
        killed = outcome.count("killed", "timeout")
        print(
            f"  {killed}/{len(outcome.statuses)} killed in {outcome.seconds / 60:.1f} min"
            + (f"; error:\n{outcome.error}" if outcome.error else ""),
            flush=True,
        )
        (args.workdir / f"{name}.json").write_text(json.dumps(asdict(outcome)))
    # The report covers every module with a result in the work folder, this run's or earlier.
    outcomes = [
        Outcome(**json.loads((args.workdir / f"{name}.json").read_text()))
        for name in MODULES
        if (args.workdir / f"{name}.json").exists()
    ]
    notes = HERE / "notes.md"  # what the numbers do not say: history, known gaps
    extra = "\n" + notes.read_text() if notes.exists() else ""
    args.report.write_text(_report(outcomes, _equivalent()) + extra)
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
