/*
 * The concierge page: every live call in the building, with hold, unhold, transfer, hang up
 * and listen. Built on /WebphoneAPI's Session objects and their events.
 */
(function () {
  "use strict";

  // The page's own elements, by id (any: each is the input, table or note the markup says).
  /** @type {(id: string) => any} */
  var $ = function (id) { return document.getElementById(id); };
  var client = OzWebClient;
  /** @typedef {InstanceType<typeof Session>} Session */
  /** @type {Record<string, HTMLTableRowElement>} */
  var rows = {};   // session id -> table row
  /** @type {Session | null} */
  var listening = null;

  /** @param {string} number */
  function nameOf(number) {
    var ext = client.helper.getExtensionById(number);
    return ext && ext.displayName ? ext.displayName + " (" + number + ")" : number;
  }
  /** @param {string} text */
  function say(text) { $("board-note").textContent = text; }
  /**
   * Shows how a request went: `done` once it succeeds, the error if it fails or throws.
   * @param {Promise<unknown>} promise
   * @param {string} [done]
   */
  function act(promise, done) {
    try {
      return Promise.resolve(promise).then(function () { if (done) say(done); }, function (e) { say(e.message || String(e)); });
    } catch (e) { say(/** @type {Error} */ (e).message || String(e)); }
  }

  client.onConnectionStateChanged(function (info) {
    $("conn-state").dataset.state = info.State;
    $("conn-state").textContent = {
      ACCESS_GRANTED: "Connected", ACCESS_DENIED: "Wrong extension or password",
      CONNECTION_FAILED: "Cannot reach the intercom", CONNECTION_CLOSED: "Offline - reconnecting"
    }[info.State];
    if (info.State === ConnectionState.ACCESS_GRANTED) {
      var missing = ["monitor", "modify"].filter(function (p) { return client.privileges.indexOf(p) < 0; });
      $("login-error").textContent = missing.length ? "This extension lacks: " + missing.join(", ") : "";
      $("who").textContent = client.displayName || client.extension;
      $("login").hidden = true;
      $("board").hidden = false;
    } else if (info.State === ConnectionState.ACCESS_DENIED) {
      $("login-error").textContent = "Wrong extension or password.";
    }
  });

  client.onSessionCreated(function (session) {
    draw(session);
    session.onSessionStateChanged(function (s) { draw(s); });
  });

  client.onSessionClosed(function (session) {
    var row = rows[session.sessionId];
    if (row) row.remove();
    delete rows[session.sessionId];
    if (listening === session) { listening = null; $("listen-video").hidden = true; }
    var item = document.createElement("li");
    item.textContent = nameOf(session.caller) + " to " + nameOf(session.callee) + ": " + session.sessionState;
    $("ended").prepend(item);
    $("no-sessions").hidden = Object.keys(rows).length > 0;
  });

  /**
   * @param {string} label
   * @param {string} name
   * @param {(this: HTMLButtonElement, ev: MouseEvent) => void} onClick
   */
  function button(label, name, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = name;
    b.addEventListener("click", onClick);
    return b;
  }

  /**
   * A cell of a session's row (draw makes them all, so it is there).
   * @param {HTMLTableRowElement} row
   * @param {string} name
   * @returns {HTMLElement}
   */
  function cellOf(row, name) { return /** @type {HTMLElement} */ (row.querySelector("." + name)); }

  /** @param {Session} session */
  function draw(session) {
    var row = rows[session.sessionId];
    if (!row) {
      row = rows[session.sessionId] = document.createElement("tr");
      row.dataset.sessionId = session.sessionId;
      ["caller", "callee", "state", "talk", "controls"].forEach(function (cls) {
        var cell = document.createElement("td");
        cell.className = cls;
        row.appendChild(cell);
      });
      var controls = cellOf(row, "controls");
      var target = document.createElement("input");
      target.placeholder = "number";
      target.setAttribute("aria-label", "transfer to");
      target.dataset.field = "target";
      controls.append(
        button("Hold", "hold", function () { act(session.hold(), "Held"); }),
        button("Unhold", "unhold", function () { act(session.unhold(), "Resumed"); }),
        target,
        button("Transfer", "transfer", function () {
          if (!target.value) { say("Type the number to transfer to."); return; }
          // The door stays; the resident's side is handed over to the new number.
          act(session.blindTransfer(session.callee, target.value.trim()), "Transferred");
        }),
        button("Listen", "listen", function () { toggleListen(session, this); }),
        button("Hang up", "hangup", function () { act(session.hangup(), "Hung up"); })
      );
      $("sessions").querySelector("tbody").appendChild(row);
    }
    cellOf(row, "caller").textContent = nameOf(session.caller);
    cellOf(row, "callee").textContent = nameOf(session.callee);
    cellOf(row, "state").textContent = session.sessionState;
    row.dataset.state = session.sessionState;
    cellOf(row, "talk").textContent = session.talkDuration;
    $("no-sessions").hidden = true;
  }

  /**
   * @param {Session} session
   * @param {HTMLButtonElement} btn
   */
  function toggleListen(session, btn) {
    if (listening === session) {
      act(session.stopListen(), "Stopped listening");
      listening = null;
      btn.textContent = "Listen";
      $("listen-video").hidden = true;
      return;
    }
    if (listening) { say("Stop listening to the other call first."); return; }
    listening = session;
    btn.textContent = "Stop listening";
    session.setListenDisplay("listen-video");
    $("listen-video").hidden = false;
    act(session.startListen(), "Listening (they cannot hear you)");
  }

  setInterval(function () {
    Object.keys(rows).forEach(function (id) {
      var s = client.helper.getActiveSessionById(id);
      if (s) cellOf(rows[id], "talk").textContent = s.talkDuration;
    });
  }, 1000);

  $("login-form").addEventListener("submit", function (/** @type {Event} */ ev) {
    ev.preventDefault();
    client.connect("", $("extension").value.trim(), { Password: $("password").value, App: "concierge" });
  });

  window.intercomConcierge = { client: client };
})();
