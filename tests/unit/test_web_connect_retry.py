"""The browser library's ``connect(..., {retry: true})``, run by node against a stand-in
WebSocket: a failed first connection is retried and reported with its attempt and wait until
the exchange answers; refused credentials are final; ``disconnect()`` ends the retries."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).parents[2] / "intercom" / "web" / "lib" / "client.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is installed by make setup")

# The stand-in: the first ``failures`` sockets close unopened (nothing listens); the next one
# opens and answers the login with ``answer``. Each case prints the states it saw as JSON.
SCRIPT = """
const [clientUrl, failures, answer, stopAfter] = process.argv.slice(1);
let made = 0;
globalThis.WebSocket = class {
  constructor() {
    this.readyState = 0;
    if (made > 50) { console.error("still retrying after 50 sockets"); process.exit(1); }
    const fail = made++ < Number(failures);
    setTimeout(() => {
      if (fail) { this.readyState = 3; this.onclose({ code: 1006, reason: "" }); return; }
      this.readyState = 1;
      this.onopen();
    }, 1);
  }
  send() {
    const frame = answer === "granted"
      ? { type: "result", id: 0, data: { extension: "201", displayName: "Alice" } }
      : { type: "error", id: 0, data: { code: 305, name: "AuthenticationFailed", message: "no" } };
    setTimeout(() => this.onmessage({ data: JSON.stringify(frame) }), 1);
  }
  close() { this.readyState = 3; setTimeout(() => this.onclose({ code: 1000, reason: "" }), 1); }
  addEventListener(kind, listener) { const before = this.onclose;
    this.onclose = (ev) => { before(ev); listener(ev); }; }
};
const { WebClient } = await import(clientUrl);
const client = new WebClient();
// The library's own backoff reports its wait; the test then tries again after 5 ms, not that.
const backoff = client._retry;
client._retry = function () {
  const wait = backoff.call(this);
  clearTimeout(this._retryTimer);
  this._retryTimer = setTimeout(() => { if (!this._closing) this._open(false); }, 5);
  return wait;
};
const seen = [];
client.onConnectionStateChanged((info) => {
  seen.push({ state: info.state, attempt: info.attempt, retryIn: info.retryIn });
  if (stopAfter !== "" && info.attempt === Number(stopAfter)) client.disconnect();
});
const retry = { retry: true };
const outcome = await client.connect("ws://127.0.0.1:9/", "201", { Password: "x" }, retry);
await new Promise((resolve) => setTimeout(resolve, 50));  // any stray retry would show by now
console.log(JSON.stringify({ outcome, seen, sockets: made }));
"""


def run(failures: int, answer: str, stop_after: int | None = None) -> dict[str, object]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, CLIENT.as_uri(), str(failures), answer,
         "" if stop_after is None else str(stop_after)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_failed_first_connection_is_retried_until_granted() -> None:
    result = run(failures=3, answer="granted")
    assert result["outcome"] == "ACCESS_GRANTED"
    seen = result["seen"]
    assert isinstance(seen, list)
    assert [s["state"] for s in seen] == ["CONNECTION_FAILED"] * 3 + ["ACCESS_GRANTED"]
    assert [s["attempt"] for s in seen] == [1, 2, 3, 0]
    # Each failure says when the next try comes: the reconnect's growing, jittered wait.
    waits = [s["retryIn"] for s in seen[:3]]
    assert 125 <= waits[0] <= 250 and 250 <= waits[1] <= 500 and 500 <= waits[2] <= 1000
    assert result["sockets"] == 4


def test_refused_credentials_are_not_retried() -> None:
    result = run(failures=1, answer="denied")
    assert result["outcome"] == "ACCESS_DENIED"
    seen = result["seen"]
    assert isinstance(seen, list)
    assert [s["state"] for s in seen] == ["CONNECTION_FAILED", "ACCESS_DENIED"]
    assert result["sockets"] == 2


def test_disconnect_ends_the_retries() -> None:
    result = run(failures=100, answer="granted", stop_after=2)
    assert result["outcome"] == "CONNECTION_CLOSED"
    assert result["sockets"] == 2  # no attempt after disconnect()
