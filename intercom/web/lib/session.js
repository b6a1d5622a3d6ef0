/*
 * Session: the exchange's record of one call, as a supervisor (monitor, modify) sees and acts
 * on it, and listening in: each party offers its media to the listener, who only receives.
 */

import { makeEvent } from "./event.js";
import { showStream } from "./display.js";
import { waitGathered } from "./media.js";

/** @typedef {import("./client.js").WebClient} WebClient */
/** @typedef {import("./display.js").DisplayId} DisplayId */
/** @typedef {import("./protocol.js").RequestType} RequestType */
/**
 * @template {unknown[]} A
 * @typedef {import("./event.js").OzEvent<A>} OzEvent
 */

/**
 * The session record of session.created/state/closed events (docs/API.md); its fields become
 * the Session's properties.
 * @typedef {Object} SessionInfo
 * @property {string} sessionId
 * @property {string} sessionState
 * @property {string} caller
 * @property {string} callee
 * @property {number | null} [answeredAt]   seconds since 1970, the exchange's clock
 * @property {number} [stateSince]          seconds since 1970, the exchange's clock
 */

/**
 * A listener's media from one party: session.signal (docs/PROTOCOL.md).
 * @typedef {Object} ListenSignal
 * @property {string} session_id
 * @property {string} peer
 * @property {string} party
 * @property {string} kind
 * @property {string} [sdp]
 */

var DTMF_KEY = /^[0-9*#A-Da-d]$/;
/** @type {Record<string, boolean>} kept as the getters below, which count on between updates */
var LIVE_FIELDS = { talkDuration: true, stateDuration: true };

/**
 * @param {number} seconds
 * @returns {string} "hh:mm:ss"
 */
function hms(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  /** @param {number} n */
  function two(n) { return String(n).padStart(2, "0"); }
  return two(Math.floor(seconds / 3600)) + ":" + two(Math.floor(seconds / 60) % 60) + ":" + two(seconds % 60);
}

/**
 * @constructor
 * @param {WebClient} client
 * @param {SessionInfo} info
 */
export function Session(client, info) {
  // The record's fields, copied by _update (declared here for the type checker only).
  /** @type {string} */
  this.sessionId;
  /** @type {string} */
  this.sessionState;
  /** @type {string} */
  this.caller;
  /** @type {string} */
  this.callee;
  /** @type {number | null | undefined} */
  this.answeredAt;
  /** @type {number | undefined} */
  this.stateSince;
  /** @type {SessionInfo} the latest record */
  this.info;
  this.client = client;
  this.closed = false;
  this.listening = false;
  /** @type {Record<string, RTCPeerConnection>} party leg -> its connection to this listener */
  this.listenPeers = {};
  /** @type {MediaStream | null} */
  this.listenStream = null;
  /** @type {HTMLAudioElement | null} */
  this.listenAudio = null;
  /** @type {OzEvent<[session: Session, state: string]>} */
  this.onSessionStateChanged = makeEvent("onSessionStateChanged");
  /** @type {OzEvent<[stream: MediaStream, party: string]>} */
  this.onListenStream = makeEvent("onListenStream");
  this._update(info);
}

/**
 * Takes a newer record; true when its state changed.
 * @param {SessionInfo} info
 * @returns {boolean}
 */
Session.prototype._update = function (info) {
  var before = this.sessionState;
  var fields = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (this));
  var given = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (info));
  Object.keys(info).forEach(function (k) { if (!LIVE_FIELDS[k]) fields[k] = given[k]; });
  this.info = info;
  // The seed's capitalised spellings.
  this.Id = info.sessionId; this.State = info.sessionState;
  this.Caller = info.caller; this.Callee = info.callee;
  return before !== info.sessionState;
};

/* Durations count on between the exchange's updates (its clock in seconds since 1970). */
Object.defineProperty(Session.prototype, "talkDuration", {
  /** @this {Session} */
  get: function () {
    if (!this.answeredAt) return "00:00:00";
    var end = this.closed ? (this.stateSince || Date.now() / 1000) : Date.now() / 1000;
    return hms(end - this.answeredAt);
  }
});
Object.defineProperty(Session.prototype, "stateDuration", {
  /** @this {Session} */
  get: function () {
    return hms(Date.now() / 1000 - (this.stateSince || Date.now() / 1000));
  }
});

/**
 * @param {RequestType} type
 * @param {Record<string, unknown>} [data]
 * @returns {Promise<any>}
 */
Session.prototype._do = function (type, data) {
  /** @type {Record<string, unknown>} */
  var payload = { session_id: this.sessionId };
  var extra = data || {};
  Object.keys(extra).forEach(function (k) { payload[k] = extra[k]; });
  return this.client._request(type, payload);
};

/**
 * @param {string} party
 * @param {string} what
 */
Session.prototype._party = function (party, what) {
  if (party !== this.caller && party !== this.callee) {
    throw new Error(what + " must be the caller (" + this.caller + ") or the callee (" + this.callee + "), not " + party);
  }
};

/**
 * @param {string} transferor   the party whose side goes to phoneNumber
 * @param {string} phoneNumber
 */
Session.prototype.blindTransfer = function (transferor, phoneNumber) {
  this._party(transferor, "transferor");
  if (!phoneNumber) throw new Error("blindTransfer needs a phone number");
  return this._do("session.blind_transfer", { transferor: transferor, target: String(phoneNumber) });
};
Session.prototype.close = function () { return this._do("session.close"); };
Session.prototype.closeWithHangup = function () { return this._do("session.close_with_hangup"); };
/** @param {string} phoneNumber */
Session.prototype.forward = function (phoneNumber) {
  if (!phoneNumber) throw new Error("forward needs a phone number");
  return this._do("session.forward", { target: String(phoneNumber) });
};
Session.prototype.hangup = function () { return this._do("session.hangup"); };
Session.prototype.hold = function () { return this._do("session.hold"); };
Session.prototype.unhold = function () { return this._do("session.unhold"); };
/**
 * @param {string} key           one of 0-9, *, #, A-D
 * @param {string} phoneNumber   the party that receives it
 */
Session.prototype.sendDtmf = function (key, phoneNumber) {
  if (typeof key !== "string" || !DTMF_KEY.test(key)) throw new Error("DTMF key must be one of 0-9, *, #, A-D");
  this._party(phoneNumber, "the DTMF recipient");
  return this._do("session.send_dtmf", { key: key, party: phoneNumber });
};

/** Hear (and see) the call without being heard: each party offers its media here. */
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
/** @param {DisplayId} displayId */
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
/**
 * A party's offer to this listener (or its goodbye): answered receive-only.
 * @param {ListenSignal} data
 */
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
      var stream = /** @type {MediaStream} */ (self.listenStream);
      if (stream.getTracks().indexOf(ev.track) < 0) stream.addTrack(ev.track);
      if (!self.listenAudio) {
        self.listenAudio = document.createElement("audio");
        self.listenAudio.autoplay = true;
        self.listenAudio.srcObject = stream;
      }
      var p = self.listenAudio.play();
      if (p && p.catch) p.catch(function () {});
      self.onListenStream.emit(stream, data.party);
    });
  }
  const listener = pc;
  listener.setRemoteDescription({ type: "offer", sdp: data.sdp })
    .then(function () { return listener.createAnswer(); })
    .then(function (answer) { return listener.setLocalDescription(answer); })
    .then(function () { return waitGathered(listener); })
    .then(function () {
      var local = /** @type {RTCSessionDescription} */ (listener.localDescription);
      return self.client._request("session.signal", { session_id: self.sessionId, peer: peerId, kind: "answer", sdp: local.sdp });
    })
    .catch(function (e) { console.error("listening to " + data.party + " failed", e); });
};
