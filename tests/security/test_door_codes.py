"""Door codes match exactly, are stored hashed, and are set with ``intercom code set``."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest

from intercom import cli
from intercom.configfile import ConfigError
from intercom.station.config import load_station_config
from intercom.station.unlock import Decision, Outcome, UnlockPolicy, code_matches, hash_code

STATION = """\
# the front door
[station]
extension = "100"
password = "x"   # the station's own password

[[relays]]
name = "door"
pin = 27
codes = ["1234"]   # plain text, to be replaced

[[relays]]
name = "garage"
pin = 22
code_hashes = ["{garage}"]
"""


def enter(p: UnlockPolicy, keys: str) -> Decision:
    decision = Decision(Outcome.PENDING)
    for key in keys:
        decision = p.digit(key, True)
    return decision


def test_only_the_exact_code_opens() -> None:
    p = UnlockPolicy({"door": [hash_code("98765432")], "side": [hash_code("1234")]}, max_wrong=10)
    assert enter(p, "987654321#").outcome is Outcome.WRONG  # one digit more than the code
    assert enter(p, "12345#").outcome is Outcome.WRONG
    assert enter(p, "12A34#").outcome is Outcome.WRONG  # a key no code has
    assert enter(p, "98765432#").relay == "door"
    assert enter(p, "1234#").relay == "side"
    p.close()


def test_a_flood_of_digits_is_one_wrong_code_and_bounded() -> None:
    p = UnlockPolicy({"door": [hash_code("1234")]}, max_wrong=10)
    for _ in range(100_000):
        p.digit("1", True)
    assert len(p._digits) <= 8  # the buffer does not grow
    decision = p.digit("#", True)
    assert decision.outcome is Outcome.WRONG and decision.attempts_left == 9
    assert enter(p, "1234#").outcome is Outcome.UNLOCK  # the next entry starts afresh
    p.close()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text)
    return path


def station_text(**replace: str) -> str:
    text = STATION.replace("{garage}", hash_code("9999"))
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('codes = ["1234"]', 'codes = ["123"]', "codes"),
        ('password = "x"', 'password = "x"\n[unlock]\nlockout = 0', "lockout"),
        ('password = "x"', 'password = "x"\n[unlock]\nlockout = 600\nmax_lockout = 300',
         "max_lockout"),
    ],
)  # fmt: skip
def test_validation_refuses_short_codes_and_no_lockout(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_station_config(write(tmp_path, station_text(**{old: new})))
    assert reason in str(info.value)


def test_validate_warns_about_plain_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, station_text())
    assert cli.main(["config", "--config", str(path), "validate"]) == 0
    out = capsys.readouterr()
    assert "ok:" in out.out
    assert "plain" in out.err and "intercom code set" in out.err


def test_code_set_from_stdin_hashes_and_removes_plain_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, station_text())
    monkeypatch.setattr("sys.stdin", io.StringIO("24680\n"))
    assert cli.main(["code", "set", "--config", str(path), "--relay", "door"]) == 0
    text = path.read_text()
    assert "24680" not in text and "1234" not in text
    assert "# the front door" in text and "# the station's own password" in text  # comments kept
    door, garage = tomllib.loads(text)["relays"]
    assert "codes" not in door and len(door["code_hashes"]) == 1
    assert code_matches(door["code_hashes"][0], "24680")
    assert code_matches(garage["code_hashes"][0], "9999")  # other relays untouched
    assert "not running" in capsys.readouterr().out  # saved; nothing to reload
    cli.main(["config", "--config", str(path), "validate"])
    assert "plain" not in capsys.readouterr().err


def test_code_set_add_keeps_the_other_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, station_text())
    monkeypatch.setattr("sys.stdin", io.StringIO("5555\n"))
    assert cli.main(["code", "set", "--config", str(path), "--add"]) == 0  # the first relay
    door = tomllib.loads(path.read_text())["relays"][0]
    assert "codes" not in door  # the plain code is kept, hashed
    assert [code_matches(h, "1234") for h in door["code_hashes"]] == [True, False]
    assert [code_matches(h, "5555") for h in door["code_hashes"]] == [False, True]


def test_code_set_from_a_terminal_asks_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, station_text())
    before = path.read_text()
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", tty)
    answers = iter(["4321", "4322"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["code", "set", "--config", str(path)]) == 2
    assert "do not match" in capsys.readouterr().err and path.read_text() == before
    answers = iter(["4321", "4321"])
    assert cli.main(["code", "set", "--config", str(path)]) == 0
    assert code_matches(tomllib.loads(path.read_text())["relays"][0]["code_hashes"][0], "4321")


@pytest.mark.parametrize("code", ["123", "123456789", "12a4", ""])
def test_code_set_refuses_bad_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    path = write(tmp_path, station_text())
    before = path.read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(code + "\n"))
    assert cli.main(["code", "set", "--config", str(path)]) == 2
    assert "4 to 8 digits" in capsys.readouterr().err and path.read_text() == before


def test_code_set_names_an_unknown_relay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, station_text())
    monkeypatch.setattr("sys.stdin", io.StringIO("5555\n"))
    assert cli.main(["code", "set", "--config", str(path), "--relay", "cellar"]) == 2
    assert "cellar" in capsys.readouterr().err


def test_the_demo_stores_its_door_code_hashed(tmp_path: Path) -> None:
    from intercom.demo import station_config

    (tmp_path / "passwords.toml").write_text('100 = "pw"\n')
    path = station_config(tmp_path, 7777)
    relay = tomllib.loads(path.read_text())["relays"][0]
    assert "codes" not in relay
    assert code_matches(relay["code_hashes"][0], "1234")
    assert load_station_config(path).relays[0].code_hashes == relay["code_hashes"]
