import logging

import pytest

from kernel.lib.device import bus_type, device, device_driver
from kernel.lib.printk import (
    KERN_DEBUG,
    KERN_ERR,
    KERN_INFO,
    KERN_WARNING,
    LogLine,
    dev_dbg,
    dev_warn,
    dev_warn_ratelimited,
    dmesg,
    klog_subscribe,
    klog_unsubscribe,
    pr_debug,
    pr_err,
    pr_info,
)


def pr_fmt(fmt: str) -> str:  # as a C file's  #define pr_fmt(fmt) "zpci: " fmt
    return "zpci: " + fmt


def test_pr_fmt_prefix_and_c_format() -> None:
    pr_err("%s: Event 0x%x reports an error for PCI function 0x%x\n", "0000:00:00.0", 0x3A, 0x20)
    pr_info("%s: %lu %llx %zu %#010x %04x 100%%\n", "n", 5, 255, 3, 0xFFFF, 0x1F)
    lines = dmesg()
    assert [(line.level, line.text) for line in lines] == [
        (KERN_ERR, "zpci: 0000:00:00.0: Event 0x3a reports an error for PCI function 0x20"),
        (KERN_INFO, "zpci: n: 5 ff 3 0x0000ffff 001f 100%"),
    ]


def test_debug_kept_in_ring_and_filtered_by_level() -> None:
    pr_debug("%s: Driver needs reset to recover\n", "x")
    pr_info("info\n")
    assert [line.level for line in dmesg()] == [KERN_DEBUG, KERN_INFO]
    assert [line.text for line in dmesg(KERN_INFO)] == ["zpci: info"]


def test_dev_printk_prefixes_driver_or_bus_and_name() -> None:
    pci = bus_type("pci")
    d = device(init_name="0000:00:00.0", bus=pci)
    dev_warn(d, "resetting\n")
    d.driver = device_driver("vfio-pci")
    dev_dbg(d, "reset done\n")
    assert [line.text for line in dmesg()] == [
        "pci 0000:00:00.0: resetting",
        "vfio-pci 0000:00:00.0: reset done",
    ]
    assert dmesg()[0].level == KERN_WARNING


def test_ratelimited_allows_burst_of_ten() -> None:
    d = device(init_name="0000:00:00.0", bus=bus_type("pci"))
    for i in range(15):
        dev_warn_ratelimited(d, "lost %d\n", i)
    assert [line.text for line in dmesg()] == [f"pci 0000:00:00.0: lost {i}" for i in range(10)]


def test_forwarded_to_python_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="kernel"):
        pr_err("%s: The reset request failed\n", "0000:00:00.0")
    assert any(
        r.levelno == logging.ERROR and r.getMessage() == "zpci: 0000:00:00.0: The reset request failed"
        for r in caplog.records
    )


def test_subscribers_see_lines_as_printed() -> None:
    seen: list[str] = []

    def sub(line: LogLine) -> None:
        seen.append(line.text)

    klog_subscribe(sub)
    try:
        pr_info("one\n")
    finally:
        klog_unsubscribe(sub)  # leave no subscriber to the tests after this one
    assert seen == ["zpci: one"]
    klog_unsubscribe(seen.append)  # unknown subscriber: no error
