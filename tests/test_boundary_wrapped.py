"""Every exported C function runs inside the panic boundary.

Parses rustlib/capi/src: the body of each `extern "C" fn` must call
`guard(` / `guard_value(` itself, or delegate (first statement) to a helper
whose own body does. A new export that forgets the boundary fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

CAPI = Path(__file__).resolve().parent.parent / "rustlib" / "capi" / "src"
EXPORT = re.compile(r'extern\s+"C"\s+fn\s+(\w+)\s*\(')
FN = re.compile(r"\bfn\s+(\w+)\s*(?:<[^>]*>)?\s*\(")


def _body(src: str, start: int) -> str:
    """The text of the `{...}` block that follows position `start`."""
    i = src.index("{", start)
    depth = 0
    for j in range(i, len(src)):
        if src[j] == "{":
            depth += 1
        elif src[j] == "}":
            depth -= 1
            if depth == 0:
                return src[i + 1 : j]
    raise AssertionError("unbalanced braces")


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def _functions() -> tuple[dict[str, str], dict[str, str]]:
    exports: dict[str, str] = {}
    helpers: dict[str, str] = {}
    for path in sorted(CAPI.glob("*.rs")):
        src = path.read_text()
        for m in FN.finditer(src):
            body = _strip_comments(_body(src, m.end()))
            helpers[m.group(1)] = body
        for m in EXPORT.finditer(src):
            exports[f"{path.name}:{m.group(1)}"] = _strip_comments(_body(src, m.end()))
    return exports, helpers


def _guarded(body: str, helpers: dict[str, str], depth: int = 0) -> bool:
    first = body.strip()
    if re.match(r"(crate::boundary::)?guard(_value)?\s*\(", first):
        return True
    # Delegation: `unsafe { helper(...) }` or `helper(...)` as the only statement.
    m = re.match(r"(?:unsafe\s*\{\s*)?([A-Za-z_]\w*)\s*\(", first)
    if m and depth < 3 and m.group(1) in helpers:
        return _guarded(helpers[m.group(1)], helpers, depth + 1)
    return False


def test_every_export_is_wrapped_by_the_boundary() -> None:
    exports, helpers = _functions()
    assert len(exports) >= 10, exports.keys()
    unguarded = [name for name, body in exports.items() if not _guarded(body, helpers)]
    assert unguarded == [], f"exports not wrapped in boundary::guard/guard_value: {unguarded}"


def test_checker_rejects_an_unwrapped_body() -> None:
    assert not _guarded("let x = 1; guard(|| Ok(()))", {})
    assert not _guarded("do_work(x)", {"do_work": "x + 1"})
    assert _guarded("unsafe { dot_body(a, b) }", {"dot_body": "guard(|| { Ok(()) })"})
