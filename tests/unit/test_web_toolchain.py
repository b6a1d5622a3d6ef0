"""The browser library's dev tools come from the project's own files: Debian's nodejs and npm
(deploy/apt-packages.txt) unless a working node and npm are there already, whose install the
script leaves alone (Debian's npm would conflict with a node from elsewhere); package.json pins
the tools, and make setup and make lint run them.

The install script runs here against fakes of dpkg, apt-get, sudo, id, node and npm, on a PATH
that holds nothing else but the shell tools it uses."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "deploy" / "install-system-packages.sh"
TOOLS = ("sh", "grep", "tr", "dirname", "cat")


@dataclass
class Machine:
    bin: Path
    apt_log: Path

    def fake(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def with_node(self, version: str) -> None:
        self.fake("node", f'[ "$1" = --version ] && echo {version}')
        self.fake("npm", '[ "$1" = --version ] && echo 10.9.0')

    def install(self) -> list[str]:
        """Runs the script; the packages it asked apt-get to install."""
        done = subprocess.run(
            ["sh", str(SCRIPT)],
            env={"PATH": str(self.bin)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        if not self.apt_log.exists():
            return []
        installs = [line.split() for line in self.apt_log.read_text().splitlines()]
        return [pkg for args in installs if args[0] == "install" for pkg in args[1:]]


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        (folder / tool).symlink_to(found)
    m = Machine(folder, tmp_path / "apt.log")
    m.fake("dpkg", "exit 1")  # nothing is installed
    m.fake("id", "echo 1000")  # not root: through sudo
    m.fake("sudo", 'exec "$@"')
    # apt-get's package arguments, after its options
    m.fake(
        "apt-get",
        f'cmd=$1; shift; for a in "$@"; do case "$a" in -*) ;; *) cmd="$cmd $a";; esac; done; '
        f'echo "$cmd" >> {m.apt_log}',
    )
    return m


def listed_packages() -> list[str]:
    lines = (ROOT / "deploy" / "apt-packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_debian_provides_node_and_npm() -> None:
    assert {"nodejs", "npm"} <= set(listed_packages())


def test_without_node_debians_nodejs_and_npm_are_installed(machine: Machine) -> None:
    assert machine.install() == listed_packages()


def test_a_working_node_and_npm_are_left_alone(machine: Machine) -> None:
    machine.with_node("v20.20.2")
    installed = machine.install()
    assert "nodejs" not in installed and "npm" not in installed
    assert installed == [p for p in listed_packages() if p not in ("nodejs", "npm")]


@pytest.mark.parametrize("version", ["v18.18.0", "v22.1.0"])
def test_any_node_new_enough_for_the_tools_counts(machine: Machine, version: str) -> None:
    machine.with_node(version)
    assert "nodejs" not in machine.install()


@pytest.mark.parametrize("version", ["v16.20.2", "v18.17.1", "garbage"])
def test_a_node_too_old_for_the_tools_does_not_count(machine: Machine, version: str) -> None:
    machine.with_node(version)
    assert {"nodejs", "npm"} <= set(machine.install())


def test_node_without_npm_does_not_count(machine: Machine) -> None:
    machine.with_node("v20.20.2")
    (machine.bin / "npm").unlink()
    assert {"nodejs", "npm"} <= set(machine.install())


def test_nothing_is_installed_when_everything_is_there(machine: Machine) -> None:
    machine.fake("dpkg", "exit 0")
    machine.with_node("v20.20.2")
    assert machine.install() == []
    assert not machine.apt_log.exists()


def test_the_tools_are_pinned_and_run_by_make() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    tools = package["devDependencies"]
    assert {"typescript", "eslint"} <= set(tools)
    for name, version in tools.items():
        assert version[0].isdigit(), f"{name} {version} is not an exact version"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in tools.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    makefile = (ROOT / "Makefile").read_text()
    assert "npm ci" in makefile
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "tsc -p ." in lint and "eslint intercom/web" in lint
