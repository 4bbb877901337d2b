"""``zpcisim explain NAME``: where a kernel function (or struct, or constant) of the C
tree lives in this one, which patches of the v17 series touch it, and which tests and
scenarios exercise it.

Everything is read from the source tree, not imported: the Python modules under
``kernel/`` and ``uapi/`` (their top-level definitions, and the C file each mirrors,
from the first line of its docstring), the patch files in ``series/`` (which function
each hunk's changed lines fall in, and which changed lines mention the name), and the
files under ``tests/`` and ``sim/scenarios/``.  ``series/`` and ``tests/`` exist only in
a source checkout; an installed package without one still answers the first question
and says that it cannot answer the others.

The same index serves ``tools/mapping.py``, which writes ``docs/mapping.md``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

__all__ = [
    "Definition",
    "Explanation",
    "ModuleInfo",
    "PatchFile",
    "PatchTouch",
    "SCENARIOS_BY_PATCH",
    "TestHit",
    "c_files_of",
    "changed_functions",
    "default_root",
    "explain",
    "find_definitions",
    "load_series",
    "main",
    "patches_touching",
    "render",
    "scan_modules",
    "scenarios_mentioning",
    "tests_mentioning",
]

#: The trees that mirror C code.
MIRROR_DIRS = ("kernel", "uapi")

#: Which scenario shows which patch (the end-to-end issue's table): patch -> scenarios.
SCENARIOS_BY_PATCH: dict[int, tuple[str, ...]] = {
    1: ("multifunction-reset", "passthrough-kvm"),
    2: ("inaccessible-reset", "passthrough-kvm"),
    3: ("inaccessible-reset", "passthrough-kvm"),
    4: ("passthrough-kvm", "passthrough-userspace", "queue-overflow", "perm-failure", "close-with-pending"),
    5: ("passthrough-kvm", "passthrough-userspace", "queue-overflow", "efault-lost-record"),
    6: ("passthrough-kvm",),
    7: ("ism-error-irq",),
}

_C_PATH = re.compile(r"[\w./+-]+\.[ch]\b")
_HEADER = re.compile(r"\A(?P<subject>[^\n]+)\nPorts: <(?P<msgid>[^>\n]+)>\n")
_DIFF = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(?P<context>.*)$")
_TOP_DEF = re.compile(r"^(?:async\s+)?def\s+(\w+)|^class\s+(\w+)")


def default_root() -> Path:
    """The directory that holds ``kernel/``, ``uapi/`` and ``sim/``: the checkout when
    run from one (or installed editable), the site-packages directory otherwise."""
    return Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- the Python tree


@attrs.frozen
class Definition:
    """A top-level name in one module: ``kind`` is function, struct or constant."""

    name: str
    kind: str
    path: str  # relative to the root, with '/'
    line: int
    #: A helper with no C counterpart: its docstring says it exists only in Python,
    #: or it is a ``@static_init`` initialiser (C initialises such state statically).
    python_only: bool = False

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")


@attrs.frozen
class ModuleInfo:
    path: str  # relative to the root, with '/'
    c_files: tuple[str, ...]  # from the docstring's first line; () if it names none
    definitions: tuple[Definition, ...]

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    @property
    def functions(self) -> tuple[Definition, ...]:
        return tuple(d for d in self.definitions if d.kind == "function")


def c_files_of(docstring: str | None) -> tuple[str, ...]:
    """The C files a module's docstring names on its first line, in order.

    ``"arch/s390/pci/pci_bus.c and pci_bus.h: ..."`` names two; a bare file name is
    taken to be in the directory of the path before it."""
    if not docstring:
        return ()
    first = docstring.strip().splitlines()[0]
    out: list[str] = []
    for m in _C_PATH.finditer(first):
        name = m.group(0).strip(".")
        if "/" not in name:
            if not out or "/" not in out[-1]:
                continue
            name = out[-1].rsplit("/", 1)[0] + "/" + name
        if name not in out:
            out.append(name)
    return tuple(out)


_PYTHON_ONLY = re.compile(r"only\s+in\s+Python|Python[\s-]only", re.I)


def _python_only(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for d in node.decorator_list:
        if isinstance(d, ast.Name) and d.id == "static_init":
            return True
    doc = ast.get_docstring(node)
    return bool(doc and _PYTHON_ONLY.search(doc))


def _definitions(tree: ast.Module, path: str) -> Iterator[Definition]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield Definition(node.name, "function", path, node.lineno, _python_only(node))
        elif isinstance(node, ast.ClassDef):
            yield Definition(node.name, "struct", path, node.lineno)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id != "__all__":
                    yield Definition(t.id, "constant", path, node.lineno)


def scan_modules(root: Path) -> list[ModuleInfo]:
    """Every module under ``kernel/`` and ``uapi/`` (``__init__.py`` left out), sorted
    by path, with its top-level definitions in file order."""
    out: list[ModuleInfo] = []
    for top in MIRROR_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*.py")):
            if f.name == "__init__.py":
                continue
            rel = f.relative_to(root).as_posix()
            tree = ast.parse(f.read_text(), filename=rel)
            out.append(ModuleInfo(rel, c_files_of(ast.get_docstring(tree)), tuple(_definitions(tree, rel))))
    return out


def find_definitions(name: str, modules: Sequence[ModuleInfo]) -> list[Definition]:
    return [d for m in modules for d in m.definitions if d.name == name]


# ---------------------------------------------------------------- the series


@attrs.frozen
class PatchFile:
    number: int
    filename: str
    subject: str
    msgid: str
    text: str


def load_series(root: Path) -> list[PatchFile] | None:
    """The patches of v17 (``root/series/v17``) in order, or None without a series directory."""
    d = root / "series" / "v17"
    if not d.is_dir():
        return None
    out: list[PatchFile] = []
    for f in sorted(d.glob("[0-9][0-9][0-9][0-9]-*.patch")):
        text = f.read_text()
        m = _HEADER.match(text)
        subject, msgid = (m["subject"], m["msgid"]) if m else (text.split("\n", 1)[0], "")
        out.append(PatchFile(int(f.name[:4]), f.name, subject, msgid, text))
    return out


def _hunks(patch_text: str) -> Iterator[tuple[str, str, list[str]]]:
    """(file, @@ context, lines of the hunk) for every hunk of a git diff."""
    path: str | None = None
    context = ""
    lines: list[str] = []
    in_hunk = False
    for raw in patch_text.splitlines():
        m = _DIFF.match(raw)
        if m:
            if in_hunk and path is not None:
                yield path, context, lines
            path, in_hunk, lines = m.group(2), False, []
            continue
        h = _HUNK.match(raw)
        if h and path is not None:
            if in_hunk:
                yield path, context, lines
            context, lines, in_hunk = h["context"], [], True
            continue
        if in_hunk and raw[:1] in (" ", "+", "-", ""):
            if raw.startswith(("+++ ", "--- ")) and not lines:
                continue
            lines.append(raw)
        elif in_hunk and raw.startswith("\\"):
            continue
        else:
            if in_hunk and path is not None:
                yield path, context, lines
            in_hunk, lines = False, []
    if in_hunk and path is not None:
        yield path, context, lines


def _top_name(code: str) -> str | None:
    m = _TOP_DEF.match(code)
    return (m.group(1) or m.group(2)) if m else None


def changed_functions(patch_text: str) -> dict[str, set[str]]:
    """For each file of the patch, the top-level functions and classes whose lines it
    adds or removes (a ``def`` line added or removed counts for that function).

    Within a hunk the enclosing definition starts as the one git names in the ``@@``
    context and changes at each top-level ``def``/``class`` line; any other line that
    starts in column 0 ends it (module-level code)."""
    out: dict[str, set[str]] = {}
    for path, context, lines in _hunks(patch_text):
        current = _top_name(context)
        for line in lines:
            tag, code = line[:1], line[1:]
            name = _top_name(code)
            if name is not None:
                current = name
            elif code[:1] not in ("", " ", "\t", ")", "]", "}") and code.strip():
                current = None
            if tag in "+-" and tag and code.strip() and current is not None:
                out.setdefault(path, set()).add(current)
    return out


@attrs.frozen
class PatchTouch:
    patch: PatchFile
    changed: tuple[str, ...]  # code files in which the patch changes the definition
    mentioned: tuple[str, ...]  # code files whose changed lines mention the name


def _is_code(path: str) -> bool:
    return path.startswith(tuple(d + "/" for d in MIRROR_DIRS))


def patches_touching(name: str, series: Sequence[PatchFile]) -> list[PatchTouch]:
    """The patches that change ``name``'s definition or whose added/removed code lines
    mention it (``kernel/`` and ``uapi/`` only: tests mention everything)."""
    word = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
    out: list[PatchTouch] = []
    for p in series:
        changed = sorted(f for f, names in changed_functions(p.text).items() if _is_code(f) and name in names)
        mentioned: set[str] = set()
        for path, _ctx, lines in _hunks(p.text):
            if _is_code(path) and any(ln[:1] in "+-" and ln[:1] and word.search(ln[1:]) for ln in lines):
                mentioned.add(path)
        if changed or mentioned:
            out.append(PatchTouch(p, tuple(changed), tuple(sorted(mentioned - set(changed)))))
    return out


# ---------------------------------------------------------------- tests and scenarios


@attrs.frozen
class TestHit:
    path: str
    tests: tuple[str, ...]  # the test functions (or fixtures) whose body names it
    lines: int  # how many lines name it


def _mentions(root: Path, under: str, name: str) -> list[TestHit]:
    base = root / under
    if not base.is_dir():
        return []
    word = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
    out: list[TestHit] = []
    for f in sorted(base.rglob("*.py")):
        text = f.read_text()
        if not word.search(text):
            continue
        enclosing: list[str] = []
        current: str | None = None
        count = 0
        for line in text.splitlines():
            top = _top_name(line)
            if top is not None:
                current = top
            elif line[:1] not in ("", " ", "\t", ")", "]", "}") and line.strip():
                current = None
            if word.search(line):
                count += 1
                if current is not None and current != name and current not in enclosing:
                    enclosing.append(current)
        out.append(TestHit(f.relative_to(root).as_posix(), tuple(enclosing), count))
    return out


def tests_mentioning(name: str, root: Path) -> list[TestHit] | None:
    """Test files under ``tests/`` that name ``name``, with the test functions that do;
    None without a tests directory."""
    if not (root / "tests").is_dir():
        return None
    return _mentions(root, "tests", name)


def scenarios_mentioning(name: str, root: Path) -> list[TestHit]:
    return _mentions(root, "sim/scenarios", name)


# ---------------------------------------------------------------- the answer


@attrs.frozen
class Explanation:
    name: str
    definitions: tuple[tuple[Definition, tuple[str, ...]], ...]  # with the module's C files
    patches: tuple[PatchTouch, ...] | None  # None: no series/ here
    tests: tuple[TestHit, ...] | None  # None: no tests/ here
    scenarios: tuple[TestHit, ...]
    similar: tuple[str, ...]  # close names, when nothing is defined under this one


def explain(name: str, root: Path | None = None) -> Explanation:
    root = default_root() if root is None else root
    modules = scan_modules(root)
    c_of = {m.path: m.c_files for m in modules}
    defs = tuple((d, c_of[d.path]) for d in find_definitions(name, modules))
    series = load_series(root)
    patches = None if series is None else tuple(patches_touching(name, series))
    tests = tests_mentioning(name, root)
    similar: tuple[str, ...] = ()
    if not defs:
        import difflib

        names = sorted({d.name for m in modules for d in m.definitions})
        similar = tuple(difflib.get_close_matches(name, names, n=5, cutoff=0.75))
    return Explanation(
        name,
        defs,
        patches,
        None if tests is None else tuple(tests),
        tuple(scenarios_mentioning(name, root)),
        similar,
    )


def _short(items: Sequence[str], limit: int = 6) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... ({len(items) - limit} more)"


def render(e: Explanation) -> str:
    out: list[str] = []
    if not e.definitions:
        out.append(f"{e.name}: not defined in kernel/ or uapi/.")
        removed_by = [t.patch.number for t in e.patches or () if t.changed]
        if removed_by:
            out.append(
                f"  The series removes it (patch {', '.join(map(str, removed_by))}); the tree before the "
                "series has it: python -m tools.series baseline DIR"
            )
        if e.similar:
            out.append("  Did you mean: " + ", ".join(e.similar) + "?")
    for d, c_files in e.definitions:
        c = " and ".join(c_files) if c_files else "no C file (Python-only module)"
        if d.python_only:
            c += " (a Python-only helper of that module: no C function of this name)"
        out.append(f"{e.name}: {d.kind} in {d.module} ({d.path}:{d.line}); C: {c}")
    out.append("")
    if e.patches is None:
        out.append("Patches: series/ is not here (an installed package, not a source checkout).")
    elif not e.patches:
        out.append("Patches: no patch of the v17 series changes or mentions it.")
    else:
        out.append("Patches of the v17 series (series/):")
        for t in e.patches:
            parts = []
            if t.changed:
                parts.append("changes it in " + ", ".join(t.changed))
            if t.mentioned:
                parts.append("mentions it in " + ", ".join(t.mentioned))
            out.append(f"  {t.patch.number}/7 {t.patch.subject}")
            out.append(f"      {'; '.join(parts)}")
            out.append(f"      series/v17/{t.patch.filename}  <{t.patch.msgid}>")
    out.append("")
    if e.tests is None:
        out.append("Tests: tests/ is not here (an installed package, not a source checkout).")
    elif not e.tests:
        out.append("Tests: none name it.")
    else:
        n = sum(len(h.tests) for h in e.tests)
        out.append(f"Tests that name it ({_count(n, 'function')} in {_count(len(e.tests), 'file')}):")
        for h in e.tests:
            out.append(f"  {h.path}: {_short(h.tests) if h.tests else f'{h.lines} lines (module level)'}")
    out.append("")
    if e.scenarios:
        out.append("Scenarios (sim/scenarios/) that name it:")
        for h in e.scenarios:
            out.append(f"  {h.path}: {_short(h.tests) if h.tests else f'{h.lines} lines'}")
    shown: dict[str, list[int]] = {}
    for t in e.patches or ():
        for s in SCENARIOS_BY_PATCH.get(t.patch.number, ()):
            shown.setdefault(s, []).append(t.patch.number)
    if shown:
        out.append("Scenarios that show the patches touching it (zpcisim run NAME / zpcisim compare NAME):")
        for s, nums in shown.items():
            out.append(f"  {s:22} patch {', '.join(map(str, nums))}")
    elif not e.scenarios:
        out.append("Scenarios: none name it, and no patch touches it.")
    return "\n".join(out)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: zpcisim explain NAME   (a C function, struct or constant name)", file=sys.stderr)
        return 2
    e = explain(args[0])
    print(render(e))
    return 0 if e.definitions else 1


if __name__ == "__main__":
    sys.exit(main())
