/*
 * The media of one call leg: a peer connection per remote party, the microphone (heard only
 * in the conversation), hold and resume by re-offering, and RFC 4733 DTMF.
 *
 * The party that made a peer connection offers on it and is the only one that re-offers, so
 * an aiortc station never receives an offer on a connection it answered. ICE is not trickled
 * (aiortc has none): each side sends its description once gathering is complete.
 */

import { CallType } from "./enums.js";
import { showStream } from "./display.js";

/** Gathering stops here at the latest: host candidates come at once, others may never. */
var ICE_GATHER_CAP_MS = 3000;

/** @typedef {import("./call.js").Call} Call */

/**
 * One remote party's peer connection, and the transceivers that carry this party's media.
 * @typedef {Object} Peer
 * @property {string} id          the other leg, or "listener:<conn>" for a supervisor
 * @property {RTCPeerConnection} pc
 * @property {boolean} offerer    this side made it, offers on it and re-offers on it
 * @property {RTCRtpTransceiver | null} audio
 * @property {RTCRtpTransceiver | null} video
 */

/**
 * Resolves once ICE gathering is complete, or after ICE_GATHER_CAP_MS.
 * @param {RTCPeerConnection} pc
 * @returns {Promise<void>}
 */
export function waitGathered(pc) {
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

/**
 * @constructor
 * @param {Call} call
 */
export function CallMedia(call) {
  this.call = call;
  /** @type {Record<string, Peer>} peer id -> peer */
  this.peers = {};
  this.remote = new MediaStream();
  /** @type {HTMLAudioElement | null} */
  this.audioOut = null;
  /** @type {Promise<MediaStreamTrack | null> | null} */
  this.micPromise = null;
  /** @type {MediaStreamTrack | null} */
  this.mic = null;
  this.closed = false;
  /** @type {RTCRtpTransceiverDirection | null} what the last hold or resume asked peers for */
  this.direction = null;
  /** @type {Promise<unknown>} negotiation steps run one at a time, in order */
  this.queue = Promise.resolve();
}

/**
 * Runs `job` after every job posted before it (none once closed); a failure is logged.
 * @param {() => unknown} job
 * @returns {Promise<unknown>}
 */
CallMedia.prototype.post = function (job) {
  var self = this;
  this.queue = this.queue.then(function () { if (!self.closed) return job(); })
    .catch(function (e) { console.error("call media", e); });
  return this.queue;
};

/**
 * Asks for the microphone once. When it comes it is gated first (applyGates), then put into
 * every peer answered before it came; the call hears of it either way (onMicrophoneChanged).
 * @returns {Promise<MediaStreamTrack | null>} null when the page may not use one
 */
CallMedia.prototype.microphone = function () {
  var self = this;
  if (!this.micPromise) {
    var md = typeof navigator !== "undefined" && navigator.mediaDevices;
    this.micPromise = (md && md.getUserMedia ? md.getUserMedia({ audio: true }) : Promise.reject(new Error("no media devices")))
      .then(function (stream) {
        self.mic = stream.getAudioTracks()[0] || null;
        if (self.closed && self.mic) self.mic.stop();
        self.applyGates();
        self.attachMicrophone();
        if (!self.closed) self.call.onMicrophoneChanged.emit(!!self.mic, null);
        return self.mic;
      })
      .catch(function (e) {
        self.call.microphoneError = String(e && e.message || e);
        if (!self.closed) self.call.onMicrophoneChanged.emit(false, self.call.microphoneError);
        return null;
      });
  }
  return this.micPromise;
};

/**
 * Puts the microphone into the audio senders that have no track yet: the peers answered
 * before the permission prompt was. replaceTrack needs no renegotiation (the audio was
 * answered sendrecv), and the track is already gated, so a ringing call still hears nothing.
 */
CallMedia.prototype.attachMicrophone = function () {
  var self = this, mic = this.mic;
  if (!mic || this.closed) return;
  Object.keys(this.peers).forEach(function (id) {
    var audio = self.peers[id].audio;
    if (audio && !audio.sender.track) {
      audio.sender.replaceTrack(mic).catch(function (e) { console.error("microphone to " + id, e); });
    }
  });
};

CallMedia.prototype.applyGates = function () {
  // The microphone is heard only in the conversation: not while ringing, not on hold.
  if (this.mic) this.mic.enabled = this.call.answered && !this.call.onHold && !this.call.muted;
};

/**
 * @param {string} peerId
 * @param {boolean} offerer
 * @returns {Peer}
 */
CallMedia.prototype.newPeer = function (peerId, offerer) {
  var self = this;
  var pc = new RTCPeerConnection({ iceServers: this.call.client.iceServers || [] });
  /** @type {Peer} */
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

/** @returns {Promise<MediaStreamTrack | null>} */
CallMedia.prototype.cameraTrack = function () {
  var cam = this.call.camera;
  return cam ? cam.open() : Promise.resolve(null);
};

/**
 * @param {Peer} peer
 * @param {"offer" | "answer" | "bye"} kind
 * @param {string} sdp
 */
CallMedia.prototype.sendSignal = function (peer, kind, sdp) {
  return this.call.client._request("call.signal", { call_id: this.call.callId, kind: kind, sdp: sdp || "", peer: peer.id });
};

/**
 * Sends the local description once ICE gathering is complete (no trickle: aiortc has none).
 * @param {Peer} peer
 * @param {"offer" | "answer"} kind
 */
CallMedia.prototype.sendLocal = function (peer, kind) {
  var local = /** @type {RTCSessionDescription} */ (peer.pc.localDescription);
  return this.sendSignal(peer, kind, local.sdp);
};

/**
 * Offer this party's media to a peer: "sendrecv" to a call's other party, "sendonly" to a
 * supervisor listening in (who hears what this party says, and sees its camera).
 * @param {string} peerId
 * @param {RTCRtpTransceiverDirection} direction
 */
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

/** @param {string} peerId */
CallMedia.prototype.addPeer = function (peerId) { return this.offerTo(peerId, "sendrecv"); };
/** @param {string} conn */
CallMedia.prototype.addListener = function (conn) { return this.offerTo("listener:" + conn, "sendonly"); };

/** @param {Peer} peer */
CallMedia.prototype.reoffer = function (peer) {
  var self = this, pc = peer.pc;
  return pc.createOffer()
    .then(function (offer) { return pc.setLocalDescription(offer); })
    .then(function () { return waitGathered(pc); })
    .then(function () { return self.sendLocal(peer, "offer"); });
};

/**
 * A `call.signal` from the exchange: the other side's offer, answer or goodbye on one peer.
 * @param {string} peerId
 * @param {string} kind
 * @param {string} sdp
 */
CallMedia.prototype.handleSignal = function (peerId, kind, sdp) {
  var self = this;
  return this.post(function () {
    var peer = self.peers[peerId];
    if (kind === "answer") {
      if (peer && peer.pc.signalingState === "have-local-offer") {
        var answered = peer;
        return peer.pc.setRemoteDescription({ type: "answer", sdp: sdp }).then(function () {
          // A hold or resume that came while this offer was out is offered now.
          if (answered.offerer && self.direction && answered.pc.getTransceivers().some(function (t) {
            return t.direction !== self.wanted(answered);
          })) return self.offerDirection(answered);
        });
      }
      return;
    }
    if (kind === "bye") return self.closePeer(peerId);
    if (kind !== "offer") return;
    var fresh = !peer;
    if (fresh) peer = self.newPeer(peerId, false);
    var offered = peer;
    return self.answer(offered, sdp, fresh).catch(function (e) {
      console.error("negotiation with " + peerId + " failed", e);
      self.closePeer(peerId);
      return self.sendSignal(offered, "bye", "");
    });
  });
};

/**
 * @param {Peer} peer
 * @param {string} sdp
 * @param {boolean} fresh   the first offer on this peer
 */
CallMedia.prototype.answer = function (peer, sdp, fresh) {
  var self = this, pc = peer.pc;
  // Early media that waits on no permission prompt: the offer is answered at once, audio and
  // video sendrecv with whatever tracks there are now (often none). The microphone, disabled
  // until the call is answered, and the camera are put in with replaceTrack when they come,
  // with no new negotiation; the door's picture plays meanwhile.
  if (fresh) this.microphone(); // attaches itself to this peer when the prompt is answered
  return pc.setRemoteDescription({ type: "offer", sdp: sdp }).then(function () {
    if (!fresh) return;
    /** @type {Promise<void>[]} */
    var work = [];
    pc.getTransceivers().forEach(function (t) {
      var kind = t.receiver.track.kind;
      if (kind === "audio" && !peer.audio) {
        peer.audio = t;
        if (self.mic) work.push(t.sender.replaceTrack(self.mic));
        t.direction = "sendrecv";
      } else if (kind === "video" && !peer.video) {
        peer.video = t;
        t.direction = "sendrecv";
      }
    });
    return Promise.all(work);
  }).then(function () { return pc.createAnswer(); })
    .then(function (answer) { return pc.setLocalDescription(answer); })
    .then(function () { return waitGathered(pc); })
    .then(function () { return self.sendLocal(peer, "answer"); })
    .then(function () { if (fresh) self.attachCameraTo(peer); });
};

/**
 * The camera, if this call has one, into a peer answered without it (opening it may prompt).
 * @param {Peer} peer
 */
CallMedia.prototype.attachCameraTo = function (peer) {
  var self = this;
  this.cameraTrack().then(function (track) {
    var video = peer.video;
    if (!track || !video || video.sender.track || self.peers[peer.id] !== peer) return;
    return video.sender.replaceTrack(track);
  }).catch(function (e) { console.error("camera to " + peer.id, e); });
};

/** @param {string} peerId */
CallMedia.prototype.closePeer = function (peerId) {
  var peer = this.peers[peerId];
  if (!peer) return;
  delete this.peers[peerId];
  peer.pc.close();
};

/**
 * Re-offer `direction` on the peers this side offered to; a peer still waiting for the
 * answer to an earlier offer gets it once that answer is in (handleSignal).
 * @param {RTCRtpTransceiverDirection} direction
 */
CallMedia.prototype.renegotiate = function (direction) {
  var self = this;
  this.direction = direction;
  return this.post(function () {
    /** @type {Promise<unknown>[]} */
    var work = [];
    Object.keys(self.peers).forEach(function (id) {
      var peer = self.peers[id];
      if (peer.offerer && peer.pc.signalingState === "stable") work.push(self.offerDirection(peer));
    });
    return Promise.all(work);
  });
};

/**
 * The direction a peer's transceivers should have now: a listener is only ever sent to.
 * @param {Peer} peer
 * @returns {RTCRtpTransceiverDirection}
 */
CallMedia.prototype.wanted = function (peer) {
  /** @type {RTCRtpTransceiverDirection} */
  var direction = this.direction || "sendrecv";
  return peer.id.indexOf("listener:") === 0 && direction !== "inactive" ? "sendonly" : direction;
};

/** @param {Peer} peer */
CallMedia.prototype.offerDirection = function (peer) {
  var wanted = this.wanted(peer);
  peer.pc.getTransceivers().forEach(function (t) { t.direction = wanted; });
  return this.reoffer(peer);
};

/**
 * Sends this camera's track (or none) to every peer, without renegotiating.
 * @param {MediaStreamTrack | null} track
 */
CallMedia.prototype.setCamera = function (track) {
  /** @type {Promise<void>[]} */
  var work = [];
  var self = this;
  Object.keys(this.peers).forEach(function (id) {
    var peer = self.peers[id];
    if (peer.video) work.push(peer.video.sender.replaceTrack(track));
  });
  return Promise.all(work);
};

/**
 * The RFC 4733 senders of the call's parties (never of a listener), where negotiated.
 * @returns {RTCDTMFSender[]}
 */
CallMedia.prototype.dtmfSenders = function () {
  /** @type {RTCDTMFSender[]} */
  var out = [];
  var self = this;
  Object.keys(this.peers).forEach(function (id) {
    var peer = self.peers[id];
    var dtmf = peer.audio && peer.audio.sender && peer.audio.sender.dtmf;
    if (id.indexOf("listener:") !== 0 && dtmf && dtmf.canInsertDTMF) out.push(dtmf);
  });
  return out;
};

/**
 * Plays `digits` as RFC 4733 telephone-events on every sender; resolves when each has
 * played them (or a second after they should have).
 * @param {RTCDTMFSender[]} senders
 * @param {string} digits
 * @returns {Promise<void>}
 */
export function sendTones(senders, digits) {
  var toneMs = 100, gapMs = 70;
  return Promise.all(senders.map(function (dtmf) {
    return new Promise(function (resolve) {
      var done = false;
      function finish() { if (!done) { done = true; dtmf.removeEventListener("tonechange", onTone); resolve(undefined); } }
      /** @param {RTCDTMFToneChangeEvent} ev */
      function onTone(ev) { if (ev.tone === "") finish(); }
      dtmf.addEventListener("tonechange", onTone);
      dtmf.insertDTMF(digits, toneMs, gapMs);
      setTimeout(finish, digits.length * (toneMs + gapMs) + 1000);
    });
  })).then(function () { /* all played */ });
}

CallMedia.prototype.close = function () {
  if (this.closed) return;
  this.closed = true;
  var self = this;
  Object.keys(this.peers).forEach(function (id) { self.closePeer(id); });
  if (this.mic) this.mic.stop();
  if (this.audioOut) { this.audioOut.srcObject = null; this.audioOut = null; }
  this.remote.getTracks().forEach(function (t) { self.remote.removeTrack(t); });
};
