"""``intercom events``: the newest events first, limited and filtered by kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intercom import cli
from intercom.station.events import EventLog


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    log = EventLog(tmp_path / "events.db")
    log.add("start")
    for i in range(1200):  # more than the old fixed window of 1,000
        log.add("bell", bell=i)
        if i % 100 == 0:
            log.add("unlock", relay="door", who="201", how="command", n=i)
    log.add("stop")
    log.close()
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert cli.main(["events", *args, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_newest_first_fifty_by_default(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = run(capsys, "--data-dir", str(data_dir))
    assert len(events) == 50
    assert events[0]["kind"] == "stop" and events[1]["bell"] == 1199
    ids = [int(str(e["id"])) for e in events]
    assert ids == sorted(ids, reverse=True)


def test_limit_and_kinds(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = run(capsys, "--data-dir", str(data_dir), "--limit", "3", "--kind", "unlock")
    assert [e["n"] for e in events] == [1100, 1000, 900]
    both = run(capsys, "--data-dir", str(data_dir), "--kind", "start", "--kind", "stop")
    assert [e["kind"] for e in both] == ["stop", "start"]


def test_since(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    everything = run(capsys, "--data-dir", str(data_dir), "--limit", "5000")
    assert len(everything) == 1200 + 12 + 2
    middle = everything[600]["at"]
    later = run(capsys, "--data-dir", str(data_dir), "--limit", "5000", "--since", str(middle))
    assert later and all(float(e["at"]) >= float(middle) for e in later)  # type: ignore[arg-type]
    assert later[0]["kind"] == "stop"


def test_text_output_and_bad_arguments(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["events", "--data-dir", str(data_dir), "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "stop" in lines[0] and "bell=1199" in lines[1]
    with pytest.raises(SystemExit):
        cli.main(["events", "--data-dir", str(data_dir), "--kind", "party"])
    with pytest.raises(SystemExit):
        cli.main(["events", "--data-dir", str(data_dir), "--limit", "0"])
