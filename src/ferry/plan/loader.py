"""Read a plan YAML file into a :class:`~ferry.plan.model.Plan`, reporting every
problem at once with its file, line and key."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ferry.errors import PlanError
from ferry.plan.model import Plan


def load_plan(path: str | Path) -> Plan:
    """Load and validate the plan at ``path``.

    Raises:
        PlanError: the file is missing, is not YAML, or breaks the schema;
            ``problems`` holds one ``file:line: key: message`` per problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read plan {path}: {exc.strerror}", hint="check the path") from None
    except UnicodeDecodeError as exc:
        raise PlanError(f"plan {path} is not UTF-8 text (byte {exc.start})",
                        hint="save the plan as UTF-8") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = f"{path}{line}: {getattr(exc, 'problem', exc)}"
        raise PlanError(f"plan {path} is not valid YAML", [problem], "fix the YAML syntax") from None
    duplicates = [f"{path}:{line}: {key}: duplicate key (an earlier value would be ignored)"
                  for key, line in _duplicate_keys(root)]
    if duplicates:
        raise PlanError(f"plan {path} has {len(duplicates)} problem(s)", duplicates,
                        "keep one of each key") from None
    if not isinstance(data, dict):
        raise PlanError(f"plan {path} must be a mapping of keys", [f"{path}:1: expected keys such as "
                                                                  "source, target, tables"])
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(path, root, err) for err in exc.errors()]
        raise PlanError(f"plan {path} has {len(problems)} problem(s)", problems,
                        "run `ferry plan-schema` to see every key") from None


def _duplicate_keys(node, prefix: str = ""):
    """``(dotted key, line)`` of every key that repeats within one mapping."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            name = f"{prefix}{key.value}"
            if key.value in seen:
                yield name, key.start_mark.line + 1
            seen.add(key.value)
            yield from _duplicate_keys(value, name + ".")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{prefix}{i}.")


def _problem(path: Path, root, err: dict) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    line = _line_of(root, loc)
    key = ".".join(str(p) for p in loc) or "(top)"
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key (a typo?)"
    return f"{path}:{line}: {key}: {message}"


def _line_of(node, loc: list) -> int:
    """The 1-based line of the deepest YAML node that ``loc`` reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node, part):
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
