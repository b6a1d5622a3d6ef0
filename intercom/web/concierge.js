/*
 * The concierge page: every live call in the building, with hold, unhold, transfer, hang up
 * and listen. Built on /WebphoneAPI's Session objects and their events.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var client = OzWebClient;
  var rows = {};   // session id -> table row
  var listening = null;

  function nameOf(number) {
    var ext = client.helper.getExtensionById(number);
    return ext && ext.displayName ? ext.displayName + " (" + number + ")" : number;
  }
  function say(text) { $("board-note").textContent = text; }
  function act(promise, done) {
    try {
      return Promise.resolve(promise).then(function () { if (done) say(done); }, function (e) { say(e.message || String(e)); });
    } catch (e) { say(e.message || String(e)); }
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

  function button(label, name, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = name;
    b.addEventListener("click", onClick);
    return b;
  }

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
      var controls = row.querySelector(".controls");
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
    row.querySelector(".caller").textContent = nameOf(session.caller);
    row.querySelector(".callee").textContent = nameOf(session.callee);
    row.querySelector(".state").textContent = session.sessionState;
    row.dataset.state = session.sessionState;
    row.querySelector(".talk").textContent = session.talkDuration;
    $("no-sessions").hidden = true;
  }

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
      if (s) rows[id].querySelector(".talk").textContent = s.talkDuration;
    });
  }, 1000);

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    client.connect("", $("extension").value.trim(), { Password: $("password").value, App: "concierge" });
  });

  window.intercomConcierge = { client: client };
})();
