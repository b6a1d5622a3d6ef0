"""Secrets at rest: a writer killed (SIGKILL) while it replaces a configuration file leaves no
copy of the new secrets in the folder, and copies left by older versions are removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from intercom.atomicfile import write_atomic

ORIGINAL = 'password = "old-secret"\n'
SECRET = "new-secret-" + "x" * 100_000  # several pages: the write is well under way

#: Runs ``write_atomic`` on argv[1] in a child that stops, for good, at argv[2] (``fsync``: the
#: content is written, not renamed yet; ``replace``: just before the rename), telling the parent
#: through stdout, so the parent kills it exactly there. argv[3] == "named": as on a filesystem
#: without O_TMPFILE.
CHILD = """
import os, sys
from pathlib import Path
import intercom.atomicfile as atomicfile

path, where, kind = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if kind == "named":
    del os.O_TMPFILE
real = getattr(os, where)

def stop_here(*args):
    if where == "fsync" and os.path.isdir(f"/proc/self/fd/{args[0]}"):
        return real(*args)  # the folder's fsync comes after the rename
    print("stopped", flush=True)
    sys.stdin.readline()  # until killed

setattr(os, where, stop_here)
atomicfile.write_atomic(path, 'password = "%s"\\n' % sys.argv[4])
"""


def supports_o_tmpfile(folder: Path) -> bool:
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except (AttributeError, OSError):
        return False
    return True


def kill_while_writing(path: Path, where: str, kind: str = "unnamed") -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), where, kind, SECRET],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "stopped\n"
        child.kill()  # SIGKILL: no handler, no finally, no cleanup runs
    finally:
        child.wait(timeout=30)
    assert child.returncode == -9


def secrets_in(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if "new-secret" in p.read_text(errors="replace")]


def test_a_writer_killed_before_the_rename_leaves_nothing_behind(tmp_path: Path) -> None:
    if not supports_o_tmpfile(tmp_path):
        pytest.skip("this filesystem has no O_TMPFILE; the next write removes the leftover")
    path = tmp_path / "station.toml"
    path.write_text(ORIGINAL)
    kill_while_writing(path, "fsync")
    assert [p.name for p in tmp_path.iterdir()] == ["station.toml"]
    assert path.read_text() == ORIGINAL


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        ("replace", "unnamed"),  # the instant the new file has a temporary name
        ("fsync", "named"),  # a filesystem without O_TMPFILE: named from the start
    ],
)
def test_what_a_killed_writer_left_is_removed_by_the_next_write(
    tmp_path: Path, where: str, kind: str
) -> None:
    path = tmp_path / "station.toml"
    path.write_text(ORIGINAL)
    kill_while_writing(path, where, kind)
    assert len(secrets_in(tmp_path)) == 1  # what this test is about: a leftover with secrets
    assert path.read_text() == ORIGINAL
    write_atomic(path, 'password = "newest"\n')
    assert [p.name for p in tmp_path.iterdir()] == ["station.toml"]
    assert path.read_text() == 'password = "newest"\n'


def test_leftovers_of_older_versions_are_removed_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text(ORIGINAL)
    # tempfile.mkstemp's names, as older versions made them beside the file.
    for name in (".station.toml.k2j_9x0a", ".station.toml.abcdefgh"):
        (tmp_path / name).write_text('password = "new-secret"\n')
    others = [".station.toml.swp", ".exchange.toml.abcdefgh", "station.toml.bak", "notes"]
    for name in others:
        (tmp_path / name).write_text("kept\n")
    write_atomic(path, 'password = "newest"\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*others, "station.toml"])


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another owner")
def test_a_file_rewritten_by_root_keeps_its_owner_group_and_mode(tmp_path: Path) -> None:
    # /etc/intercom/exchange.toml is root:intercom 0640; `sudo intercom passwd` must not make it
    # root:root, which the service (group intercom) could no longer read.
    path = tmp_path / "exchange.toml"
    path.write_text(ORIGINAL)
    os.chown(path, 4321, 4321)
    path.chmod(0o640)
    write_atomic(path, 'password = "newest"\n')
    found = path.stat()
    assert (found.st_uid, found.st_gid, found.st_mode & 0o777) == (4321, 4321, 0o640)
