"""Write ``docs/mapping.md``: C file / C function -> Python module / function.

The table is generated from the code, never written by hand:

- every module under ``kernel/`` and ``uapi/`` names the C file it mirrors on the
  first line of its docstring; its path should be the one the path convention
  (shared/CONVENTIONS.md: strip ``drivers/`` or ``arch/``, put the rest under
  ``kernel/``; ``include/uapi/`` goes to ``uapi/``) gives for that file, and where it
  is not the table says so.  ``kernel/lib/`` (the kernel infrastructure the ported
  code calls) is left out: it is not ported code, and it grows with the tools;
- the functions are listed in file order, each marked with the patches of
  ``series/`` that change it;
- :data:`SCOPE` is the list of C functions the port issues name, plus the helpers the
  series adds.  Each must have a Python counterpart, and the table marks them.

Commands::

    python -m tools.mapping            # rewrite docs/mapping.md
    python -m tools.mapping --check    # exit 1 if docs/mapping.md is stale or a scope function is missing

``tests/tools/test_mapping.py`` runs the check.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.explain import ModuleInfo, changed_functions, load_series, scan_modules

ROOT = Path(__file__).resolve().parent.parent
DOC = Path("docs/mapping.md")

#: The C functions in scope, by the C file that defines them: the functions the port
#: issues list (issue 3: PCI core; issue 4: s390 zPCI; issue 5: vfio-pci and the uAPI)
#: and the new helpers of the series (issue 6).  Function-like macros count as
#: functions.  ``is_passed_through`` is not here: v17 4/7 removes it.
SCOPE: dict[str, tuple[str, ...]] = {
    # issue 3 -------------------------------------------------------------------
    "include/linux/pci.h": (
        "PCI_POSSIBLE_ERROR",
        "pci_channel_offline",
        "pci_dev_is_disconnected",
        "pci_name",
    ),
    "include/uapi/linux/pci.h": ("PCI_DEVFN", "PCI_SLOT", "PCI_FUNC"),
    "drivers/pci/slot.c": (
        "address_read_file",
        "pci_slot_release",
        "make_slot_name",
        "rename_slot",
        "get_slot",
        "pci_dev_assign_slot",
        "pci_create_slot",
        "pci_destroy_slot",
        # v17 1/7
        "pci_dev_matches_slot",
        "pci_slot_enabled_per_func",
    ),
    "drivers/pci/pci.c": (
        "pci_save_state",
        "pci_restore_state",
        "pci_store_saved_state",
        "pci_load_saved_state",
        "pcie_flr",
        "pcie_reset_flr",
        "pci_af_flr",
        "pci_pm_reset",
        "pci_reset_hotplug_slot",
        "pci_dev_reset_slot_function",
        "pci_parent_bus_reset",
        "pci_reset_bus_function",
        "pci_init_reset_methods",
        "__pci_reset_function_locked",
        "pci_dev_save_and_disable",
        "pci_dev_restore",
        "pci_reset_function",
        "pci_try_reset_function",
        "pci_dev_lock",
        "pci_dev_trylock",
        "pci_dev_unlock",
        "pci_slot_lock",
        "pci_slot_unlock",
        "pci_slot_reset",
        "pci_reset_bus",
        # v17 2/7 and 3/7
        "pci_dev_config_accessible",
    ),
    "drivers/pci/access.c": ("pci_read_config_dword", "pci_write_config_dword"),
    "drivers/pci/hotplug/pci_hotplug_core.c": ("pci_hp_register",),
    "drivers/pci/hotplug/rpaphp_slot.c": ("rpaphp_register_slot",),
    "drivers/pci/hotplug/s390_pci_hpc.c": (
        "enable_slot",
        "disable_slot",
        "reset_slot",
        "zpci_init_slot",
        "zpci_exit_slot",
    ),
    # issue 4 -------------------------------------------------------------------
    "arch/s390/include/asm/pci.h": ("zdev_enabled", "to_zpci"),
    "arch/s390/pci/pci_event.c": (
        "ers_result_indicates_abort",
        "is_driver_supported",
        "zpci_event_notify_error_detected",
        "zpci_event_do_error_state_clear",
        "zpci_event_do_reset",
        "zpci_event_attempt_error_recovery",
        "zpci_event_io_failure",
        "__zpci_event_error",
        "zpci_event_error",
        "zpci_event_hard_deconfigured",
        "zpci_event_reappear",
        "__zpci_event_availability",
        "zpci_event_availability",
        # v17 4/7 and 5/7
        "zpci_store_pci_error",
        "zpci_get_pending_error",
        "zpci_start_mediated_recovery",
        "zpci_stop_mediated_recovery",
    ),
    "drivers/pci/pci-driver.c": ("pci_uevent_ers",),
    "arch/s390/pci/pci_report.c": ("zpci_report_status",),
    "arch/s390/pci/pci.c": (
        "get_zdev_by_fid",
        "zpci_create_device",
        "zpci_add_device",
        "zpci_enable_device",
        "zpci_disable_device",
        "zpci_reenable_device",
        "zpci_hot_reset_device",
        "zpci_update_fh",
        "zpci_clear_error_state",
        "zpci_reset_load_store_blocked",
        "zpci_report_error",
    ),
    "arch/s390/pci/pci_bus.h": ("zpci_zdev_get", "zpci_zdev_put"),
    "arch/s390/pci/pci_clp.c": ("clp_enable_fh", "clp_disable_fh", "clp_refresh_fh", "clp_query_pci_fn"),
    "arch/s390/pci/pci_insn.c": ("zpci_mod_fc",),
    # issue 5 -------------------------------------------------------------------
    "include/linux/vfio.h": ("vfio_check_feature",),
    "drivers/vfio/vfio_main.c": ("vfio_ioctl_device_feature", "vfio_device_fops_unl_ioctl"),
    "drivers/vfio/pci/vfio_pci_core.c": (
        "vfio_pci_core_enable",
        "vfio_pci_core_disable",
        "vfio_pci_get_irq_count",
        "vfio_pci_ioctl_get_info",
        "vfio_pci_ioctl_get_irq_info",
        "vfio_pci_ioctl_set_irqs",
        "vfio_pci_ioctl_reset",
        "vfio_pci_core_ioctl",
        "vfio_pci_core_ioctl_feature",
        "vfio_pci_core_aer_err_detected",
        "vfio_pci_eventfd_replace_locked",
        # v17 6/7
        "vfio_pci_core_aer_reset_done",
    ),
    "drivers/vfio/pci/vfio_pci_intrs.c": (
        "vfio_pci_set_ctx_trigger_single",
        "vfio_pci_set_err_trigger",
        "vfio_pci_set_req_trigger",
        "vfio_pci_set_irqs_ioctl",
    ),
    "drivers/vfio/pci/vfio_pci_zdev.c": (
        "vfio_pci_info_zdev_add_caps",
        "vfio_pci_zdev_open_device",
        "vfio_pci_zdev_close_device",
        # v17 5/7
        "vfio_pci_zdev_feature_err",
    ),
}


def convention_path(c_file: str) -> str:
    """Where the path convention puts a C file's Python module."""
    stem = c_file.rsplit(".", 1)[0]
    if stem.startswith("include/uapi/"):
        return stem.removeprefix("include/").replace("asm-generic", "asm_generic") + ".py"
    for prefix in ("drivers/", "arch/"):
        if stem.startswith(prefix):
            return "kernel/" + stem.removeprefix(prefix).replace("-", "_") + ".py"
    return "kernel/" + stem.replace("-", "_") + ".py"


def _is_lib(m: ModuleInfo) -> bool:
    return m.path.startswith("kernel/lib/")


def scope_homes(modules: Sequence[ModuleInfo]) -> dict[tuple[str, str], str | None]:
    """For each (C file, function) of :data:`SCOPE`, the Python module path that
    defines the function: the module mirroring that C file if it has it, else any
    module that defines it, else None."""
    out: dict[tuple[str, str], str | None] = {}
    for c_file, names in SCOPE.items():
        mirrors = [m for m in modules if c_file in m.c_files]
        for name in names:
            home = next((m.path for m in mirrors if any(f.name == name for f in m.functions)), None)
            if home is None:
                home = next((m.path for m in modules if any(f.name == name for f in m.functions)), None)
            out[(c_file, name)] = home
    return out


def missing_scope(modules: Sequence[ModuleInfo]) -> list[str]:
    return [f"{c}: {n}" for (c, n), home in scope_homes(modules).items() if home is None]


def _patch_marks(root: Path) -> dict[tuple[str, str], list[str]]:
    """(module path, function) -> the marks of the patches that change it: ``N/7`` for
    v17, ``mlN`` for commit N of the series as merged (series/mainline)."""
    marks: dict[tuple[str, str], list[str]] = {}
    for series, label in (("v17", "{n}/7"), ("mainline", "ml{n}")):
        for p in load_series(root, series) or ():
            for path, names in changed_functions(p.text).items():
                for name in names:
                    marks.setdefault((path, name), []).append(label.format(n=p.number))
    return marks


def generate(root: Path = ROOT) -> str:
    modules = scan_modules(root)
    homes = scope_homes(modules)
    in_scope = {(home, n) for (_c, n), home in homes.items() if home is not None}
    elsewhere = {
        (c, n): home for (c, n), home in homes.items() if home is not None and c not in _c_of(modules, home)
    }
    marks = _patch_marks(root)
    ported = [m for m in modules if m.c_files and not _is_lib(m)]
    other = [m for m in modules if not m.c_files and not _is_lib(m)]

    out: list[str] = [
        "# Where each C function is: C file / function -> Python module / function",
        "",
        "<!-- Generated by `python -m tools.mapping` from the code; do not edit by hand. "
        "tests/tools/test_mapping.py fails when this file is stale. -->",
        "",
        "Every module under `kernel/` and `uapi/` mirrors one C file (Linux 7.1-rc4 with the v17",
        "series) and names it on the first line of its docstring.  Functions keep their C names",
        "and their order in the file, so the Python function is the C function's name in the module",
        "below.  Marks:",
        "",
        "- **in scope**: a function the port issues name, or a helper the series adds",
        "  (the list is `SCOPE` in [tools/mapping.py](../tools/mapping.py));",
        "- **N/7**: patch N of the v17 series changes the function (its Python diff is",
        "  `series/v17/000N-*.patch`; see [patches/](patches/));",
        "- **mlN**: commit N of the series as merged for Linux 7.3 changes it (its Python diff",
        "  is `series/mainline/000N-*.patch`; see [mainline.md](mainline.md)).",
        "",
        "Functions whose C definition is in another file than the module's are listed under",
        "the C file with a note.  `zpcisim explain NAME` gives the line, the patches, the tests and",
        "the scenarios for one name.  Rows marked *(Python only)* are helpers of the port with",
        "no C function of that name (a static initialiser, the body of a C macro, a `goto` label).",
        "The kernel infrastructure the ported code calls (`kernel/lib/`: locks, printk, eventfd, ...)",
        "is not listed: one module per header, named in each module's docstring.",
        "",
        "## Contents",
        "",
    ]
    for m in ported:
        out.append(f"- [{m.c_files[0]}](#{_anchor(m)}) -> `{m.path}`")
    if other:
        out.append("- [Modules that mirror no C file](#modules-that-mirror-no-c-file)")
    out.append("")
    for m in ported:
        out.extend(_section(m, in_scope, marks))
    if elsewhere:
        out.append("## In scope, defined in another module than its C file's")
        out.append("")
        out.append("| C file | C function | Python |")
        out.append("|---|---|---|")
        for (c, n), home in sorted(elsewhere.items()):
            mod = home.removesuffix(".py").replace("/", ".")
            out.append(f"| `{c}` | `{n}` | `{mod}.{n}` |")
        out.append("")
    if other:
        out.append("## Modules that mirror no C file")
        out.append("")
        for m in other:
            out.append(f"- [`{m.module}`](../{m.path})")
        out.append("")
    return "\n".join(out)


def _c_of(modules: Sequence[ModuleInfo], path: str) -> tuple[str, ...]:
    return next(m.c_files for m in modules if m.path == path)


def _anchor(m: ModuleInfo) -> str:
    # GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped,
    # spaces to '-'.  The heading is "<c file> -> <module path>".
    text = f"{m.c_files[0]} -> {m.path}".lower()
    return "".join(ch for ch in text if ch.isalnum() or ch in " -_").replace(" ", "-")


def _section(
    m: ModuleInfo, in_scope: set[tuple[str, str]], marks: dict[tuple[str, str], list[str]]
) -> list[str]:
    out = [f"## {m.c_files[0]} -> {m.path}", ""]
    notes = []
    if len(m.c_files) > 1:
        notes.append("mirrors " + ", ".join(f"`{c}`" for c in m.c_files))
    expected = convention_path(m.c_files[0])
    if expected != m.path:
        notes.append(f"the path convention would say `{expected}`")
    link = f"[`{m.module}`](../{m.path})"
    out.append(link + (" (" + "; ".join(notes) + ")" if notes else ""))
    out.append("")
    if not m.functions:
        out.append("Types and constants only.")
        out.append("")
        return out
    out.append("| C function | Python | marks |")
    out.append("|---|---|---|")
    for f in m.functions:
        mark = []
        if (m.path, f.name) in in_scope:
            mark.append("**in scope**")
        mark.extend(marks.get((m.path, f.name), ()))
        c_name = "(Python only)" if f.python_only else f"`{f.name}`"
        out.append(f"| {c_name} | `{m.module}.{f.name}` | {' '.join(mark)} |")
    out.append("")
    return out


def check(root: Path = ROOT) -> list[str]:
    """Problems: scope functions without a Python counterpart, and a stale table."""
    problems = [f"no Python counterpart for {x}" for x in missing_scope(scan_modules(root))]
    doc = root / DOC
    if not doc.exists() or doc.read_text() != generate(root) + "\n":
        problems.append(f"{DOC} is stale: regenerate it with `python -m tools.mapping` and commit it")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.mapping", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="check docs/mapping.md instead of writing it")
    ns = p.parse_args(argv)
    if ns.check:
        problems = check()
        for x in problems:
            print(f"mapping: {x}", file=sys.stderr)
        return 1 if problems else 0
    missing = missing_scope(scan_modules(ROOT))
    (ROOT / DOC).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / DOC).write_text(generate() + "\n")
    print(f"wrote {DOC}")
    for x in missing:
        print(f"mapping: no Python counterpart for {x}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
