"""``zpcisim explain NAME``: where a kernel function (or struct, struct field, macro or
constant) of the C tree lives in this one, which patches touch it, and which tests and
scenario steps run it.

Everything is read from the source tree, not imported: the Python modules under
``kernel/`` and ``uapi/`` (their top-level definitions, the fields of their structs,
and the C file each mirrors, from the first line of its docstring), the patch files
of each series under ``series/`` (``series/v17/``, and ``series/mainline/`` once it
holds the merged series: which function each hunk's changed lines fall in, docstrings
left out, and which changed lines mention the name), and the execution index
``tests/executed.txt`` (written by ``python -m tools.index`` from a run of the test
suite): the tests whose body ran the function, and the scenarios and step numbers at
which it runs in ``zpcisim run NAME`` (apart, with them, those of runs with options
some test made: ``--errors 6`` has steps of its own).  An installed package reads the
series, the index and the test files from the copy the wheel ships in ``sim/_data/``
(:func:`sim.series.data_root`), so it answers as the checkout does; a package without
them still answers the first question and says that it cannot answer the others.

NAME is a C name as a reader has it: ``zpci_hot_reset_device``, ``struct zpci_dev``,
``struct zpci_ccdf_err {`` (copied from a patch), ``zdev->pending_errs_lock`` or
``pending_errs_lock`` (a field), ``PCI_SLOT``, ``zpci_hot_reset_device()``.

The answer is built once (:func:`explain`, the analysis) and printed by renderers,
each a function of it that returns its lines (:func:`render`), in at most ``width``
columns: 80 when stdout is not a terminal, as every ``zpcisim`` command.

The same scan serves ``tools/mapping.py``, which writes ``docs/mapping.md``.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from sim.series import data_root

__all__ = [
    "SERIES",
    "Definition",
    "Entry",
    "Explanation",
    "Field",
    "ModuleInfo",
    "PatchFile",
    "PatchTouch",
    "Query",
    "UsageError",
    "c_files_of",
    "changed_functions",
    "default_root",
    "explain",
    "find_definitions",
    "find_fields",
    "load_all_series",
    "load_series",
    "main",
    "parse_name",
    "parse_ranges",
    "patches_touching",
    "read_index",
    "render",
    "render_code",
    "render_home",
    "render_patches",
    "render_runs",
    "render_users",
    "scan_modules",
]

#: The trees that mirror C code.
MIRROR_DIRS = ("kernel", "uapi")

#: The series under ``series/``, in the order they are listed.
SERIES = ("v17", "mainline")
#: The execution index, relative to the root.
INDEX = "tests/executed.txt"

_C_PATH = re.compile(r"[\w./+-]+\.[ch]\b")
_HEADER = re.compile(
    r"\A(?P<subject>[^\n]+)\nPorts: <(?P<msgid>[^>\n]+)>\n(?:Commit: (?P<commit>[0-9a-f]+)\n)?"
)
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
    series: str = "v17"
    commit: str = ""  # the merged commit (mainline's ``Commit:`` line)
    total: int = 0  # how many patches the series has

    @property
    def label(self) -> str:
        """``v17 4/7``, ``mainline 4``."""
        if self.series == "v17":
            return f"v17 {self.number}/{self.total}"
        return f"{self.series} {self.number}"


def load_series(root: Path, series: str = "v17") -> list[PatchFile] | None:
    """The patches of a series (``root/series/NAME``) in order, or None without its
    directory."""
    d = root / "series" / series
    if not d.is_dir():
        return None
    files = sorted(d.glob("[0-9][0-9][0-9][0-9]-*.patch"))
    out: list[PatchFile] = []
    for f in files:
        text = f.read_text()
        m = _HEADER.match(text)
        subject, msgid = (m["subject"], m["msgid"]) if m else (text.split("\n", 1)[0], "")
        commit = (m["commit"] or "") if m else ""
        out.append(PatchFile(int(f.name[:4]), f.name, subject, msgid, text, series, commit, len(files)))
    return out


def load_all_series(root: Path) -> list[PatchFile] | None:
    """The patches of every series of :data:`SERIES` that is here, in order; None
    when ``series/`` is not here."""
    if not (root / "series").is_dir():
        return None
    return [p for name in SERIES for p in load_series(root, name) or ()]


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


_DOC_QUOTES = ('"""', "'''")


def changed_functions(patch_text: str) -> dict[str, set[str]]:
    """For each file of the patch, the top-level functions and classes whose lines it
    adds or removes (a ``def`` line added or removed counts for that function).

    Within a hunk the enclosing definition starts as the one git names in the ``@@``
    context and changes at each top-level ``def``/``class`` line; any other line that
    starts in column 0 ends it (module-level code).  A definition's docstring, when
    its ``def`` line is in the hunk, is not its body: a patch that only rewords a
    docstring does not change the function."""
    out: dict[str, set[str]] = {}
    for path, context, lines in _hunks(patch_text):
        current = _top_name(context)
        state = "body"  # after a def line: "sig" (to its ':'), "next" (docstring?), "doc"
        for line in lines:
            tag, code = line[:1], line[1:]
            changed = tag in ("+", "-") and bool(code.strip())
            name = _top_name(code)
            if name is not None:
                current = name
                state = "next" if code.rstrip().endswith(":") else "sig"
            elif code[:1] not in ("", " ", "\t", ")", "]", "}") and code.strip():
                current, state = None, "body"
            elif state == "sig":
                if code.rstrip().endswith(":"):
                    state = "next"
            elif state == "next" and code.strip():
                stripped = code.strip().removeprefix("r")
                if stripped.startswith(_DOC_QUOTES):
                    closed = stripped[3:].find(stripped[:3]) >= 0
                    state = "body" if closed else "doc"
                    continue
                state = "body"
            elif state == "doc":
                if any(q in code for q in _DOC_QUOTES):
                    state = "body"
                continue
            if changed and current is not None:
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


# ---------------------------------------------------------------- struct fields and users


@attrs.frozen
class Field:
    """A field of a struct: an attrs field (``name: type``) or a ctypes ``_fields_`` entry."""

    name: str
    struct: str
    path: str
    line: int


def _struct_fields(node: ast.ClassDef) -> Iterator[tuple[str, int]]:
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if not stmt.target.id.startswith("_"):
                yield stmt.target.id, stmt.lineno
        elif (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "_fields_" for t in stmt.targets)
            and isinstance(stmt.value, ast.List | ast.Tuple)
        ):
            for elt in stmt.value.elts:
                if (
                    isinstance(elt, ast.Tuple)
                    and elt.elts
                    and isinstance(elt.elts[0], ast.Constant)
                    and isinstance(elt.elts[0].value, str)
                ):
                    yield elt.elts[0].value, elt.lineno


def _trees(root: Path) -> Iterator[tuple[str, ast.Module]]:
    for top in MIRROR_DIRS:
        base = root / top
        if base.is_dir():
            for f in sorted(base.rglob("*.py")):
                if f.name != "__init__.py":
                    rel = f.relative_to(root).as_posix()
                    yield rel, ast.parse(f.read_text(), filename=rel)


def find_fields(name: str, root: Path, struct: str | None = None) -> list[Field]:
    """The structs (classes of ``kernel/`` and ``uapi/``) that have a field ``name``;
    only ``struct``'s when given."""
    out: list[Field] = []
    for rel, tree in _trees(root):
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and (struct is None or node.name == struct):
                out.extend(Field(f, node.name, rel, line) for f, line in _struct_fields(node) if f == name)
    return out


def _users(name: str, root: Path, attribute: bool) -> list[tuple[str, str]]:
    """The top-level functions whose code uses ``name``: as an attribute (``x.name``,
    a field) or as a name (a struct, a constant), as ``(path, function)``."""
    out: list[tuple[str, str]] = []
    for rel, tree in _trees(root):
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name == name:
                continue
            for sub in ast.walk(node):
                if (attribute and isinstance(sub, ast.Attribute) and sub.attr == name) or (
                    not attribute and isinstance(sub, ast.Name) and sub.id == name
                ):
                    out.append((rel, node.name))
                    break
    return out


# ---------------------------------------------------------------- the execution index


@attrs.frozen
class Entry:
    """What the execution index says of one function."""

    path: str
    function: str
    tests: tuple[tuple[str, tuple[str, ...]], ...]  # (test file, names | ("*",) | ("*", "except", ...))
    scenarios: tuple[tuple[str, tuple[int, ...]], ...]  # (scenario, steps; () between steps)


def parse_ranges(text: str) -> list[int]:
    """``"3 5-7"`` -> ``[3, 5, 6, 7]``."""
    out: list[int] = []
    for part in text.split():
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def read_index(path: Path) -> dict[tuple[str, str], Entry] | None:
    """``(file, function)`` -> its entry in the execution index; None without one."""
    if not path.is_file():
        return None
    out: dict[tuple[str, str], Entry] = {}
    cur: tuple[str, str] | None = None
    tests: list[tuple[str, tuple[str, ...]]] = []
    scenarios: list[tuple[str, tuple[int, ...]]] = []

    def flush() -> None:
        if cur is not None:
            out[cur] = Entry(cur[0], cur[1], tuple(tests), tuple(scenarios))

    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            flush()
            p, _, name = line.partition(" ")
            cur, tests, scenarios = (p, name), [], []
        elif line.startswith("  scenario "):
            sc, _, steps = line[len("  scenario ") :].partition(":")
            scenarios.append((sc, tuple(parse_ranges(steps))))
        else:
            p, _, names = line.strip().partition(" ")
            tests.append((p, tuple(names.split())))
    flush()
    return out


def _count_tests(root: Path, path: str) -> int:
    f = root / path
    if not f.is_file():
        return 0
    tree = ast.parse(f.read_text(), filename=path)
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            n += 1
    return n


# ---------------------------------------------------------------- the question


class UsageError(ValueError):
    """NAME is not something explain can look up: empty, blank or not a C name."""


@attrs.frozen
class Query:
    """A NAME as asked: ``name``; ``struct`` when asked as ``struct NAME``; ``owner``
    for ``owner->name`` / ``owner.name`` (a field)."""

    name: str
    struct: bool = False
    owner: str | None = None


_IDENT = r"[A-Za-z_]\w*"
_AS_STRUCT = re.compile(rf"(?:struct|union|enum)\s+({_IDENT})\s*(?:\{{|\*+\s*(?:{_IDENT})?|;|{_IDENT})?")
_AS_MEMBER = re.compile(rf"(?:&\s*)?({_IDENT})\s*(?:->|\.)\s*({_IDENT})")
_AS_CALL = re.compile(rf"({_IDENT})\s*\([^()]*\)\s*;?")


def parse_name(text: str) -> Query:
    """What ``zpcisim explain`` was asked; :class:`UsageError` for an empty, blank or
    unparsable NAME."""
    t = text.strip()
    if not t:
        raise UsageError("NAME is empty" if not text else "NAME is blank")
    if re.fullmatch(_IDENT, t) and t not in ("struct", "union", "enum"):
        return Query(t)
    m = _AS_STRUCT.fullmatch(t)
    if m:
        return Query(m[1], struct=True)
    m = _AS_MEMBER.fullmatch(t)
    if m:
        return Query(m[2], owner=m[1])
    m = _AS_CALL.fullmatch(t)
    if m:
        return Query(m[1])
    raise UsageError(f"{text!r} is not a C name (a function, 'struct NAME', a field, a macro or a constant)")


# ---------------------------------------------------------------- the answer


@attrs.frozen
class Explanation:
    query: Query
    definitions: tuple[tuple[Definition, tuple[str, ...]], ...]  # with the module's C files
    fields: tuple[tuple[Field, tuple[str, ...]], ...]
    users: tuple[tuple[str, str], ...]  # functions that use a field, struct or constant
    patches: tuple[PatchTouch, ...] | None  # None: no series/ here
    runs: tuple[Entry, ...] | None  # index entries of the functions; None: no index here
    similar: tuple[str, ...]  # close names, when nothing is defined under this one
    series_names: tuple[str, ...] = ("v17",)
    root: Path = attrs.field(factory=Path)
    #: Where ``series/`` and ``tests/`` are read (``root`` in a checkout).
    data: Path | None = None

    @property
    def name(self) -> str:
        return self.query.name

    @property
    def found(self) -> bool:
        return bool(self.definitions or self.fields)


def explain(name: str | Query, root: Path | None = None) -> Explanation:
    """Look ``name`` up (a NAME as :func:`parse_name` reads it); :class:`UsageError`
    when it is not one."""
    root = default_root() if root is None else root
    data = data_root(root)
    q = parse_name(name) if isinstance(name, str) else name
    modules = scan_modules(root)
    c_of = {m.path: m.c_files for m in modules}
    defs: tuple[tuple[Definition, tuple[str, ...]], ...] = ()
    fields: tuple[tuple[Field, tuple[str, ...]], ...] = ()
    if q.owner is None:
        found = find_definitions(q.name, modules)
        if q.struct:
            found = [d for d in found if d.kind == "struct"]
        defs = tuple((d, c_of[d.path]) for d in found)
    if not defs and not q.struct:
        owner = q.owner if q.owner and find_definitions(q.owner, modules) else None
        fields = tuple((f, c_of[f.path]) for f in find_fields(q.name, root, owner))
    users: list[tuple[str, str]] = []
    if fields:
        users = _users(q.name, root, attribute=True)
    elif defs and all(d.kind != "function" for d, _ in defs):
        users = _users(q.name, root, attribute=False)
    series = load_all_series(data)
    patches = None if series is None else tuple(patches_touching(q.name, series))
    index = read_index(data / INDEX)
    runs: tuple[Entry, ...] | None = None
    if index is not None:
        keys = [(d.path, d.name) for d, _ in defs if d.kind == "function"]
        runs = tuple(index[k] for k in keys if k in index)
    similar: tuple[str, ...] = ()
    if not defs and not fields:
        import difflib

        names = sorted({d.name for m in modules for d in m.definitions})
        similar = tuple(difflib.get_close_matches(q.name, names, n=5, cutoff=0.75))
    here = tuple(s for s in SERIES if (data / "series" / s).is_dir())
    return Explanation(q, defs, fields, tuple(users), patches, runs, similar, here or ("v17",), root, data)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


#: The width of the answer when no other is asked for (a pipe's, as ``zpcisim``'s).
WIDTH = 80


def _fit(text: str, width: int, indent: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, continued ``indent`` columns in;
    a word longer than a line stands alone on its line, never split (an identifier or
    a path stays whole: sim/cli.py's rule)."""
    import textwrap

    return textwrap.wrap(
        text,
        width=width,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [text.rstrip()]


def _wrap(head: str, items: Sequence[str], width: int) -> list[str]:
    """``head`` then the items, comma-separated, continued on indented lines."""
    return _fit(head + ", ".join(items), width, 4)


def _steps(steps: Sequence[int]) -> str:
    if not steps:
        return "runs between steps (at none of its own)"
    parts: list[str] = []
    for n in steps:
        if parts and parts[-1].split("-")[-1] == str(n - 1):
            parts[-1] = parts[-1].split("-")[0] + f"-{n}"
        else:
            parts.append(str(n))
    return ("step " if len(steps) == 1 else "steps ") + ", ".join(parts)


def _source(root: Path, path: str, line: int, width: int = WIDTH) -> list[str]:
    """The Python source of the definition starting at ``path:line``, numbered; a line
    too long for ``width`` continues 4 columns further in than it starts."""
    text = (root / path).read_text()
    tree = ast.parse(text, filename=path)
    lines = text.splitlines()
    span = (line, line)
    for node in ast.walk(tree):
        first = getattr(node, "lineno", None)
        if isinstance(node, ast.stmt) and first is not None:
            decorators = getattr(node, "decorator_list", [])
            start = min([first] + [d.lineno for d in decorators])
            if first == line or start == line:
                span = (start, node.end_lineno or first)
                break
    out: list[str] = []
    for n in range(span[0], span[1] + 1):
        code = lines[n - 1]
        lead = len(code) - len(code.lstrip())
        out.extend(_fit(f"{n:5d}  {code}", width, 7 + lead + 4))
    return out


def render(e: Explanation, *, code: bool = False, width: int = WIDTH) -> str:
    """The answer as ``zpcisim explain`` prints it, in lines of at most ``width``
    columns (a word longer than a line stands alone): each part from its own renderer."""
    parts = [
        render_home(e, width),
        render_users(e, width),
        render_patches(e, width),
        render_runs(e, width),
        render_code(e, width) if code else [],
    ]
    return "\n".join(line for part in parts for line in part)


def _asked(q: Query) -> str:
    return f"struct {q.name}" if q.struct else q.name


def render_home(e: Explanation, width: int = WIDTH) -> list[str]:
    """Where NAME is defined (or that it is not, and what is close)."""
    out: list[str] = []
    q = e.query
    asked = _asked(q)
    if not e.found:
        where = "a field of a struct" if q.owner else ("a struct" if q.struct else "defined")
        out.extend(_fit(f"{asked}: not {where} in kernel/ or uapi/.", width, 2))
        removed_by = [t.patch.label for t in e.patches or () if t.changed]
        if removed_by:
            out.extend(
                _fit(
                    f"  The series removes it ({', '.join(removed_by)}); the tree before the "
                    "series has it: python -m tools.series tree baseline DIR",
                    width,
                    4,
                )
            )
        if e.similar:
            out.extend(_fit("  Did you mean: " + ", ".join(e.similar) + "?", width, 4))
    for d, c_files in e.definitions:
        c = " and ".join(c_files) if c_files else "no C file (Python-only module)"
        if d.python_only:
            c += " (a Python-only helper of that module: no C function of this name)"
        kind = "struct" if d.kind == "struct" else d.kind
        out.extend(_fit(f"{asked}: {kind} in {d.module} ({d.path}:{d.line}); C: {c}", width, 2))
    for f, c_files in e.fields:
        c = " and ".join(c_files) if c_files else "no C file (Python-only module)"
        out.extend(_fit(f"{q.name}: a field of struct {f.struct} ({f.path}:{f.line}); C: {c}", width, 2))
    return out


def render_users(e: Explanation, width: int = WIDTH) -> list[str]:
    """The functions that use a field, struct or constant."""
    if not e.users:
        return []
    what = "Functions that use the field" if e.fields else "Functions that use it"
    out = ["", *_fit(f"{what} ({len(e.users)}):", width, 2)]
    by_file: dict[str, list[str]] = {}
    for path, fn in e.users:
        by_file.setdefault(path, []).append(fn)
    for path, fns in by_file.items():
        out.extend(_wrap(f"  {path}: ", fns, width))
    return out


def render_patches(e: Explanation, width: int = WIDTH) -> list[str]:
    """The patches of each series here that change or mention NAME."""
    out = [""]
    series = " or ".join(e.series_names)
    if e.patches is None:
        out.extend(
            _fit("Patches: series/ is not here (an installed package, not a source checkout).", width, 2)
        )
    elif not e.patches:
        out.extend(_fit(f"Patches: no patch of {series} changes or mentions it.", width, 2))
    else:
        out.extend(_fit(f"Patches ({series}, series/):", width, 2))
        for t in e.patches:
            parts = []
            if t.changed:
                parts.append("changes it in " + ", ".join(t.changed))
            if t.mentioned:
                parts.append("mentions it in " + ", ".join(t.mentioned))
            out.extend(_fit(f"  {t.patch.label} {t.patch.subject}", width, 6))
            out.extend(_fit(f"      {'; '.join(parts)}", width, 8))
            # the file by its number: the name (the subject, above) does not fit 80 columns
            where = f"series/{t.patch.series}/{t.patch.number:04d}-*.patch"
            commit = f"  commit {t.patch.commit}" if t.patch.commit else ""
            out.extend(_fit(f"      {where}  <{t.patch.msgid}>{commit}", width, 6))
    return out


def render_code(e: Explanation, width: int = WIDTH) -> list[str]:
    """The Python source of each definition and field (``--code``)."""
    out: list[str] = []
    for d, _ in e.definitions:
        out.extend(["", f"{d.path}:", *_source(e.root, d.path, d.line, width)])
    for f, _ in e.fields:
        out.extend(["", f"{f.path}:", *_source(e.root, f.path, f.line, width)])
    return out


def render_runs(e: Explanation, width: int = WIDTH) -> list[str]:
    """The tests and scenario steps that run NAME, from the execution index."""
    functions = [d for d, _ in e.definitions if d.kind == "function"]
    if not functions:
        return []
    out = [""]
    if e.runs is None:
        text = f"Tests: {INDEX} is not here (python -m tools.index writes it, in a source checkout)."
        return out + _fit(text, width, 2)
    if all(d.path.startswith("kernel/lib/") for d in functions):
        text = f"Tests: kernel/lib/ (the infrastructure the ported code calls) is not in {INDEX}."
        return out + _fit(text, width, 2)
    tests: list[str] = []
    n = 0
    for entry in e.runs:
        for path, names in entry.tests:
            if names[:1] == ("*",):
                total = _count_tests(e.data or e.root, path)
                but = names[2:]
                n += total - len(but)
                text = f"every test ({total})" + (f" but {', '.join(but)}" if but else "")
                tests.extend(_wrap(f"  {path}: ", [text], width))
            else:
                n += len(names)
                tests.extend(_wrap(f"  {path}: ", names, width))
    if tests:
        files = sum(len(entry.tests) for entry in e.runs)
        head = f"Tests that run it ({_count(n, 'test')} in {_count(files, 'file')}; from {INDEX}):"
        out.extend(_fit(head, width, 2))
        out.extend(tests)
    else:
        out.extend(_fit(f"Tests: none runs it ({INDEX}).", width, 2))
    out.append("")
    runs = [(run, steps) for entry in e.runs for run, steps in entry.scenarios]
    plain = [(run, steps) for run, steps in runs if " " not in run]
    chosen = [(run, steps) for run, steps in runs if " " in run]
    if plain:
        out.extend(_fit("Scenarios that run it (steps as zpcisim run NAME numbers them):", width, 2))
        for run, steps in plain:
            out.extend(_run_steps(run, steps, width))
    else:
        out.append("Scenarios: none runs it." if not chosen else "Scenarios: none runs it without options.")
    if chosen:
        # a run with other errors has other steps: never mixed into the numbers above
        out.append("")
        out.extend(
            _fit("Runs with options a test chose (as zpcisim run NAME OPTIONS numbers them):", width, 2)
        )
        for run, steps in chosen:
            out.extend(_run_steps(run, steps, width))
    return out


def _run_steps(run: str, steps: Sequence[int], width: int) -> list[str]:
    """A run and its steps, the steps in their column (under it when the run's name
    and options do not leave room)."""
    if len(run) > 22:
        return [f"  {run}", *_fit(f"{'':25}{_steps(steps)}", width, 25)]
    return _fit(f"  {run:22} {_steps(steps)}", width, 25)


USAGE = "usage: zpcisim explain [--code] NAME   (a C function, struct NAME, a field, a macro or a constant)"


def main(argv: Sequence[str] | None = None, width: int | None = None) -> int:
    """``zpcisim explain [--code] NAME``; ``width`` is ``zpcisim --width``'s (None:
    the terminal's, :data:`WIDTH` when stdout is not one, as sim.cli.output_width)."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = "--code" in args
    names = [a for a in args if a != "--code"]
    if len(names) != 1 or names[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        e = explain(names[0])
    except UsageError as err:
        print(f"zpcisim explain: {err}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    if width is None:
        from sim.cli import output_width

        width = output_width(None)
    try:
        print(render(e, code=code, width=width), flush=True)
    except BrokenPipeError:  # the reader went away (| head): quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0 if e.found else 1


if __name__ == "__main__":
    sys.exit(main())
