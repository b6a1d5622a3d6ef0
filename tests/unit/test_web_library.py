"""The browser library is written as modules (intercom/web/lib) and joined by the exchange into
the one script pages load: every module is joined, in an order that satisfies their imports;
the classic script defines the API's globals and nothing else, the ES module exports them; and
what cannot be joined as one scope is refused when the exchange loads its assets."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from intercom.exchange.web import (
    LIBRARY_MODULES,
    MODULE_PATH,
    SCRIPT_PATHS,
    LibraryError,
    WebFront,
    join_library,
    load_library,
)

LIB = Path(__file__).parents[2] / "intercom" / "web" / "lib"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is installed by make setup")


def run_node(script: str, *args: str) -> str:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# In a bare context (no DOM: the library must load without one): the globals the script adds.
RUN_CLASSIC = """
const vm = require("vm");
const context = { console, URL, Promise, setTimeout, clearTimeout };
context.globalThis = context;
vm.createContext(context);
const before = new Set(Object.keys(context));
vm.runInContext(process.argv[1], context);
const added = Object.keys(context).filter((k) => !before.has(k));
const api = context.OzWebClient;
console.log(JSON.stringify({
  added,
  url: api.serverUrl("door.local"),
  state: api.state,
  separate: api.create() !== api,
  inCall: context.CallState.IN_CALL,
}));
"""


def test_every_module_in_the_folder_is_joined_once() -> None:
    assert sorted(LIBRARY_MODULES) == sorted(p.name for p in LIB.glob("*.js"))
    assert len(set(LIBRARY_MODULES)) == len(LIBRARY_MODULES)


def test_the_api_is_what_the_last_module_exports() -> None:
    library = load_library()
    listed = re.search(r"^export \{(.*?)\};", (LIB / LIBRARY_MODULES[-1]).read_text(), re.M | re.S)
    assert listed is not None
    assert library.names == tuple(n.strip() for n in listed.group(1).split(","))
    assert library.names[:3] == ("OzWebClient", "Call", "Session")


def test_the_exchange_serves_the_joined_library() -> None:
    library = load_library()
    front = WebFront([], secure=True)
    for path in SCRIPT_PATHS:
        assert front.assets[path].body == library.script.encode()
        assert front.assets[path].content_type.startswith("text/javascript")
    module = front.assets[MODULE_PATH].body
    assert module.startswith(library.script.encode())
    assert module.rstrip().endswith(f"export {{ {', '.join(library.names)} }};".encode())
    # no import or export is left in the classic script
    assert not re.search(r"^\s*(import|export)\b", library.script, re.M)


@needs_node
def test_the_classic_script_defines_the_api_and_nothing_else() -> None:
    library = load_library()
    seen = json.loads(run_node(RUN_CLASSIC, library.script))
    assert seen["added"] == list(library.names)
    assert seen["url"] == "wss://door.local:7777/"
    assert seen["state"] == "CONNECTION_CLOSED"
    assert seen["separate"] is True
    assert seen["inCall"] == "IN_CALL"


@needs_node
def test_both_forms_parse(tmp_path: Path) -> None:
    library = load_library()
    (tmp_path / "WebphoneAPI.js").write_text(library.script)
    (tmp_path / "WebphoneAPI.mjs").write_text(library.module)
    for name in ("WebphoneAPI.js", "WebphoneAPI.mjs"):
        assert NODE is not None
        done = subprocess.run(
            [NODE, "--check", str(tmp_path / name)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (name, done.stderr)


@needs_node
def test_the_modules_load_as_they_are_written() -> None:
    # The sources are real ES modules too: node imports the entry module (no DOM needed to load).
    entry = (LIB / LIBRARY_MODULES[-1]).as_uri()
    script = f"import({json.dumps(entry)}).then((api) => console.log(Object.keys(api).join()))"
    shown = run_node(script).strip().split(",")
    assert sorted(shown) == sorted(load_library().names)


def test_joining_removes_imports_and_export_keywords() -> None:
    library = join_library(
        [
            ("a.js", "export var ONE = 1;\nexport function two() { return 2; }\n"),
            (
                "b.js",
                'import { ONE, two } from "./a.js";\nvar three = ONE + two();\nexport { three };\n',
            ),
        ]
    )
    assert library.names == ("three",)
    assert "// ---- a.js\nvar ONE = 1;\nfunction two() { return 2; }" in library.script
    assert "// ---- b.js\nvar three = ONE + two();" in library.script
    assert "global.three = three;" in library.script


@pytest.mark.parametrize(
    ("modules", "complaint"),
    [
        ([("b.js", 'import { x } from "./a.js";\nexport { x };\n')], "not joined before it"),
        (
            [("a.js", "var x = 1;\n"), ("b.js", 'import { x } from "./a.js";\nexport { x };\n')],
            "does not export 'x'",
        ),
        (
            [("a.js", "function helper() {}\n"), ("b.js", "var helper = 1;\nexport { helper };\n")],
            "also declared by a.js",
        ),
        ([("a.js", "var global = 1;\nexport { global };\n")], "the joined script's own name"),
        ([("a.js", "var x = 1;\nexport default x;\n")], "cannot join 'export default x;'"),
        ([("a.js", 'import x from "./b.js";\n')], "cannot join"),
        ([("a.js", "var x;\nexport { x as y };\n")], "plain names"),
        ([("a.js", "export { nowhere };\n")], "neither declares nor imports"),
        ([("a.js", "export var x = 1;\n")], "the last module exports the API"),
        ([], "no modules"),
    ],
)
def test_what_one_scope_cannot_hold_is_refused(
    modules: list[tuple[str, str]], complaint: str
) -> None:
    with pytest.raises(LibraryError, match=re.escape(complaint)):
        join_library(modules)
