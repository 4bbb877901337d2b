"""A recorded run as a Mermaid sequence diagram (Markdown that GitHub renders).

One participant per actor that took part, in the order firmware, host, qemu, guest,
user-driver, admin; one arrow or note per step, numbered as ``zpcisim run`` numbers it:

* a firmware ``event`` is an arrow firmware -> host; the VMM's ``event`` (an error
  it injects into its guest) an arrow qemu -> guest;
* a ``clp`` step of the firmware or the host (the host kernel's CLP and MPCIFC
  calls) an arrow host -> firmware; one of the guest or the VMM (the guest's CLP,
  which the VMM intercepts) an arrow guest -> qemu;
* an ``ioctl`` an arrow from the program to the host (to the VMM for the guest); a
  program's ``close`` of a device file an arrow to the host, ``close PATH``;
* the host's eventfd signal an arrow host -> the program that waits (the VMM if it
  takes part, else the user driver);
* the administrator's ``sysfs`` write an arrow admin -> host;
* everything else (log lines, resets, reads of an eventfd, notes) a note over its
  actor.

Mermaid treats ``;`` and ``#`` in a message as syntax, and ``<``/``>``/quotes can
break the HTML it renders: they are written as Mermaid entity codes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from sim.timeline import ACTORS, Step

__all__ = ["escape", "mermaid"]

_IDS: Final = {actor: actor.replace("-", "_") for actor in ACTORS}
_ENTITIES: Final = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", '"': "#quot;"}
_SPECIAL: Final = re.compile('[#;<>"]')


def escape(text: str) -> str:
    """``text`` made safe for a Mermaid message or note."""
    out = text.replace("\r", " ").replace("\n", " ")
    return _SPECIAL.sub(lambda m: _ENTITIES[m.group(0)], out)


def _line(step: Step, waiter: str | None) -> str:
    a = _IDS[step.actor]
    what = f"close {step.text}" if step.kind == "close" else step.text
    text = f"{step.label}. {escape(what)}"
    if step.kind == "event" and step.actor == "firmware":
        return f"    firmware->>host: {text}"
    if step.kind == "event" and step.actor == "qemu":
        return f"    qemu->>guest: {text}"
    if step.kind == "clp" and step.actor == "host":
        return f"    host->>firmware: {text}"
    if step.kind == "clp" and step.actor in ("guest", "qemu"):
        return f"    guest->>qemu: {text}"
    if step.kind == "clp" and step.actor == "firmware":
        return f"    host->>firmware: {text}"
    if step.kind == "ioctl":
        target = "qemu" if step.actor == "guest" else "host"
        if step.actor != target:
            return f"    {a}->>{target}: {text}"
    if step.kind == "close" and step.actor in ("qemu", "user-driver"):
        return f"    {a}->>host: {text}"
    if step.kind == "sysfs" and step.actor == "admin":
        return f"    admin->>host: {text}"
    if step.kind == "irq" and step.actor == "host" and waiter is not None:
        return f"    host-){_IDS[waiter]}: {text}"
    return f"    Note over {a}: {text}"


def _participants(steps: Sequence[Step]) -> list[str]:
    used = {s.actor for s in steps}
    # arrows name their targets: make sure those are declared too
    for s in steps:
        if s.kind in ("event", "clp") and s.actor == "firmware":
            used.add("host")
        if s.kind == "clp" and s.actor in ("host", "firmware"):
            used.add("firmware")
        if s.kind == "ioctl" or (s.kind == "close" and s.actor in ("qemu", "user-driver")):
            used.add("qemu" if s.actor == "guest" else "host")
        if s.kind == "clp" and s.actor in ("guest", "qemu"):
            used.update(("guest", "qemu"))
        if s.kind == "event" and s.actor == "qemu":
            used.add("guest")
        if s.kind == "sysfs":
            used.add("host")
    return [a for a in ACTORS if a in used]


def mermaid(steps: Sequence[Step], title: str | None = None) -> str:
    """The Markdown text: an optional heading and a ```` ```mermaid ```` block."""
    actors = _participants(steps)
    waiter = "qemu" if "qemu" in actors else ("user-driver" if "user-driver" in actors else None)
    lines: list[str] = []
    if title:
        lines += [f"# {title}", ""]
    lines += ["```mermaid", "sequenceDiagram"]
    for actor in actors:
        ident = _IDS[actor]
        lines.append(f"    participant {ident}" if ident == actor else f"    participant {ident} as {actor}")
    for step in steps:
        lines.append(_line(step, waiter))
    lines += ["```", ""]
    return "\n".join(lines)
