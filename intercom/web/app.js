/*
 * The resident's web app: answers the door. Built on /WebphoneAPI alone, so it doubles as the
 * library's worked example. One call is shown at a time; the door's video plays while it rings.
 */
(function () {
  "use strict";

  // The page's own elements, by id (any: each is the input, button or dialog the markup says).
  /** @type {(id: string) => any} */
  var $ = function (id) { return document.getElementById(id); };
  var client = OzWebClient;
  /** @typedef {InstanceType<typeof Call>} Call */
  /** @type {Call | null} */
  var current = null;          // the call on screen
  /** @type {number | undefined} the call timer's interval */
  var timer;
  /** @type {{stop: () => void} | null} */
  var ringtone = null;
  /** @type {InstanceType<typeof OzCamera> | null} */
  var ownCamera = null;
  var store = window.localStorage;

  /** @type {Record<string, string>} */
  var STATE_TEXT = {
    ACCESS_GRANTED: "Connected",
    ACCESS_DENIED: "Wrong extension or password",
    CONNECTION_FAILED: "Cannot reach the intercom",
    CONNECTION_CLOSED: "Offline - reconnecting"
  };
  /** @type {Record<string, string>} */
  var CALL_TEXT = { RINGING: "Ringing", IN_CALL: "In call", HOLD: "On hold", COMPLETED: "Ended",
    REJECTED: "Rejected", BUSY: "Busy", NOT_FOUND: "Not found" };
  /** @type {Record<string, string>} */
  var OUTCOME = { CALLERHUNGUP: "Answered", CALLEEHUNGUP: "Answered", TRANSFERCOMPLETED: "Transferred",
    NOTANSWERED: "Missed", CANCELLED: "Missed", REJECTED: "Rejected", BUSY: "Busy", NOTFOUND: "Not found",
    ABORTED: "Interrupted", ERROR: "Failed", REDIRECTED: "Forwarded" };
  /** @type {Record<string, string>} */
  var END_TEXT = { no_answer: "Nobody answered", cancelled: "The visitor left", rejected: "Rejected",
    busy: "Busy", hung_up: "You hung up", remote_hung_up: "The door hung up",
    answered_elsewhere: "Answered on another device", forwarded: "Forwarded",
    transferred: "Transferred", max_duration: "Call time is up",
    closed_by_supervisor: "Ended by the concierge", disconnected: "Connection lost", error: "Call failed" };

  /** @param {string} section */
  function show(section) {
    ["login", "home", "call"].forEach(function (id) { $(id).hidden = id !== section; });
  }

  /** @param {string} text */
  function note(text) { $("call-note").textContent = text; }

  // Names of the parties seen in calls, for the history (a resident does not see the directory).
  /** @type {Record<string, string>} */
  var names = JSON.parse(store.getItem("intercom.names") || "{}");
  /**
   * @param {string} number
   * @param {string} [known]   the name a call gave
   */
  function nameOf(number, known) {
    if (known && names[number] !== known) {
      names[number] = known;
      store.setItem("intercom.names", JSON.stringify(names));
    }
    var ext = client.helper.getExtensionById(number);
    return ext && ext.displayName ? ext.displayName : names[number] || number;
  }

  // ------------------------------------------------------------ connection

  /** @type {number | undefined} counts down to the next try while a login is retried */
  var retryCountdown;

  /**
   * The bar (and the login form) while a first login is retried: why, and when it tries next.
   * @param {string} why
   * @param {number} retryIn   milliseconds
   */
  function showRetrying(why, retryIn) {
    var due = Date.now() + retryIn;
    function paint() {
      var left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      var text = why + " - retrying " + (left > 0 ? "in " + left + " s" : "now");
      $("conn-state").textContent = text;
      if ($("login").hidden === false) $("login-error").textContent = text + ".";
    }
    paint();
    retryCountdown = window.setInterval(paint, 1000);
  }

  client.onConnectionStateChanged(function (info) {
    var pill = $("conn-state");
    clearInterval(retryCountdown);
    pill.dataset.state = info.State;
    pill.textContent = STATE_TEXT[info.State] || info.State;
    if (info.State === ConnectionState.CONNECTION_FAILED && info.attempt > 0) {
      // A login being retried: the form stays usable, to correct it or log in again.
      $("login-button").disabled = false;
      showRetrying(info.message ? "Not logged in: " + info.message : STATE_TEXT[info.State], info.retryIn);
      return;
    }
    if (info.State === ConnectionState.ACCESS_GRANTED) {
      $("who").textContent = (client.displayName || client.extension) + " (" + client.extension + ")";
      $("login-error").textContent = "";
      if (!current) show("home");
      loadHistory();
    } else if (info.State === ConnectionState.ACCESS_DENIED) {
      sessionStorage.removeItem("intercom.password");
      $("login-error").textContent = "Wrong extension or password.";
      show("login");
    } else if (info.State === ConnectionState.CONNECTION_FAILED && $("login").hidden === false) {
      // The exchange's own words where it answered (a device limit, a wait after wrong
      // passwords); otherwise it could not be reached at all.
      $("login-error").textContent = info.message
        ? "Not logged in: " + info.message + "."
        : "Cannot reach the intercom.";
    }
  });

  /**
   * @param {string} extension
   * @param {string} password
   */
  function login(extension, password) {
    $("login-button").disabled = true;
    // Retried until the exchange answers (a slow or lossy link, the exchange restarting).
    var properties = { Password: password, App: "resident" };
    return client.connect("", extension, properties, { retry: true }).then(function (state) {
      $("login-button").disabled = false;
      if (state === ConnectionState.ACCESS_GRANTED) {
        store.setItem("intercom.extension", extension);
        // Kept for this tab only, so that a reload logs in again.
        sessionStorage.setItem("intercom.password", password);
      }
      return state;
    });
  }

  $("login-form").addEventListener("submit", function (/** @type {Event} */ ev) {
    ev.preventDefault();
    unlockAudio();
    var extension = $("extension").value.trim(), password = $("password").value;
    // Ends a login still being retried (its attempt in flight too) before this one starts.
    client.disconnect().then(function () { login(extension, password); });
  });

  $("logout").addEventListener("click", function () {
    sessionStorage.removeItem("intercom.password");
    client.disconnect().then(function () { $("who").textContent = ""; show("login"); });
  });

  // ---------------------------------------------------------------- alerts

  /** @type {AudioContext | null} */
  var audioContext = null;
  function unlockAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!audioContext && AC) audioContext = new AC();
    if (audioContext && audioContext.state === "suspended") audioContext.resume();
  }

  /* A two-tone ring, one second on and two off, made with WebAudio (no sound file). */
  function startRingtone() {
    unlockAudio();
    const context = audioContext;
    if (!context || ringtone) return;
    var gain = context.createGain();
    gain.gain.value = 0;
    gain.connect(context.destination);
    var tones = [440, 480].map(function (f) {
      var o = context.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      return o;
    });
    var on = false;
    var beat = setInterval(function () {
      on = !on;
      gain.gain.setTargetAtTime(on ? 0.15 : 0, context.currentTime, 0.01);
    }, 1000);
    ringtone = { stop: function () { clearInterval(beat); tones.forEach(function (o) { o.stop(); }); gain.disconnect(); } };
    document.body.dataset.ringing = "1";
  }

  function stopRingtone() {
    if (ringtone) ringtone.stop();
    ringtone = null;
    delete document.body.dataset.ringing;
  }

  /** @param {Call} call */
  function notify(call) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var n = new Notification("The door is ringing", { body: nameOf(call.getOtherParty(), call.otherPartyName), tag: call.callId || undefined, icon: "/icon.svg" });
    n.onclick = function () { window.focus(); n.close(); };
    call.onCallStateChanged(function (s) { if (s !== CallState.RINGING) n.close(); });
  }

  $("enable-alerts").addEventListener("click", function () {
    unlockAudio();
    if ("Notification" in window) {
      Notification.requestPermission().then(function (p) {
        $("enable-alerts").textContent = p === "granted" ? "Call alerts are on" : "Alerts blocked by the browser";
      });
    }
  });

  // -------------------------------------------------------------- settings

  function savedCode() { return store.getItem("intercom.doorCode") || ""; }
  $("saved-code").value = savedCode();
  $("own-camera").checked = store.getItem("intercom.ownCamera") === "1";
  $("save-settings").addEventListener("click", function () {
    var code = $("saved-code").value.trim();
    if (code && !/^[0-9]{1,8}$/.test(code)) { $("settings-saved").textContent = "A door code is 1 to 8 digits."; return; }
    if (code) store.setItem("intercom.doorCode", code); else store.removeItem("intercom.doorCode");
    store.setItem("intercom.ownCamera", $("own-camera").checked ? "1" : "0");
    $("settings-saved").textContent = "Saved.";
  });

  // ---------------------------------------------------------------- calls

  client.onIncomingCall(function (call) {
    if (current) { return; } // one at a time; it keeps ringing on the resident's other devices
    current = call;
    $("call-title").textContent = nameOf(call.getOtherParty(), call.otherPartyName);
    call.setRemoteDisplay("door-video");
    call.onCallStateChanged(function (state) { if (call === current) render(state); });
    call.onMessageReceived(function (text) { note("Message: " + text); });
    call.onCallExpiring(function (seconds) { note("The call ends in " + Math.round(seconds) + " s"); });
    // The door's picture does not wait for the permission prompt; a refusal is said as it comes.
    call.onMicrophoneChanged(function (available) { if (call === current && !available) noteMicrophone(call); });
    show("call");
    render(CallState.RINGING);
    startRingtone();
    notify(call);
  });

  /** @param {string} state */
  function render(state) {
    var call = onScreen();
    var pill = $("call-state");
    pill.dataset.state = state;
    pill.textContent = CALL_TEXT[state] || state;
    var talking = state === CallState.IN_CALL || state === CallState.HOLD;
    $("ringing-actions").hidden = state !== CallState.RINGING;
    $("talking-actions").hidden = !talking;
    $("messages").hidden = !(talking || state === CallState.RINGING);
    $("hold").textContent = state === CallState.HOLD ? "Resume" : "Hold";
    if (state === CallState.RINGING) { note(""); noteMicrophone(call); return; }
    stopRingtone();
    if (state === CallState.IN_CALL && !timer) startTimer();
    if (state === CallState.HOLD) note("On hold: the visitor sees \"Please wait\".");
    if (state === CallState.IN_CALL) noteMicrophone(call);
    if (["COMPLETED", "REJECTED", "BUSY", "NOT_FOUND"].indexOf(state) >= 0) finish(call);
  }

  /**
   * Says the microphone is off when the page may not use one (the call goes on without it).
   * @param {Call} call
   */
  function noteMicrophone(call) {
    if (call.microphoneError) note("Microphone off: " + call.microphoneError);
  }

  /** @param {Call} call */
  function finish(call) {
    note(END_TEXT[call.endCause || ""] || "Call ended");
    $("talking-actions").hidden = true;
    $("ringing-actions").hidden = true;
    $("messages").hidden = true;
    $("keypad").hidden = true;
    $("code-dialog").hidden = true;
    clearInterval(timer);
    timer = undefined;
    if (ownCamera) { ownCamera.close(); ownCamera = null; $("own-video").hidden = true; }
    setTimeout(function () {
      if (current !== call) return;
      current = null;
      $("call-timer").textContent = "";
      show(client.state === ConnectionState.ACCESS_GRANTED ? "home" : "login");
      loadHistory();
    }, 1500);
  }

  function startTimer() {
    var since = Date.now();
    timer = setInterval(function () {
      var s = Math.floor((Date.now() - since) / 1000);
      $("call-timer").textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    }, 500);
  }

  /**
   * The call on screen, for the controls that are shown only while there is one.
   * @returns {Call}
   */
  function onScreen() { return /** @type {Call} */ (current); }

  /**
   * Shows how a request went: `done` once it succeeds, the error if it fails.
   * @template T
   * @param {Promise<T>} promise
   * @param {string} [done]
   */
  function act(promise, done) {
    return promise.then(function (r) { if (done) note(done); return r; }, function (e) { note(e.message || String(e)); });
  }

  $("answer").addEventListener("click", function () {
    unlockAudio();
    stopRingtone();
    act(onScreen().accept());
    if ($("own-camera").checked) toggleCamera();
  });
  $("reject").addEventListener("click", function () { stopRingtone(); act(onScreen().reject()); });
  $("hangup").addEventListener("click", function () { act(onScreen().hangUp()); });
  $("hold").addEventListener("click", function () {
    var call = onScreen();
    act(call.getCallState() === CallState.HOLD ? call.unHold() : call.hold());
  });
  $("mute").addEventListener("click", function () {
    var call = onScreen();
    call.mute(!call.muted);
    $("mute").textContent = call.muted ? "Unmute" : "Mute";
    $("mute").setAttribute("aria-pressed", call.muted ? "true" : "false");
  });

  function toggleCamera() {
    if (ownCamera) {
      ownCamera.close();
      ownCamera = null;
      $("own-video").hidden = true;
      return;
    }
    // No name: the default camera (never null).
    var camera = ownCamera = /** @type {InstanceType<typeof OzCamera>} */ (OzCamera.getCameraByName());
    camera.setMode(640, 480, 15);
    act(onScreen().attachCamera(camera).then(function () {
      if (!ownCamera) return; // turned off meanwhile
      $("own-video").hidden = false;
      return ownCamera.setDisplay("own-video");
    }));
  }
  $("camera").addEventListener("click", toggleCamera);

  // The unlock button takes the fastest path the door accepts: the unlock command where this
  // login holds the door privilege, else the code in one signalling request (RFC 4733 plays
  // ~170 ms a digit; the keypad keeps it). The station checks the code; a wrong one is counted
  // against a lockout.
  /** @param {string} code */
  function sendCode(code) {
    return act(onScreen().sendDtmf(code + "#", "signalling"), "Door code sent.");
  }
  $("unlock").addEventListener("click", function () {
    if (client.privileges.indexOf("door") >= 0) { act(onScreen().unlock(), "Door unlock sent."); return; }
    var code = savedCode();
    if (code) { sendCode(code); return; }
    $("code-dialog").hidden = false;
    $("code-input").value = "";
    $("code-input").focus();
  });
  $("code-dialog").addEventListener("submit", function (/** @type {Event} */ ev) {
    ev.preventDefault();
    var code = $("code-input").value.trim();
    if (!/^[0-9]{1,8}$/.test(code)) { note("A door code is 1 to 8 digits."); return; }
    if ($("remember-code").checked) { store.setItem("intercom.doorCode", code); $("saved-code").value = code; }
    $("code-dialog").hidden = true;
    sendCode(code);
  });
  $("code-cancel").addEventListener("click", function () { $("code-dialog").hidden = true; });

  $("keypad-toggle").addEventListener("click", function () { $("keypad").hidden = !$("keypad").hidden; });
  $("keypad").addEventListener("click", function (/** @type {Event} */ ev) {
    var target = /** @type {HTMLElement} */ (ev.target);
    var key = target.dataset && target.dataset.key;
    if (key) act(onScreen().sendDtmf(key), "Sent " + key);
  });

  document.querySelectorAll(".reply").forEach(function (reply) {
    var button = /** @type {HTMLElement} */ (reply);
    button.addEventListener("click", function () {
      var text = button.dataset.reply || "";
      act(onScreen().sendMessage(text), "Shown at the door: " + text);
    });
  });
  $("message-form").addEventListener("submit", function (/** @type {Event} */ ev) {
    ev.preventDefault();
    var text = $("message-text").value.trim();
    if (!text) return;
    act(onScreen().sendMessage(text).then(function () { $("message-text").value = ""; }), "Shown at the door: " + text);
  });

  // --------------------------------------------------------------- history

  /** @param {number} seconds */
  function duration(seconds) {
    if (!seconds) return "";
    var s = Math.round(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function loadHistory() {
    if (client.state !== ConnectionState.ACCESS_GRANTED) return;
    client.getCallHistory({ rowsPerPage: 20 }).then(function (result) {
      var body = $("history").querySelector("tbody");
      body.textContent = "";
      result.calls.forEach(function (c) {
        var other = c.Source === client.extension ? c.Destination : c.Source;
        var row = document.createElement("tr");
        row.dataset.callId = c.CallId;
        [new Date(c.StartTime).toLocaleString(), nameOf(other), OUTCOME[c.State] || c.State, duration(c.TalkDuration)]
          .forEach(function (text) {
            var cell = document.createElement("td");
            cell.textContent = text;
            row.appendChild(cell);
          });
        body.appendChild(row);
      });
      $("history").dataset.count = String(result.numberOfCalls);
    }, function () { /* shown by the connection state */ });
  }
  $("refresh-history").addEventListener("click", loadHistory);

  // ------------------------------------------------------------------ start

  var extension = store.getItem("intercom.extension") || "";
  var password = sessionStorage.getItem("intercom.password");
  $("extension").value = extension;
  show("login");
  if (extension && password) login(extension, password);

  window.intercomApp = { client: client, current: function () { return current; } };
})();
