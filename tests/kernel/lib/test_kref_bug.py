from kernel.lib import bug
from kernel.lib.bug import WARN_ON, WARN_ON_ONCE
from kernel.lib.kref import kref, kref_get, kref_get_unless_zero, kref_put, kref_read
from kernel.lib.printk import dmesg


def test_kref_put_releases_on_last_reference() -> None:
    k = kref()
    released: list[kref] = []
    kref_get(k)
    assert kref_read(k) == 2
    assert kref_put(k, released.append) == 0
    assert kref_put(k, released.append) == 1
    assert released == [k]
    assert kref_get_unless_zero(k) == 0


def test_kref_underflow_warns_and_saturates() -> None:
    k = kref()
    assert kref_put(k, lambda _: None) == 1
    assert kref_put(k, lambda _: None) == 0
    assert any("refcount_t: underflow; use-after-free." in w for w in bug.warnings)
    assert any("WARNING: at" in line.text for line in dmesg())
    bug.warnings.clear()


def test_warn_on_once_fires_once() -> None:
    for _ in range(3):
        WARN_ON_ONCE(True)
    assert len(bug.warnings) == 1
    assert not WARN_ON(False)
    bug.warnings.clear()
