"""Checking one command's options and operands against its entry in the table."""

from __future__ import annotations

from app.tools.knownsafe.paths import _confined, _Line
from app.tools.knownsafe.table import _COMMON, _NUMBER, Kind, Spec
from app.tools.shellparse import Word


def _validate(spec: Spec, name: str, args: list[Word], line: _Line) -> str | None:
    operands: list[Word] = []
    needs_pattern = spec.first_operand is not None
    index = 0
    options_done = False
    while index < len(args):
        item = args[index]
        word = item.text
        index += 1
        if options_done or word == "-" or not word.startswith("-"):
            operands.append(item)
            continue
        if item.glob:
            return f"{word} could expand to other options"
        if word == "--":
            options_done = True
            continue
        if word.startswith("--"):
            option, has_value, value = word.partition("=")
            key = option[2:]
            if key in _COMMON and not has_value:
                continue
            if key not in spec.longs:
                return f"{name} {option} is not known to be safe"
            kind = spec.longs[key]
            if option in spec.pattern_options:
                needs_pattern = False
            if kind is None:
                if has_value:
                    return f"{name} {option} takes no value"
                continue
            if kind == "opt":  # a GNU optional argument comes only as --option=value
                continue
            why, index = _option_value(args, index, value if has_value else None, kind, line)
            if why:
                return f"{name} {option}: {why}"
            continue
        if spec.numeric_option and word[1:].isdigit():
            continue
        letters = word[1:]
        for position, letter in enumerate(letters):
            if letter in spec.flags:
                continue
            kind = spec.short_values.get(letter)
            if kind is None:
                return f"{name} -{letter} is not known to be safe"
            if f"-{letter}" in spec.pattern_options:
                needs_pattern = False
            glued = letters[position + 1 :] or None
            why, index = _option_value(args, index, glued, kind, line)
            if why:
                return f"{name} -{letter}: {why}"
            break
    return _check_operands(spec, name, operands, needs_pattern, line)


def _option_value(
    args: list[Word], index: int, given: str | None, kind: Kind, line: _Line
) -> tuple[str | None, int]:
    """Check an option's value: ``given`` in the same word, else the next word (consumed).
    Gives why it is not safe (or ``None``) and where the next word is."""
    if given is None:
        if index >= len(args):
            return "it needs a value", index
        if args[index].glob:
            return f"{args[index].text} could expand to anything", index
        given = args[index].text
        index += 1
    return _value_ok(kind, given, line), index


def _check_operands(
    spec: Spec, name: str, operands: list[Word], needs_pattern: bool, line: _Line
) -> str | None:
    if needs_pattern and operands:
        if operands[0].glob:
            return f"the pattern {operands[0].text} could expand to file names"
        operands = operands[1:]  # the pattern: text, not a file
    if spec.operands is None and operands:
        return f"{name} takes no operands here"
    if spec.operands != "path" and any(op.glob for op in operands):
        return f"{name} would get file names where it expects text"
    if spec.max_operands is not None:
        if len(operands) > spec.max_operands:
            return f"{name} with {len(operands)} operands may write a file"
        if any(op.glob for op in operands):
            return f"{name} with a glob may get more operands and write a file"
    if spec.operands == "path":
        for operand in operands:
            why = _confined(operand.text, line)
            if why:
                return why
            if name == "diff" and any((cwd / operand.text).is_dir() for cwd in line.cwds):
                return "diff with a folder reads files of the other name inside it"
    return None


def _value_ok(kind: Kind, value: str, line: _Line) -> str | None:
    if kind == "num":
        return None if _NUMBER.fullmatch(value) else f"{value!r} is not a number"
    if kind == "word":
        return None if value.isalpha() else f"{value!r} is not a plain word"
    return _confined(value, line) if kind == "path" else None
