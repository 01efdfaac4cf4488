"""JSON rendered as text: one value per line, next to its field name, escapes decoded.

API responses and SDK configs carry claims in field names and values (`"minority_type": "维族/藏族"`),
often as \\uXXXX escapes that the detector would never see. Rendering is iterative, so arbitrarily
deep nesting cannot exhaust the stack.
"""

from __future__ import annotations

import json

_MAX_INDENT = 16  # deeper levels are not indented further (keeps deep nesting linear in size)


def parse_json(text: str):
    """The parsed value, or raise ValueError if `text` is not JSON (or too deeply nested)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def render(value) -> str:
    lines: list[str] = []
    # Stack of (value, key prefix, depth, trailing comma); containers push a closing marker.
    stack: list[tuple] = [("value", value, "", 0, "")]
    while stack:
        item = stack.pop()
        if item[0] == "close":
            _, text, depth = item
            lines.append(_indent(depth) + text)
            continue
        _, v, prefix, depth, comma = item
        pad = _indent(depth)
        if isinstance(v, dict) and v:
            lines.append(f"{pad}{prefix}{{")
            stack.append(("close", "}" + comma, depth))
            items = list(v.items())
            for n, (k, child) in reversed(list(enumerate(items))):
                key = json.dumps(str(k), ensure_ascii=False) + ": "
                stack.append(("value", child, key, depth + 1, "," if n < len(items) - 1 else ""))
        elif isinstance(v, list) and v:
            lines.append(f"{pad}{prefix}[")
            stack.append(("close", "]" + comma, depth))
            for n in range(len(v) - 1, -1, -1):
                stack.append(("value", v[n], "", depth + 1, "," if n < len(v) - 1 else ""))
        else:
            lines.append(f"{pad}{prefix}{json.dumps(v, ensure_ascii=False)}{comma}")
    return "\n".join(lines)


def _indent(depth: int) -> str:
    return "  " * min(depth, _MAX_INDENT)
