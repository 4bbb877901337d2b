"""tests/mainline/: the series as merged for Linux 7.3 (PCI v21 + VFIO v20), and what
its automated review found that nobody answered (docs/mainline.md, "Findings").

These tests run only on the merged tree; on any other tree (main is baseline + v17)
every test here is skipped.  Run them with::

    python -m tools.series tree mainline /tmp/m && cd /tmp/m && PYTHONPATH=. python -m pytest tests/mainline

The merged tree is recognised by its uAPI: ``struct vfio_device_feature_zpci_err`` is
one field, ``data`` (the opaque-buffer pointer of VFIO v20 2/3); in v17 it is the
72-byte decoded record.
"""

from __future__ import annotations

import importlib

import pytest


def is_merged_tree() -> bool:
    """Is this tree the series as merged (mainline), not the baseline or v17?"""
    try:
        vfio = importlib.import_module("uapi.linux.vfio")
    except ImportError:
        return False
    err = getattr(vfio, "vfio_device_feature_zpci_err", None)
    fields = getattr(err, "_fields_", None)
    if not fields:
        return False
    return [f[0] for f in fields] == ["data"]


@pytest.fixture(autouse=True)
def merged_tree_only() -> None:
    if not is_merged_tree():
        pytest.skip("tests/mainline needs the merged tree: python -m tools.series tree mainline DIR")
