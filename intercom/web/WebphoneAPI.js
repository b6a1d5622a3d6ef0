/*
 * WebphoneAPI: the Ozeki Phone System JavaScript API for browsers, served by the intercom
 * exchange at /WebphoneAPI (a classic script defining globals) and /WebphoneAPI.mjs (the same,
 * as an ES module with named exports). No build step; same wire protocol as the Python client
 * (docs/PROTOCOL.md); media over WebRTC with one RTCPeerConnection per remote party.
 *
 * Seed style:
 *   OzWebClient.onConnectionStateChanged(function (info) { if (info.State == ConnectionState.ACCESS_GRANTED) ... });
 *   OzWebClient.onIncomingCall(function (call) { call.setRemoteDisplay("door"); call.accept(); });
 *   OzWebClient.connect("door.local", "201", { Password: "..." });
 *
 * Every method that talks to the exchange also returns a Promise (rejected with an OzError,
 * which onErrorOccured sees too), so modern code can await it; the seed's style ignores it.
 */
(function (global) {
  "use strict";

  var PROTOCOL_VERSION = 1;
  var DEFAULT_PORT = 7777;
  var REQUEST_TIMEOUT_MS = 10000;
  var ICE_GATHER_CAP_MS = 3000;

  function freeze(names) {
    var out = {};
    names.forEach(function (n) { out[n] = n; });
    return Object.freeze(out);
  }

  var ConnectionState = freeze(["ACCESS_GRANTED", "ACCESS_DENIED", "CONNECTION_FAILED", "CONNECTION_CLOSED"]);
  var CallState = freeze(["RINGING", "NOT_FOUND", "REJECTED", "HOLD", "IN_CALL", "COMPLETED", "BUSY", "ANSWERED"]);
  var CallType = freeze(["AUDIO", "VIDEO"]);
  var SessionState = freeze([
    "SETUP", "RINGING", "INCALL", "CALLEEONHOLD", "CALLERONHOLD", "ONHOLD", "ONHOLDINACTIVE",
    "TRANSFERREQUESTED", "TRANSFERRING", "TRANSFERCOMPLETED", "TRANSFERFAILED", "CALLERHUNGUP",
    "CALLEEHUNGUP", "REDIRECTED", "NOTFOUND", "BUSY", "REJECTED", "CANCELLED", "NOTANSWERED",
    "ERROR", "ABORTED"]);
  var ClientStatus = freeze(["ONLINE", "OFFLINE"]);
  var WebphoneState = freeze(["ONLINE", "OFFLINE", "NOT_FOUND"]);
  var FINAL_CALL_STATES = ["NOT_FOUND", "REJECTED", "COMPLETED", "BUSY"];
  var HOLD_SESSION_STATES = ["CALLEEONHOLD", "CALLERONHOLD", "ONHOLD", "ONHOLDINACTIVE"];

  // ------------------------------------------------------------------ events

  /* An event is a function: event(handler) subscribes and returns a function that unsubscribes. */
  function makeEvent(name) {
    var handlers = [];
    function event(handler) {
      if (typeof handler !== "function") throw new TypeError(name + " needs a function");
      handlers.push(handler);
      return function () { event.off(handler); };
    }
    event.off = function (handler) {
      var i = handlers.indexOf(handler);
      if (i >= 0) handlers.splice(i, 1);
    };
    event.emit = function () {
      var args = arguments;
      handlers.slice().forEach(function (h) {
        try { h.apply(null, args); } catch (e) { console.error(name + " handler failed", e); }
      });
    };
    event.eventName = name;
    return event;
  }

  function OzError(data) {
    this.code = data.code;
    this.name = data.name || "Error";
    this.message = data.message || this.name;
  }
  OzError.prototype = Object.create(Error.prototype);
  OzError.prototype.constructor = OzError;

  // ------------------------------------------------------------ addresses

  var libraryUrl = (typeof document !== "undefined" && document.currentScript && document.currentScript.src) || null;

  /* "" (the exchange that served this library, else this page's), "host", "host:port",
     "[v6]:port", or a ws://, wss://, http:// or https:// URL. */
  function serverUrl(address) {
    address = (address || "").trim();
    if (!address) {
      var base = libraryUrl || (typeof location !== "undefined" ? location.href : null);
      if (!base) throw new Error("no server address given");
      var u = new URL(base);
      return (u.protocol === "http:" ? "ws:" : "wss:") + "//" + u.host + "/";
    }
    if (address.indexOf("://") >= 0) {
      var parsed = new URL(address);
      var scheme = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" }[parsed.protocol];
      if (!scheme) throw new Error("not a WebSocket address: " + address);
      return scheme + "//" + parsed.hostname.replace(/^([^\[].*:.*)$/, "[$1]") + ":" + (parsed.port || DEFAULT_PORT) + (parsed.pathname || "/");
    }
    var m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$|^([^:\[\]\/]+)(?::(\d+))?$/.exec(address);
    if (!m) throw new Error("not a server address: " + address);
    var host = m[1] ? "[" + m[1] + "]" : m[3];
    return "wss://" + host + ":" + (m[2] || m[4] || DEFAULT_PORT) + "/";
  }

  var HISTORY_KEYS = {
    pagenumber: "page_number", rowsperpage: "rows_per_page", from: "from", until: "until",
    to: "until", general: "general", direction: "direction", source: "source",
    destination: "destination", state: "state", dialed: "dialed", callerid: "caller_id",
    callid: "call_id", type: "type", extension: "extension"
  };

  function historyFilters(filters) {
    var out = {};
    Object.keys(filters || {}).forEach(function (key) {
      var norm = HISTORY_KEYS[key.replace(/_/g, "").toLowerCase()];
      if (!norm) throw new Error("unknown call history filter " + key);
      if (filters[key] !== null && filters[key] !== undefined) out[norm] = filters[key];
    });
    return out;
  }

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function element(id) {
    var el = typeof id === "string" ? document.getElementById(id) : id;
    if (!el) throw new Error("no element with id " + id);
    if (el.tagName === "VIDEO") return el;
    var video = el.querySelector("video");
    if (!video) {
      video = document.createElement("video");
      video.style.width = "100%";
      el.appendChild(video);
    }
    return video;
  }

  function showStream(id, stream) {
    var video = element(id);
    video.muted = true; // sound plays through the call's own audio element
    video.autoplay = true;
    video.playsInline = true;
    if (video.srcObject !== stream) video.srcObject = stream;
    var p = video.play();
    if (p && p.catch) p.catch(function () { /* played once the page is interacted with */ });
    return video;
  }

  // ------------------------------------------------------------------ media

  function waitGathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = setTimeout(done, ICE_GATHER_CAP_MS);
      function done() {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      }
      function check() { if (pc.iceGatheringState === "complete") done(); }
      pc.addEventListener("icegatheringstatechange", check);
    });
  }

  /* The media of one call leg: a peer connection per remote party. The party that made a
     peer connection offers on it and is the only one that re-offers (hold, resume). */
  function CallMedia(call) {
    this.call = call;
    this.peers = {};           // peer id -> { pc, offerer, audio, video }
    this.remote = new MediaStream();
    this.audioOut = null;
    this.micPromise = null;
    this.mic = null;
    this.closed = false;
    this.direction = null; // what the last hold or resume asked peers for
    this.queue = Promise.resolve();
  }

  CallMedia.prototype.post = function (job) {
    var self = this;
    this.queue = this.queue.then(function () { if (!self.closed) return job(); })
      .catch(function (e) { console.error("call media", e); });
    return this.queue;
  };

  CallMedia.prototype.microphone = function () {
    var self = this;
    if (!this.micPromise) {
      var md = typeof navigator !== "undefined" && navigator.mediaDevices;
      this.micPromise = (md && md.getUserMedia ? md.getUserMedia({ audio: true }) : Promise.reject(new Error("no media devices")))
        .then(function (stream) {
          self.mic = stream.getAudioTracks()[0] || null;
          if (self.closed && self.mic) self.mic.stop();
          self.applyGates();
          return self.mic;
        })
        .catch(function (e) {
          self.call.microphoneError = String(e && e.message || e);
          return null;
        });
    }
    return this.micPromise;
  };

  CallMedia.prototype.applyGates = function () {
    // The microphone is heard only in the conversation: not while ringing, not on hold.
    if (this.mic) this.mic.enabled = this.call.answered && !this.call.onHold && !this.call.muted;
  };

  CallMedia.prototype.newPeer = function (peerId, offerer) {
    var self = this;
    var pc = new RTCPeerConnection({ iceServers: this.call.client.iceServers || [] });
    var peer = { id: peerId, pc: pc, offerer: offerer, audio: null, video: null };
    this.peers[peerId] = peer;
    pc.addEventListener("track", function (ev) {
      // Fired again on every resume with the same track: adding must be idempotent.
      if (peerId.indexOf("listener:") === 0) return;
      if (self.remote.getTracks().indexOf(ev.track) < 0) self.remote.addTrack(ev.track);
      if (ev.track.kind === "audio") self.playAudio();
      self.call.onRemoteStream.emit(self.remote);
      if (self.call.displayId) showStream(self.call.displayId, self.remote);
    });
    pc.addEventListener("connectionstatechange", function () {
      if (pc.connectionState === "connected") self.call.onMediaConnected.emit(peerId);
    });
    return peer;
  };

  CallMedia.prototype.playAudio = function () {
    if (!this.audioOut) {
      this.audioOut = document.createElement("audio");
      this.audioOut.autoplay = true;
      this.audioOut.srcObject = this.remote;
    }
    var p = this.audioOut.play();
    if (p && p.catch) p.catch(function () { /* needs a click first; accept() is one */ });
  };

  CallMedia.prototype.cameraTrack = function () {
    var cam = this.call.camera;
    return cam ? cam.open() : Promise.resolve(null);
  };

  CallMedia.prototype.sendSignal = function (peer, kind, sdp) {
    return this.call.client._request("call.signal", { call_id: this.call.callId, kind: kind, sdp: sdp || "", peer: peer.id });
  };

  /* Sends the local description once ICE gathering is complete (no trickle: aiortc has none). */
  CallMedia.prototype.sendLocal = function (peer, kind) {
    return this.sendSignal(peer, kind, peer.pc.localDescription.sdp);
  };

  /* Offer this party's media to a peer: "sendrecv" to a call's other party, "sendonly" to a
     supervisor listening in (who hears what this party says, and sees its camera). */
  CallMedia.prototype.offerTo = function (peerId, direction) {
    var self = this;
    return this.post(function () {
      if (self.peers[peerId]) return;
      var peer = self.newPeer(peerId, true);
      return Promise.all([self.microphone(), self.cameraTrack()]).then(function (tracks) {
        peer.audio = peer.pc.addTransceiver(tracks[0] || "audio", { direction: direction });
        if (self.call.callType === CallType.VIDEO) {
          peer.video = peer.pc.addTransceiver(tracks[1] || "video", { direction: direction });
        }
        return self.reoffer(peer);
      });
    });
  };

  CallMedia.prototype.addPeer = function (peerId) { return this.offerTo(peerId, "sendrecv"); };
  CallMedia.prototype.addListener = function (conn) { return this.offerTo("listener:" + conn, "sendonly"); };

  CallMedia.prototype.reoffer = function (peer) {
    var self = this, pc = peer.pc;
    return pc.createOffer()
      .then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { return waitGathered(pc); })
      .then(function () { return self.sendLocal(peer, "offer"); });
  };

  CallMedia.prototype.handleSignal = function (peerId, kind, sdp) {
    var self = this;
    return this.post(function () {
      var peer = self.peers[peerId];
      if (kind === "answer") {
        if (peer && peer.pc.signalingState === "have-local-offer") {
          return peer.pc.setRemoteDescription({ type: "answer", sdp: sdp }).then(function () {
            // A hold or resume that came while this offer was out is offered now.
            if (peer.offerer && self.direction && peer.pc.getTransceivers().some(function (t) {
              return t.direction !== self.wanted(peer);
            })) return self.offerDirection(peer);
          });
        }
        return;
      }
      if (kind === "bye") return self.closePeer(peerId);
      if (kind !== "offer") return;
      var fresh = !peer;
      if (fresh) peer = self.newPeer(peerId, false);
      return self.answer(peer, sdp, fresh).catch(function (e) {
        console.error("negotiation with " + peerId + " failed", e);
        self.closePeer(peerId);
        return self.sendSignal(peer, "bye", "");
      });
    });
  };

  CallMedia.prototype.answer = function (peer, sdp, fresh) {
    var self = this, pc = peer.pc;
    // Early media: answer at once with the microphone attached but disabled, so that
    // answering the call later only enables it, with no new negotiation.
    var ready = fresh ? Promise.all([self.microphone(), self.cameraTrack()]) : Promise.resolve([null, null]);
    return ready.then(function (tracks) {
      return pc.setRemoteDescription({ type: "offer", sdp: sdp }).then(function () {
        if (!fresh) return;
        var work = [];
        pc.getTransceivers().forEach(function (t) {
          var kind = t.receiver.track.kind;
          if (kind === "audio" && !peer.audio) {
            peer.audio = t;
            if (tracks[0]) work.push(t.sender.replaceTrack(tracks[0]));
            t.direction = tracks[0] ? "sendrecv" : "recvonly";
          } else if (kind === "video" && !peer.video) {
            peer.video = t;
            if (tracks[1]) work.push(t.sender.replaceTrack(tracks[1]));
            // sendrecv even without a camera yet: attachCamera() then needs no renegotiation
            t.direction = "sendrecv";
          }
        });
        return Promise.all(work);
      });
    }).then(function () { return pc.createAnswer(); })
      .then(function (answer) { return pc.setLocalDescription(answer); })
      .then(function () { return waitGathered(pc); })
      .then(function () { return self.sendLocal(peer, "answer"); });
  };

  CallMedia.prototype.closePeer = function (peerId) {
    var peer = this.peers[peerId];
    if (!peer) return;
    delete this.peers[peerId];
    peer.pc.close();
  };

  /* Re-offer `direction` on the peers this side offered to; a peer still waiting for the
     answer to an earlier offer gets it once that answer is in (handleSignal). */
  CallMedia.prototype.renegotiate = function (direction) {
    var self = this;
    this.direction = direction;
    return this.post(function () {
      var work = [];
      Object.keys(self.peers).forEach(function (id) {
        var peer = self.peers[id];
        if (peer.offerer && peer.pc.signalingState === "stable") work.push(self.offerDirection(peer));
      });
      return Promise.all(work);
    });
  };

  CallMedia.prototype.wanted = function (peer) {
    var direction = this.direction || "sendrecv";
    return peer.id.indexOf("listener:") === 0 && direction !== "inactive" ? "sendonly" : direction;
  };

  CallMedia.prototype.offerDirection = function (peer) {
    var wanted = this.wanted(peer);
    peer.pc.getTransceivers().forEach(function (t) { t.direction = wanted; });
    return this.reoffer(peer);
  };

  CallMedia.prototype.setCamera = function (track) {
    var work = [];
    var self = this;
    Object.keys(this.peers).forEach(function (id) {
      var peer = self.peers[id];
      if (peer.video) work.push(peer.video.sender.replaceTrack(track));
    });
    return Promise.all(work);
  };

  CallMedia.prototype.dtmfSenders = function () {
    var out = [];
    var self = this;
    Object.keys(this.peers).forEach(function (id) {
      var peer = self.peers[id];
      var dtmf = peer.audio && peer.audio.sender && peer.audio.sender.dtmf;
      if (id.indexOf("listener:") !== 0 && dtmf && dtmf.canInsertDTMF) out.push(dtmf);
    });
    return out;
  };

  CallMedia.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    var self = this;
    Object.keys(this.peers).forEach(function (id) { self.closePeer(id); });
    if (this.mic) this.mic.stop();
    if (this.audioOut) { this.audioOut.srcObject = null; this.audioOut = null; }
    this.remote.getTracks().forEach(function (t) { self.remote.removeTrack(t); });
  };

  // ------------------------------------------------------------------ Call

  function Call(client, number, callType, incoming) {
    this.client = client;
    this.callId = null;
    this.sessionId = null;
    this.dialed = number;
    this.otherParty = number;
    this.otherPartyName = "";
    this.callType = callType || CallType.AUDIO;
    this.incoming = !!incoming;
    this.state = null;
    this.sessionState = null;
    this.statesSeen = [];
    this.endCause = null;
    this.endMessage = "";
    this.otherPrivileges = [];
    this.answered = false;
    this.onHold = false;
    this.muted = false;
    this.camera = null;
    this.displayId = null;
    this.microphoneError = null;
    this.maxDuration = null;
    this.ringTimeout = null;
    this.onCallStateChanged = makeEvent("onCallStateChanged");
    this.onMessageReceived = makeEvent("onMessageReceived");
    this.onDtmfReceived = makeEvent("onDtmfReceived");
    this.onCallExpiring = makeEvent("onCallExpiring");
    this.onCallExtended = makeEvent("onCallExtended");
    this.onRemoteStream = makeEvent("onRemoteStream");
    this.onMediaConnected = makeEvent("onMediaConnected");
    this.media = client.mediaEnabled ? new CallMedia(this) : null;
  }

  Call.prototype._do = function (type, data) {
    if (!this.callId) return this.client._fail(new Error("the call has not been started"));
    var payload = { call_id: this.callId };
    Object.keys(data || {}).forEach(function (k) { payload[k] = data[k]; });
    return this.client._request(type, payload);
  };

  Call.prototype.start = function () {
    var self = this;
    if (this.callId) return this.client._fail(new Error("the call was already started"));
    var data = { number: this.dialed, call_type: this.callType };
    if (this.maxDuration) data.max_duration = this.maxDuration;
    if (this.ringTimeout) data.ring_timeout = this.ringTimeout;
    if (this.media) this.media.microphone(); // ask for it now, not when the callee answers
    return this.client._request("call.start", data, function (result) {
      // Registered as the answer arrives, before any event about the new call is handled.
      self.callId = result.call_id;
      self.sessionId = result.session_id;
      self.client.calls[self.callId] = self;
    });
  };

  Call.prototype.accept = function () {
    if (this.media) this.media.playAudio(); // inside the click that answers: audio may play
    return this._do("call.accept");
  };
  Call.prototype.reject = function () { return this._do("call.reject"); };
  Call.prototype.hangUp = function () { return this._do("call.hangup"); };
  Call.prototype.hold = function () { return this._do("call.hold"); };
  Call.prototype.unHold = function () { return this._do("call.unhold"); };
  Call.prototype.forward = function (target) {
    if (!target) return this.client._fail(new Error("forward needs a target number"));
    return this._do("call.forward", { target: String(target) });
  };
  Call.prototype.transfer = function (target) {
    if (!target) return this.client._fail(new Error("transfer needs a target number"));
    return this._do("call.transfer", { target: String(target) });
  };
  Call.prototype.sendMessage = function (message) {
    if (typeof message !== "string" || !message) return this.client._fail(new Error("a message is non-empty text"));
    return this._do("call.message", { text: message });
  };
  Call.prototype.getCallState = function () { return this.state; };
  Call.prototype.getOtherParty = function () { return this.otherParty; };
  Call.prototype.extend = function (seconds) { return this._do("call.extend", { seconds: seconds }); };
  /* Privileged unlock (the 'door' privilege): the station pulses the named relay. */
  Call.prototype.unlock = function (relay) { return this._do("call.command", { command: "unlock", target: relay || "door" }); };
  Call.prototype.mute = function (muted) {
    this.muted = !!muted;
    if (this.media) this.media.applyGates();
  };

  /* DTMF: "rtp" (RFC 4733 through RTCDTMFSender), "signalling", or "auto" (the default:
     RTP where the call negotiated telephone-event, else signalling). Resolves to the method. */
  Call.prototype.sendDtmf = function (digits, method) {
    digits = String(digits || "").toUpperCase();
    if (!/^[0-9A-D*#]{1,32}$/.test(digits)) return this.client._fail(new Error("DTMF digits are 0-9, *, #, A-D"));
    method = method || "auto";
    var senders = this.media ? this.media.dtmfSenders() : [];
    if (method === "rtp" && !senders.length) return this.client._fail(new Error("this call negotiated no RFC 4733 DTMF"));
    if (method === "signalling" || !senders.length) {
      return this._do("call.dtmf", { digits: digits }).then(function () { return "signalling"; });
    }
    var toneMs = 100, gapMs = 70;
    return Promise.all(senders.map(function (dtmf) {
      return new Promise(function (resolve) {
        var done = false;
        function finish() { if (!done) { done = true; dtmf.removeEventListener("tonechange", onTone); resolve(); } }
        function onTone(ev) { if (ev.tone === "") finish(); }
        dtmf.addEventListener("tonechange", onTone);
        dtmf.insertDTMF(digits, toneMs, gapMs);
        setTimeout(finish, digits.length * (toneMs + gapMs) + 1000);
      });
    })).then(function () { return "rtp"; });
  };

  Call.prototype.attachCamera = function (camera) {
    if (!(camera instanceof OzCamera)) return this.client._fail(new TypeError("attachCamera needs an OzCamera"));
    this.camera = camera;
    camera._calls.push(this);
    var media = this.media;
    if (!media) return Promise.resolve();
    return camera.open().then(function (track) { return media.setCamera(track); })
      .then(function () { camera._applyQuality(); });
  };

  Call.prototype.setRemoteDisplay = function (displayId) {
    this.displayId = displayId || "local";
    if (this.media) showStream(this.displayId, this.media.remote);
  };

  Call.prototype.remoteStream = function () { return this.media ? this.media.remote : null; };

  Call.prototype._applyState = function (data) {
    var state = data.state;
    if (data.session_id) this.sessionId = data.session_id;
    if (data.session_state) this.sessionState = data.session_state;
    if (data.other_party) { this.otherParty = data.other_party; this.otherPartyName = data.other_party_name || ""; }
    if (data.other_privileges) this.otherPrivileges = data.other_privileges;
    if (data.cause) this.endCause = data.cause;
    if (data.message) this.endMessage = data.message;
    if (state !== CallState.ANSWERED) this.state = state;
    this.statesSeen.push(state);
    this._media(state, data.session_state);
    this.onCallStateChanged.emit(state, this);
  };

  Call.prototype._media = function (state, sessionState) {
    var media = this.media;
    if (!media) return;
    if (FINAL_CALL_STATES.indexOf(state) >= 0) { media.close(); return; }
    var holding = HOLD_SESSION_STATES.indexOf(sessionState) >= 0;
    if (state === CallState.RINGING && this.answered) {
      this.answered = false;   // forwarded or transferred: the new party must not hear us yet
      media.applyGates();
    } else if (state === CallState.IN_CALL && !holding) {
      var resumed = this.onHold;
      this.answered = true;
      this.onHold = false;
      media.applyGates();
      media.playAudio();
      if (resumed) media.renegotiate("sendrecv");
    } else if (holding && !this.onHold) {
      this.onHold = true;
      media.applyGates();
      media.renegotiate("inactive");
    }
  };

  Call.prototype._end = function (cause) {
    if (this.state && FINAL_CALL_STATES.indexOf(this.state) >= 0) return;
    this._applyState({ state: CallState.COMPLETED, cause: cause });
  };

  // --------------------------------------------------------------- OzCamera

  var cameraDevices = [];
  var cameraIds = 0;

  /* A camera of this browser (getUserMedia), opened when first attached or displayed. */
  function OzCamera(deviceId, name) {
    this.deviceId = deviceId || null;
    this.name = name || "default";
    this.id = "camera" + (++cameraIds);
    this.width = 640;
    this.height = 480;
    this.fps = 15;
    this.bandwidth = 0;
    this.quality = 0;
    this.track = null;
    this._opening = null;
    this._calls = [];
    this._displays = [];
  }

  OzCamera.refresh = function () {
    var md = typeof navigator !== "undefined" && navigator.mediaDevices;
    if (!md || !md.enumerateDevices) return Promise.resolve([]);
    return md.enumerateDevices().then(function (devices) {
      cameraDevices = devices.filter(function (d) { return d.kind === "videoinput"; });
      return OzCamera.getNames();
    });
  };
  OzCamera.getNames = function () {
    return cameraDevices.map(function (d, i) { return d.label || "camera " + i; });
  };
  OzCamera.getCameraByIndex = function (index) {
    var d = cameraDevices[index];
    return d ? new OzCamera(d.deviceId, d.label || "camera " + index) : null;
  };
  /* No name: the default camera. */
  OzCamera.getCameraByName = function (cameraName) {
    if (cameraName === undefined || cameraName === null || cameraName === "") return new OzCamera(null, "default");
    var names = OzCamera.getNames();
    var i = names.indexOf(cameraName);
    return i >= 0 ? OzCamera.getCameraByIndex(i) : null;
  };

  OzCamera.prototype._constraints = function () {
    var video = { width: { ideal: this.width }, height: { ideal: this.height }, frameRate: { ideal: this.fps } };
    if (this.deviceId) video.deviceId = { exact: this.deviceId };
    return video;
  };
  OzCamera.prototype.open = function () {
    var self = this;
    if (this.track && this.track.readyState === "live") return Promise.resolve(this.track);
    if (!this._opening) {
      this._opening = navigator.mediaDevices.getUserMedia({ video: this._constraints() }).then(function (stream) {
        self.track = stream.getVideoTracks()[0];
        self._opening = null;
        self._displays.forEach(function (id) { showStream(id, new MediaStream([self.track])); });
        return self.track;
      }, function (e) { self._opening = null; throw e; });
    }
    return this._opening;
  };
  OzCamera.prototype.close = function () {
    if (this.track) this.track.stop();
    this.track = null;
  };
  OzCamera.prototype._settings = function () { return this.track ? this.track.getSettings() : {}; };
  OzCamera.prototype.getFps = function () { return this._settings().frameRate || this.fps; };
  OzCamera.prototype.getHeight = function () { return this._settings().height || this.height; };
  OzCamera.prototype.getWidth = function () { return this._settings().width || this.width; };
  OzCamera.prototype.getId = function () { return this.id; };
  OzCamera.prototype.getName = function () { return this.name; };
  OzCamera.prototype.setMode = function (width, height, fps) {
    if (!(width > 0 && height > 0 && fps > 0)) throw new Error("setMode needs a positive width, height and fps");
    this.width = width; this.height = height; this.fps = fps;
    return this.track ? this.track.applyConstraints(this._constraints()) : Promise.resolve();
  };
  /* bandwidth: bytes per second (0: as needed); quality 0-100 (0: whatever the bandwidth allows). */
  OzCamera.prototype.setQuality = function (bandwidth, quality) {
    if (!(bandwidth >= 0) || !(quality >= 0 && quality <= 100)) throw new Error("setQuality needs bandwidth >= 0 and quality 0-100");
    this.bandwidth = bandwidth; this.quality = quality;
    return this._applyQuality();
  };
  OzCamera.prototype._applyQuality = function () {
    var self = this, work = [];
    this._calls.forEach(function (call) {
      if (!call.media) return;
      Object.keys(call.media.peers).forEach(function (id) {
        var peer = call.media.peers[id];
        if (!peer.video) return;
        var params = peer.video.sender.getParameters();
        if (!params.encodings || !params.encodings.length) return;
        params.encodings.forEach(function (e) {
          if (self.bandwidth > 0) e.maxBitrate = self.bandwidth * 8; else delete e.maxBitrate;
        });
        work.push(peer.video.sender.setParameters(params).catch(function () {}));
      });
    });
    return Promise.all(work);
  };
  OzCamera.prototype.setDisplay = function (displayId) {
    this._displays.push(displayId);
    var self = this;
    return this.open().then(function (track) { showStream(displayId, new MediaStream([track])); return self; });
  };

  // ------------------------------------------------------- directory objects

  function Extension(info) {
    this.onExtensionStatusChanged = makeEvent("onExtensionStatusChanged");
    this._update(info);
  }
  Extension.prototype._update = function (info) {
    this.id = info.id;
    this.phoneNumber = info.phoneNumber || info.id;
    this.type = info.type;
    this.displayName = info.displayName || "";
    this.userId = info.userId || null;
    this.isOutsideLine = !!info.isOutsideLine;
    this.status = info.status || "OFFLINE";
  };
  Extension.prototype._setStatus = function (status) {
    if (status === this.status) return;
    this.status = status;
    this.onExtensionStatusChanged.emit(this, status);
  };

  function User(info) { this._update(info); }
  User.prototype._update = function (info) {
    this.id = info.id;
    this.userName = info.userName || info.id;
    this.fullName = info.fullName || "";
    this.emailAddress = info.emailAddress || "";
    this.phoneNumber = info.phoneNumber || "";
    this.mobileNumber = info.mobileNumber || "";
    this.extensions = (info.extensions || []).slice();
  };

  // ---------------------------------------------------------------- Session

  var DTMF_KEY = /^[0-9*#A-Da-d]$/;
  var LIVE_FIELDS = { talkDuration: true, stateDuration: true };

  function hms(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    function two(n) { return String(n).padStart(2, "0"); }
    return two(Math.floor(seconds / 3600)) + ":" + two(Math.floor(seconds / 60) % 60) + ":" + two(seconds % 60);
  }

  function Session(client, info) {
    this.client = client;
    this.closed = false;
    this.listening = false;
    this.listenPeers = {};
    this.listenStream = null;
    this.listenAudio = null;
    this.onSessionStateChanged = makeEvent("onSessionStateChanged");
    this.onListenStream = makeEvent("onListenStream");
    this._update(info);
  }

  Session.prototype._update = function (info) {
    var before = this.sessionState;
    var self = this;
    Object.keys(info).forEach(function (k) { if (!LIVE_FIELDS[k]) self[k] = info[k]; });
    this.info = info;
    // The seed's capitalised spellings.
    this.Id = info.sessionId; this.State = info.sessionState;
    this.Caller = info.caller; this.Callee = info.callee;
    return before !== info.sessionState;
  };

  /* Durations count on between the exchange's updates (its clock in seconds since 1970). */
  Object.defineProperty(Session.prototype, "talkDuration", { get: function () {
    if (!this.answeredAt) return "00:00:00";
    var end = this.closed ? (this.stateSince || Date.now() / 1000) : Date.now() / 1000;
    return hms(end - this.answeredAt);
  } });
  Object.defineProperty(Session.prototype, "stateDuration", { get: function () {
    return hms(Date.now() / 1000 - (this.stateSince || Date.now() / 1000));
  } });

  Session.prototype._do = function (type, data) {
    var payload = { session_id: this.sessionId };
    Object.keys(data || {}).forEach(function (k) { payload[k] = data[k]; });
    return this.client._request(type, payload);
  };

  Session.prototype._party = function (party, what) {
    if (party !== this.caller && party !== this.callee) {
      throw new Error(what + " must be the caller (" + this.caller + ") or the callee (" + this.callee + "), not " + party);
    }
  };

  Session.prototype.blindTransfer = function (transferor, phoneNumber) {
    this._party(transferor, "transferor");
    if (!phoneNumber) throw new Error("blindTransfer needs a phone number");
    return this._do("session.blind_transfer", { transferor: transferor, target: String(phoneNumber) });
  };
  Session.prototype.close = function () { return this._do("session.close"); };
  Session.prototype.closeWithHangup = function () { return this._do("session.close_with_hangup"); };
  Session.prototype.forward = function (phoneNumber) {
    if (!phoneNumber) throw new Error("forward needs a phone number");
    return this._do("session.forward", { target: String(phoneNumber) });
  };
  Session.prototype.hangup = function () { return this._do("session.hangup"); };
  Session.prototype.hold = function () { return this._do("session.hold"); };
  Session.prototype.unhold = function () { return this._do("session.unhold"); };
  Session.prototype.sendDtmf = function (key, phoneNumber) {
    if (typeof key !== "string" || !DTMF_KEY.test(key)) throw new Error("DTMF key must be one of 0-9, *, #, A-D");
    this._party(phoneNumber, "the DTMF recipient");
    return this._do("session.send_dtmf", { key: key, party: phoneNumber });
  };

  /* Hear (and see) the call without being heard: each party offers its media here. */
  Session.prototype.startListen = function () {
    var self = this;
    this.listening = true;
    if (!this.listenStream) this.listenStream = new MediaStream();
    return this._do("session.start_listen").catch(function (e) { self._stopListenMedia(); throw e; });
  };
  Session.prototype.stopListen = function () {
    var self = this;
    return this._do("session.stop_listen").then(function (r) { self._stopListenMedia(); return r; });
  };
  Session.prototype.setListenDisplay = function (displayId) {
    if (!this.listenStream) this.listenStream = new MediaStream();
    showStream(displayId, this.listenStream);
  };
  Session.prototype._stopListenMedia = function () {
    var self = this;
    this.listening = false;
    Object.keys(this.listenPeers).forEach(function (id) { self.listenPeers[id].close(); });
    this.listenPeers = {};
    if (this.listenAudio) { this.listenAudio.srcObject = null; this.listenAudio = null; }
  };
  Session.prototype._listenSignal = function (data) {
    var self = this;
    if (!this.listening) return;
    var peerId = data.peer;
    if (data.kind === "bye") {
      if (this.listenPeers[peerId]) { this.listenPeers[peerId].close(); delete this.listenPeers[peerId]; }
      return;
    }
    if (data.kind !== "offer") return;
    var pc = this.listenPeers[peerId];
    if (!pc) {
      pc = this.listenPeers[peerId] = new RTCPeerConnection({ iceServers: this.client.iceServers || [] });
      pc.addEventListener("track", function (ev) {
        if (self.listenStream.getTracks().indexOf(ev.track) < 0) self.listenStream.addTrack(ev.track);
        if (!self.listenAudio) {
          self.listenAudio = document.createElement("audio");
          self.listenAudio.autoplay = true;
          self.listenAudio.srcObject = self.listenStream;
        }
        var p = self.listenAudio.play();
        if (p && p.catch) p.catch(function () {});
        self.onListenStream.emit(self.listenStream, data.party);
      });
    }
    pc.setRemoteDescription({ type: "offer", sdp: data.sdp })
      .then(function () { return pc.createAnswer(); })
      .then(function (answer) { return pc.setLocalDescription(answer); })
      .then(function () { return waitGathered(pc); })
      .then(function () {
        return self.client._request("session.signal", { session_id: self.sessionId, peer: peerId, kind: "answer", sdp: pc.localDescription.sdp });
      })
      .catch(function (e) { console.error("listening to " + data.party + " failed", e); });
  };

  // ----------------------------------------------------------------- Helper

  function pick(table, test) {
    var out = {};
    Object.keys(table).forEach(function (k) { if (test(table[k])) out[k] = table[k]; });
    return out;
  }

  function Helper(client) { this.client = client; }
  Helper.prototype.getExtensionById = function (id) { return this.client.extensions[id] || null; };
  Helper.prototype.getExtensions = function () { return pick(this.client.extensions, function () { return true; }); };
  Helper.prototype.getExtensionsByType = function (type) {
    var t = String(type).toLowerCase();
    return pick(this.client.extensions, function (e) { return String(e.type).toLowerCase() === t; });
  };
  Helper.prototype.getOutsideLineById = function (id) { return this.client.outsideLines[id] || null; };
  Helper.prototype.getOutsideLines = function () { return pick(this.client.outsideLines, function () { return true; }); };
  Helper.prototype.getOutsideLinesByType = function (type) {
    var t = String(type).toLowerCase();
    return pick(this.client.outsideLines, function (e) { return String(e.type).toLowerCase() === t; });
  };
  Helper.prototype.getUserById = function (id) { return this.client.users[id] || null; };
  Helper.prototype.getUserByExtension = function (extensionId) {
    var users = this.client.users;
    var id = Object.keys(users).find(function (k) { return users[k].extensions.indexOf(extensionId) >= 0; });
    return id ? users[id] : null;
  };
  Helper.prototype.getActiveSessionById = function (id) { return this.client.sessions[id] || null; };
  /* Rich states (INCALL), public ones (IN_CALL) and HOLD. */
  Helper.prototype.getActiveSessionsBySessionState = function (state) {
    var text = String(state).toUpperCase();
    var wanted = text === "HOLD" ? HOLD_SESSION_STATES : [text.replace(/_/g, "")];
    return pick(this.client.sessions, function (s) { return wanted.indexOf(s.sessionState) >= 0; });
  };
  Helper.prototype.getActiveCallsOfExtension = function (id) {
    return pick(this.client.sessions, function (s) { return s.caller === id || s.callee === id; });
  };
  Helper.prototype.getActiveCallsOfUser = function (userId) {
    var user = this.client.users[userId];
    if (!user) return {};
    return pick(this.client.sessions, function (s) {
      return user.extensions.indexOf(s.caller) >= 0 || user.extensions.indexOf(s.callee) >= 0;
    });
  };
  Helper.prototype.getCallHistoryOfExtension = function (extensionId, properties) {
    var filters = {};
    Object.keys(properties || {}).forEach(function (k) { filters[k] = properties[k]; });
    filters.extension = extensionId;
    return this.client.getCallHistory(filters);
  };

  // ------------------------------------------------------------ OzWebClient

  function WebClient() {
    this.state = ConnectionState.CONNECTION_CLOSED;
    this.extension = null;
    this.displayName = "";
    this.privileges = [];
    this.iceServers = [];
    this.limits = {};
    this.server = {};
    this.extensions = {};
    this.outsideLines = {};
    this.users = {};
    this.sessions = {};
    this.clients = {};
    this.calls = {};
    this.helper = new Helper(this);
    /* false: signalling only (no microphone, no peer connections). */
    this.mediaEnabled = true;
    this.reconnect = true;
    this._url = null;
    this._login = null;
    this._ws = null;
    this._ids = 1;
    this._pending = {};
    this._closing = false;
    var names = ["onConnectionStateChanged", "onClientStateChanged", "onIncomingCall", "onErrorOccured",
      "onCallHistoryInfoReceived", "onExtensionInfoReceived", "onExtensionRemoved", "onUserInfoReceived",
      "onUserRemoved", "onSessionCreated", "onSessionClosed", "onWebphoneStateReceived"];
    var self = this;
    names.forEach(function (n) { self[n] = makeEvent(n); });
  }

  WebClient.prototype._fail = function (error) {
    this.onErrorOccured.emit(error);
    return Promise.reject(error);
  };

  /* Log in with a token, or with an extension number as `token` and its password as
     properties.Password. Resolves to the ConnectionState, also given to onConnectionStateChanged. */
  WebClient.prototype.connect = function (serverAddress, token, properties) {
    if (this._ws) return this._fail(new Error("already connected; disconnect() first"));
    var props = {};
    var password = null;
    Object.keys(properties || {}).forEach(function (k) {
      if (k.toLowerCase() === "password") password = String(properties[k]);
      else props[k] = properties[k];
    });
    this._url = serverUrl(serverAddress);
    this._login = password !== null
      ? { extension: String(token), password: password, properties: props }
      : { token: String(token), properties: props };
    this._closing = false;
    this._attempt = 0;
    return this._open(true);
  };

  WebClient.prototype._open = function (first) {
    var self = this;
    return new Promise(function (resolve) {
      var ws;
      var settled = false, granted = false;
      function settle(state, message) {
        if (settled) return;
        settled = true;
        if (state !== ConnectionState.ACCESS_GRANTED) {
          self._ws = null;
          if (first || state === ConnectionState.ACCESS_DENIED) self._setState(state, message);
          else self._retry();
        }
        resolve(state);
      }
      try {
        ws = new WebSocket(self._url);
      } catch (e) {
        settle(ConnectionState.CONNECTION_FAILED, String(e.message || e));
        return;
      }
      self._ws = ws;
      ws.onopen = function () {
        ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: "login", id: 0, data: self._login }));
      };
      ws.onmessage = function (ev) {
        var frame;
        try { frame = JSON.parse(ev.data); } catch (e) { return; }
        if (!settled) {
          if (frame.type === "result" && frame.id === 0) {
            self._attempt = 0;
            self._snapshot(frame.data);
            settled = granted = true;
            self._setState(ConnectionState.ACCESS_GRANTED);
            resolve(ConnectionState.ACCESS_GRANTED);
          } else if (frame.type === "error" && frame.id === 0) {
            var denied = frame.data && frame.data.code === 305;
            self._closing = self._closing || denied;
            settle(denied ? ConnectionState.ACCESS_DENIED : ConnectionState.CONNECTION_FAILED, frame.data && frame.data.message);
            ws.close();
          }
          return;
        }
        self._handle(frame);
      };
      ws.onclose = function (ev) {
        if (!granted) { settle(ConnectionState.CONNECTION_FAILED, ev.reason || "closed (" + ev.code + ")"); return; }
        self._lost();
        self._setState(ConnectionState.CONNECTION_CLOSED, ev.reason || "");
        if (!self._closing && self.reconnect && ev.code !== 4003) self._retry();
      };
    });
  };

  WebClient.prototype._retry = function () {
    var self = this;
    var wait = Math.min(4000, 250 * Math.pow(2, this._attempt++)) * (0.5 + Math.random() / 2);
    this._retryTimer = setTimeout(function () { if (!self._closing) self._open(false); }, wait);
  };

  WebClient.prototype._setState = function (state, message) {
    this.state = state;
    // The seed reads info.State; the rest is ours.
    this.onConnectionStateChanged.emit({ State: state, state: state, extension: this.extension, message: message || "" });
  };

  WebClient.prototype._lost = function () {
    var self = this;
    this._ws = null;
    Object.keys(this._pending).forEach(function (id) {
      self._pending[id].reject(new OzError({ code: 0, name: "NotConnected", message: "not connected to the exchange" }));
    });
    this._pending = {};
    Object.keys(this.calls).forEach(function (id) { self.calls[id]._end("disconnected"); });
    this.calls = {};
  };

  WebClient.prototype.disconnect = function () {
    this._closing = true;
    clearTimeout(this._retryTimer);
    var ws = this._ws;
    if (!ws) return Promise.resolve();
    return new Promise(function (resolve) {
      ws.addEventListener("close", function () { resolve(); });
      ws.close(1000, "bye");
    });
  };

  WebClient.prototype._snapshot = function (snap) {
    var self = this;
    this.extension = snap.extension;
    this.displayName = snap.displayName || "";
    this.privileges = snap.privileges || [];
    this.iceServers = snap.iceServers || [];
    this.limits = snap.limits || {};
    this.server = snap.server || {};
    this.clients = {};
    (snap.clients || []).forEach(function (c) { self.clients[c.phoneNumber] = c; });
    (snap.extensions || []).forEach(function (i) { self._extensionInfo(i, self.extensions); });
    (snap.outsideLines || []).forEach(function (i) { self._extensionInfo(i, self.outsideLines); });
    (snap.users || []).forEach(function (i) { self._userInfo(i); });
    var fresh = {};
    (snap.sessions || []).forEach(function (s) { fresh[s.sessionId] = s; });
    Object.keys(this.sessions).forEach(function (id) {
      if (!fresh[id]) self._sessionClosed(self.sessions[id].info); // ended while we were away
    });
    Object.keys(fresh).forEach(function (id) { self._sessionEvent(fresh[id]); });
  };

  WebClient.prototype._extensionInfo = function (info, table) {
    var ext = table[info.id];
    if (!ext) ext = table[info.id] = new Extension(info);
    else { var status = info.status; info.status = ext.status; ext._update(info); ext._setStatus(status); }
    this.onExtensionInfoReceived.emit(ext);
  };

  WebClient.prototype._userInfo = function (info) {
    var user = this.users[info.id];
    if (!user) user = this.users[info.id] = new User(info);
    else user._update(info);
    this.onUserInfoReceived.emit(user);
  };

  WebClient.prototype._sessionEvent = function (info) {
    var session = this.sessions[info.sessionId];
    if (!session) {
      session = this.sessions[info.sessionId] = new Session(this, info);
      this.onSessionCreated.emit(session);
      return;
    }
    if (session._update(info)) session.onSessionStateChanged.emit(session, info.sessionState);
  };

  WebClient.prototype._sessionClosed = function (info) {
    var session = this.sessions[info.sessionId];
    if (!session) return;
    delete this.sessions[info.sessionId];
    var changed = session._update(info);
    session.closed = true;
    session._stopListenMedia();
    if (changed) session.onSessionStateChanged.emit(session, info.sessionState);
    this.onSessionClosed.emit(session);
  };

  WebClient.prototype._handle = function (frame) {
    var kind = frame.type, data = frame.data || {};
    if ((kind === "result" || kind === "error") && frame.id !== undefined && frame.id !== null) {
      var pending = this._pending[frame.id];
      if (!pending) return;
      delete this._pending[frame.id];
      if (kind === "result") {
        if (pending.onResult) pending.onResult(data);
        pending.resolve(data);
      } else {
        var error = new OzError(data);
        this.onErrorOccured.emit(error);
        pending.reject(error);
      }
      return;
    }
    var handler = EVENTS[kind];
    if (handler) handler(this, data);
  };

  function callOf(client, data) { return client.calls[data.call_id] || null; }

  var EVENTS = {
    "error": function (c, d) { c.onErrorOccured.emit(new OzError(d)); },
    "call.incoming": function (c, d) {
      var call = new Call(c, d.caller, d.call_type || CallType.AUDIO, true);
      call.callId = d.call_id;
      call.sessionId = d.session_id || null;
      call.otherPartyName = d.caller_name || "";
      call.dialed = d.dialed || call.dialed;
      call.otherPrivileges = d.other_privileges || [];
      call.peer = d.peer || null;
      c.calls[d.call_id] = call;
      if (call.media) call.media.microphone(); // ready before the caller's offer arrives
      c.onIncomingCall.emit(call);
    },
    "call.state": function (c, d) {
      var call = callOf(c, d);
      if (!call) return;
      call._applyState(d);
      if (FINAL_CALL_STATES.indexOf(call.state) >= 0) delete c.calls[d.call_id];
    },
    "call.message": function (c, d) {
      var call = callOf(c, d);
      if (call) call.onMessageReceived.emit(d.text, d.from || "");
    },
    "call.dtmf": function (c, d) {
      var call = callOf(c, d);
      if (call) call.onDtmfReceived.emit(d.key, d.source || "signalling", d.from || "");
    },
    "call.warning": function (c, d) { var call = callOf(c, d); if (call) call.onCallExpiring.emit(d.seconds_left); },
    "call.extended": function (c, d) { var call = callOf(c, d); if (call) call.onCallExtended.emit(d.seconds_left); },
    "call.peer": function (c, d) {
      var call = callOf(c, d);
      if (!call || !call.media) return;
      if (d.added) call.media.addPeer(d.peer);
      else call.media.post(function () { call.media.closePeer(d.peer); });
    },
    "call.signal": function (c, d) {
      var call = callOf(c, d);
      if (call && call.media) call.media.handleSignal(d.peer, d.kind, d.sdp || "");
    },
    "call.listener": function (c, d) {
      var call = callOf(c, d);
      if (!call || !call.media) return;
      if (d.active) call.media.addListener(d.conn);
      else call.media.post(function () { call.media.closePeer("listener:" + d.conn); });
    },
    "client.state": function (c, d) {
      if (d.status === ClientStatus.ONLINE) c.clients[d.phoneNumber] = d;
      else delete c.clients[d.phoneNumber];
      c.onClientStateChanged.emit(d);
    },
    "session.created": function (c, d) { c._sessionEvent(d); },
    "session.state": function (c, d) { c._sessionEvent(d); },
    "session.closed": function (c, d) { c._sessionClosed(d); },
    "session.signal": function (c, d) {
      var s = c.sessions[d.session_id];
      if (s) s._listenSignal(d);
    },
    "extension.info": function (c, d) { c._extensionInfo(d, d.isOutsideLine ? c.outsideLines : c.extensions); },
    "extension.removed": function (c, d) {
      var ext = c.extensions[d.id] || c.outsideLines[d.id];
      delete c.extensions[d.id];
      delete c.outsideLines[d.id];
      if (ext) c.onExtensionRemoved.emit(ext);
    },
    "extension.status": function (c, d) { var ext = c.extensions[d.id]; if (ext) ext._setStatus(d.status); },
    "user.info": function (c, d) { c._userInfo(d); },
    "user.removed": function (c, d) {
      var user = c.users[d.id];
      delete c.users[d.id];
      if (user) c.onUserRemoved.emit(user);
    }
  };

  WebClient.prototype._request = function (type, data, onResult) {
    var self = this;
    var ws = this._ws;
    if (!ws || this.state !== ConnectionState.ACCESS_GRANTED || ws.readyState !== 1) {
      return this._fail(new OzError({ code: 0, name: "NotConnected", message: "not connected to the exchange" }));
    }
    var id = this._ids++;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        delete self._pending[id];
        reject(new OzError({ code: 0, name: "Timeout", message: type + " got no answer" }));
      }, REQUEST_TIMEOUT_MS);
      self._pending[id] = {
        onResult: onResult,
        resolve: function (v) { clearTimeout(timer); resolve(v); },
        reject: function (e) { clearTimeout(timer); reject(e); }
      };
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: type, id: id, data: data }));
    });
  };

  /* A new outgoing call; nothing is dialled until call.start(). */
  WebClient.prototype.createCall = function (dialedNumber, callType) {
    if (!dialedNumber) throw new Error("createCall needs a number");
    var type = callType || CallType.AUDIO;
    if (!CallType[type]) throw new Error("unknown call type " + callType);
    return new Call(this, String(dialedNumber), type, false);
  };

  /* Click-to-call: ring caller's devices; once one answers, dial callee. Resolves to the session id. */
  WebClient.prototype.setupCall = function (caller, callee) {
    if (!caller || !callee) return this._fail(new Error("setupCall needs a caller and a callee"));
    return this._request("setup_call", { caller: String(caller), callee: String(callee) })
      .then(function (r) { return r.session_id; });
  };

  /* Results also reach onCallHistoryInfoReceived({numberOfCalls, calls}). */
  WebClient.prototype.getCallHistory = function (filters) {
    var self = this, query;
    try { query = historyFilters(filters); } catch (e) { return this._fail(e); }
    return this._request("history.query", query).then(function (r) {
      var result = { numberOfCalls: r.numberOfCalls, calls: r.calls };
      self.onCallHistoryInfoReceived.emit(result);
      return result;
    });
  };

  /* Is this webphone (extension) online? Works before logging in too. */
  WebClient.prototype.checkWebphoneState = function (serverAddress, webphoneId, callback) {
    var self = this, url;
    try { url = serverUrl(serverAddress); } catch (e) { return this._fail(e); }
    var asked;
    if (this.state === ConnectionState.ACCESS_GRANTED && url === this._url) {
      asked = this._request("webphone.state", { webphone_id: String(webphoneId) });
    } else {
      asked = new Promise(function (resolve, reject) {
        var ws = new WebSocket(url);
        var timer = setTimeout(function () { ws.close(); reject(new OzError({ code: 0, name: "ConnectionFailed", message: "cannot reach " + url })); }, REQUEST_TIMEOUT_MS);
        ws.onopen = function () { ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: "webphone.state", id: 1, data: { webphone_id: String(webphoneId) } })); };
        ws.onmessage = function (ev) {
          clearTimeout(timer);
          var frame = JSON.parse(ev.data);
          ws.close();
          if (frame.type === "error") reject(new OzError(frame.data)); else resolve(frame.data);
        };
        ws.onerror = function () { clearTimeout(timer); reject(new OzError({ code: 0, name: "ConnectionFailed", message: "cannot reach " + url })); };
      }).catch(function (e) { self.onErrorOccured.emit(e); throw e; });
    }
    return asked.then(function (info) {
      self.onWebphoneStateReceived.emit(info);
      if (typeof callback === "function") callback(info);
      return info;
    });
  };

  WebClient.prototype._setLibraryUrl = function (url) { libraryUrl = url; };

  /* The seed uses one global client; OzWebClient.create() makes more (several logins in a page). */
  var OzWebClient = new WebClient();
  OzWebClient.create = function () { return new WebClient(); };
  OzWebClient.serverUrl = serverUrl;
  OzWebClient.OzError = OzError;

  OzCamera.refresh();

  var api = {
    OzWebClient: OzWebClient, Call: Call, Session: Session, Extension: Extension, User: User,
    Helper: Helper, OzCamera: OzCamera, ConnectionState: ConnectionState, CallState: CallState,
    CallType: CallType, SessionState: SessionState, ClientStatus: ClientStatus, WebphoneState: WebphoneState
  };
  Object.keys(api).forEach(function (name) { global[name] = api[name]; });
})(typeof globalThis !== "undefined" ? globalThis : this);
