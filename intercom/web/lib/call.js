/*
 * Call: this client's own leg of a call, with the seed's seven public states (plus the
 * one-time ANSWERED). The exchange's call.state events drive it; its media follows them.
 */

import { CallState, CallType, FINAL_CALL_STATES, HOLD_SESSION_STATES } from "./enums.js";
import { makeEvent } from "./event.js";
import { showStream } from "./display.js";
import { CallMedia, sendTones } from "./media.js";
import { OzCamera } from "./camera.js";

/** @typedef {import("./client.js").WebClient} WebClient */
/** @typedef {import("./display.js").DisplayId} DisplayId */
/** @typedef {import("./enums.js").CallTypeName} CallTypeName */
/** @typedef {import("./protocol.js").RequestType} RequestType */
/**
 * @template {unknown[]} A
 * @typedef {import("./event.js").OzEvent<A>} OzEvent
 */

/**
 * What a call.state event says about a leg (docs/PROTOCOL.md).
 * @typedef {Object} CallStateData
 * @property {string} state
 * @property {string} [session_id]
 * @property {string} [session_state]
 * @property {string} [other_party]
 * @property {string} [other_party_name]
 * @property {string[]} [other_privileges]
 * @property {string} [cause]
 * @property {string} [message]
 */

/**
 * @constructor
 * @param {WebClient} client
 * @param {string} number        the number dialled, or the caller's for an incoming call
 * @param {CallTypeName} callType
 * @param {boolean} incoming
 */
export function Call(client, number, callType, incoming) {
  this.client = client;
  /** @type {string | null} */
  this.callId = null;
  /** @type {string | null} */
  this.sessionId = null;
  this.dialed = number;
  this.otherParty = number;
  this.otherPartyName = "";
  /** @type {CallTypeName} */
  this.callType = callType || CallType.AUDIO;
  this.incoming = !!incoming;
  /** @type {string | null} */
  this.state = null;
  /** @type {string | null} */
  this.sessionState = null;
  /** @type {string[]} */
  this.statesSeen = [];
  /** @type {string | null} */
  this.endCause = null;
  this.endMessage = "";
  /** @type {string[]} */
  this.otherPrivileges = [];
  this.answered = false;
  this.onHold = false;
  this.muted = false;
  /** @type {OzCamera | null} */
  this.camera = null;
  /** @type {DisplayId | null} */
  this.displayId = null;
  /** @type {string | null} */
  this.microphoneError = null;
  /** @type {number | null} seconds; shorter than the exchange's limit */
  this.maxDuration = null;
  /** @type {number | null} seconds; shorter than the exchange's ring timeout */
  this.ringTimeout = null;
  /** @type {string | null} the other leg this incoming call's media comes from */
  this.peer = null;
  /** @type {OzEvent<[state: string, call: Call]>} */
  this.onCallStateChanged = makeEvent("onCallStateChanged");
  /** @type {OzEvent<[text: string, from: string]>} */
  this.onMessageReceived = makeEvent("onMessageReceived");
  /** @type {OzEvent<[key: string, source: string, from: string]>} */
  this.onDtmfReceived = makeEvent("onDtmfReceived");
  /** @type {OzEvent<[secondsLeft: number]>} */
  this.onCallExpiring = makeEvent("onCallExpiring");
  /** @type {OzEvent<[secondsLeft: number]>} */
  this.onCallExtended = makeEvent("onCallExtended");
  /** @type {OzEvent<[stream: MediaStream]>} */
  this.onRemoteStream = makeEvent("onRemoteStream");
  /** @type {OzEvent<[peer: string]>} */
  this.onMediaConnected = makeEvent("onMediaConnected");
  /**
   * The microphone's permission prompt was answered: the page got one (the call hears it once
   * answered) or not (`error` says why; the door's video plays either way).
   * @type {OzEvent<[available: boolean, error: string | null]>}
   */
  this.onMicrophoneChanged = makeEvent("onMicrophoneChanged");
  this.media = client.mediaEnabled ? new CallMedia(this) : null;
}

/**
 * @param {RequestType} type
 * @param {Record<string, unknown>} [data]
 * @returns {Promise<any>}
 */
Call.prototype._do = function (type, data) {
  if (!this.callId) return this.client._fail(new Error("the call has not been started"));
  /** @type {Record<string, unknown>} */
  var payload = { call_id: this.callId };
  var extra = data || {};
  Object.keys(extra).forEach(function (k) { payload[k] = extra[k]; });
  return this.client._request(type, payload);
};

/** Dials; resolves to `{call_id, session_id}` once the exchange has taken the call. */
Call.prototype.start = function () {
  var self = this;
  if (this.callId) return this.client._fail(new Error("the call was already started"));
  /** @type {Record<string, unknown>} */
  var data = { number: this.dialed, call_type: this.callType };
  if (this.maxDuration) data.max_duration = this.maxDuration;
  if (this.ringTimeout) data.ring_timeout = this.ringTimeout;
  if (this.media) this.media.microphone(); // ask for it now, not when the callee answers
  return this.client._request("call.start", data, function (result) {
    // Registered as the answer arrives, before any event about the new call is handled.
    self.callId = result.call_id;
    self.sessionId = result.session_id;
    self.client.calls[result.call_id] = self;
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
/** @param {string} target */
Call.prototype.forward = function (target) {
  if (!target) return this.client._fail(new Error("forward needs a target number"));
  return this._do("call.forward", { target: String(target) });
};
/** @param {string} target */
Call.prototype.transfer = function (target) {
  if (!target) return this.client._fail(new Error("transfer needs a target number"));
  return this._do("call.transfer", { target: String(target) });
};
/** @param {string} message */
Call.prototype.sendMessage = function (message) {
  if (typeof message !== "string" || !message) return this.client._fail(new Error("a message is non-empty text"));
  return this._do("call.message", { text: message });
};
Call.prototype.getCallState = function () { return this.state; };
Call.prototype.getOtherParty = function () { return this.otherParty; };
/** @param {number} seconds */
Call.prototype.extend = function (seconds) { return this._do("call.extend", { seconds: seconds }); };
/**
 * Privileged unlock (the 'door' privilege): the station pulses the named relay.
 * @param {string} [relay]
 */
Call.prototype.unlock = function (relay) { return this._do("call.command", { command: "unlock", target: relay || "door" }); };
/** @param {boolean} muted */
Call.prototype.mute = function (muted) {
  this.muted = !!muted;
  if (this.media) this.media.applyGates();
};

/**
 * DTMF: "rtp" (RFC 4733 through RTCDTMFSender), "signalling", or "auto" (the default:
 * RTP where the call negotiated telephone-event, else signalling). Resolves to the method.
 * @param {string} digits
 * @param {"auto" | "rtp" | "signalling"} [method]
 * @returns {Promise<"rtp" | "signalling">}
 */
Call.prototype.sendDtmf = function (digits, method) {
  digits = String(digits || "").toUpperCase();
  if (!/^[0-9A-D*#]{1,32}$/.test(digits)) return this.client._fail(new Error("DTMF digits are 0-9, *, #, A-D"));
  method = method || "auto";
  var senders = this.media ? this.media.dtmfSenders() : [];
  if (method === "rtp" && !senders.length) return this.client._fail(new Error("this call negotiated no RFC 4733 DTMF"));
  if (method === "signalling" || !senders.length) {
    return this._do("call.dtmf", { digits: digits }).then(function () { return "signalling"; });
  }
  return sendTones(senders, digits).then(function () { return "rtp"; });
};

/**
 * Sends this browser's camera in the call (no renegotiation: the video is already there).
 * @param {OzCamera} camera
 * @returns {Promise<void>}
 */
Call.prototype.attachCamera = function (camera) {
  if (!(camera instanceof OzCamera)) return this.client._fail(new TypeError("attachCamera needs an OzCamera"));
  this.camera = camera;
  camera._calls.push(this);
  const media = this.media;
  if (!media) return Promise.resolve();
  return camera.open().then(function (track) { return media.setCamera(track); })
    .then(function () { camera._applyQuality(); });
};

/** @param {DisplayId} displayId */
Call.prototype.setRemoteDisplay = function (displayId) {
  this.displayId = displayId || "local";
  if (this.media) showStream(this.displayId, this.media.remote);
};

/** @returns {MediaStream | null} */
Call.prototype.remoteStream = function () { return this.media ? this.media.remote : null; };

/** @param {CallStateData} data */
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

/**
 * The media side of a state change: the microphone's gate, and hold or resume.
 * @param {string} state
 * @param {string | undefined} sessionState
 */
Call.prototype._media = function (state, sessionState) {
  var media = this.media;
  if (!media) return;
  if (FINAL_CALL_STATES.indexOf(state) >= 0) { media.close(); return; }
  var holding = HOLD_SESSION_STATES.indexOf(sessionState || "") >= 0;
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

/**
 * Ends the leg here, when the exchange can no longer say so (the connection is gone).
 * @param {string} cause
 */
Call.prototype._end = function (cause) {
  if (this.state && FINAL_CALL_STATES.indexOf(this.state) >= 0) return;
  this._applyState({ state: CallState.COMPLETED, cause: cause });
};
