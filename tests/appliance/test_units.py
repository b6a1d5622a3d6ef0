"""The systemd units: `systemd-analyze verify` finds nothing, `security` rates them 4.0 or
lower (lower is safer), and they run the program the way the notify protocol expects."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED = "/opt/intercom/venv/bin/intercom"
SERVICES = ["intercom-station.service", "intercom-exchange.service", "intercom-firstboot.service"]

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian's systemd)"
)


def here_copy(name: str, tmp_path: Path) -> Path:
    """The unit with the installed program's path pointed at this checkout's, so that verify
    can check that it exists and is executable."""
    text = (
        (UNITS / name).read_text().replace(INSTALLED, str(Path(sys.executable).parent / "intercom"))
    )
    copy = tmp_path / name
    copy.write_text(text)
    return copy


@pytest.mark.parametrize("name", SERVICES)
def test_verify_finds_nothing(name: str, tmp_path: Path) -> None:
    out = subprocess.run(
        ["systemd-analyze", "verify", str(here_copy(name, tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    # Warnings about this machine's own units are not ours; about ours there are none.
    assert [line for line in out.stderr.splitlines() if name in line] == []


@pytest.mark.parametrize(
    ("name", "limit"), [("intercom-station.service", 4.0), ("intercom-exchange.service", 4.0)]
)
def test_exposure_is_low(name: str, limit: float) -> None:
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNITS / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", out.stdout)
    assert match is not None, out.stdout + out.stderr
    assert float(match.group(1)) <= limit


def test_the_station_unit_shape() -> None:
    unit = (UNITS / "intercom-station.service").read_text()
    for line in (
        "Type=notify", "WatchdogSec=30", "Restart=on-failure", "StartLimitBurst=10",
        "User=intercom", "SupplementaryGroups=gpio video audio spi i2c",
        "ProtectSystem=strict", "StateDirectory=intercom", "ExecReload=/bin/kill -HUP $MAINPID",
        f"ExecStartPre={INSTALLED} config --config /etc/intercom/station.toml validate",
    ):  # fmt: skip
        assert line in unit.splitlines(), line
