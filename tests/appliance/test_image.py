"""The appliance's arm64 root file system (deploy/image/build-rootfs.sh, made by `make rootfs`
before the tests, as it downloads from Debian and PyPI): booted under systemd-nspawn with
simulated hardware, the first boot imports intercom.toml from the boot partition and the
station reaches READY, online with its embedded exchange; and it assembles into an SD image."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTFS = REPO / "build" / "rootfs-arm64"

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(1200)]

BOOT_FILE = """\
[station]
name = "Test door"
extension = "100"
exchange = "127.0.0.1:7777"
embedded_exchange = "exchange.toml"
simulated = true
camera = "synthetic"
data_dir = "/var/lib/intercom/station"

[[bells]]
id = 1
pin = 17
target = "200"

[[relays]]
name = "door"
pin = 27
codes = ["4711"]
"""

# Polls the station from inside the container, keeps what it saw, and powers off.
CHECK_UNIT = """\
[Unit]
Description=boot check for the tests
After=intercom-station.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for i in $(seq 1 240); do \
  systemctl show -p ActiveState -p SubState -p StatusText -p NRestarts intercom-station \
    > /check/state; \
  grep -q "StatusText=.*online" /check/state && break; sleep 1; done; \
  systemctl show -p ActiveState -p Result intercom-firstboot > /check/firstboot; \
  ls -l /boot/firmware > /check/boot; \
  cp /var/lib/intercom/station/status.json /check/ 2>/dev/null; \
  cp /run/intercom/status.json /check/ 2>/dev/null; \
  journalctl -b --no-pager -u intercom-firstboot -u intercom-station > /check/journal; \
  systemctl poweroff'
"""


def need_rootfs() -> None:
    if not (ROOTFS / "opt" / "intercom" / "venv" / "bin" / "intercom").exists():
        pytest.fail("no root file system: `make rootfs` builds it (make test does)")
    if shutil.which("systemd-nspawn") is None:
        pytest.fail("needs systemd-nspawn (Debian's systemd-container)")


def test_the_station_boots_to_ready_under_nspawn(tmp_path: Path) -> None:
    need_rootfs()
    boot, check = tmp_path / "boot", tmp_path / "check"
    boot.mkdir()
    check.mkdir()
    (boot / "intercom.toml").write_text(BOOT_FILE)
    unit = tmp_path / "intercom-bootcheck.service"
    unit.write_text(CHECK_UNIT)
    boot_run = subprocess.run(
        [
            "systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
            "--volatile=overlay",  # the tree is left as built, as overlayroot does on the Pi
            f"--directory={ROOTFS}",
            f"--bind={boot}:/boot/firmware",
            f"--bind={check}:/check",
            f"--bind-ro={unit}:/etc/systemd/system/intercom-bootcheck.service",
            "--boot", "systemd.wants=intercom-bootcheck.service",
        ],
        capture_output=True, text=True, timeout=1100,
    )  # fmt: skip
    journal = (check / "journal").read_text() if (check / "journal").exists() else ""
    assert (check / "state").exists(), boot_run.stdout[-3000:] + boot_run.stderr[-3000:]
    state = dict(line.split("=", 1) for line in (check / "state").read_text().splitlines())
    assert state["ActiveState"] == "active", journal[-4000:]
    assert re.search(r"Test door: online", state["StatusText"]), journal[-4000:]
    assert state["NRestarts"] == "0", journal[-4000:]
    # First boot imported the file and took it off the card.
    assert "ActiveState=inactive" in (check / "firstboot").read_text()
    assert "Result=success" in (check / "firstboot").read_text()
    assert "intercom.toml" not in (check / "boot").read_text()
    status = json.loads((check / "status.json").read_text())
    assert status["online"] is True and status["relays"] == {"door": False}


def test_the_tree_assembles_into_an_sd_image(tmp_path: Path) -> None:
    need_rootfs()
    image = tmp_path / "intercom.img"
    out = subprocess.run(
        [str(REPO / "deploy" / "image" / "assemble-image.sh"), str(ROOTFS), str(image)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True).stdout
    )["partitiontable"]
    assert table["label"] == "dos"
    boot, root, data = table["partitions"]
    assert [boot["type"], root["type"], data["type"]] == ["c", "83", "83"]
    listing = subprocess.run(
        ["mdir", "-b", "-i", f"{image}@@{boot['start'] * 512}", "::/"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    for name in ("config.txt", "cmdline.txt", "intercom.toml.example", "user-data.example"):
        assert name in listing
    part = tmp_path / "root.ext4"
    subprocess.run(
        ["dd", f"if={image}", f"of={part}", "bs=512", f"skip={root['start']}",
         f"count={root['size']}", "conv=sparse", "status=none"],
        check=True,
    )  # fmt: skip
    fsck = subprocess.run(["e2fsck", "-fn", str(part)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout
    fstab = subprocess.run(
        ["debugfs", "-R", "cat /etc/fstab", str(part)], capture_output=True, text=True
    ).stdout
    assert "LABEL=INTERCOMDATA  /var/lib/intercom" in fstab
    assert "/var/lib/intercom/etc  /etc/intercom" in fstab
    assert "LABEL=INTERCOMDATA" not in (ROOTFS / "etc" / "fstab").read_text()
