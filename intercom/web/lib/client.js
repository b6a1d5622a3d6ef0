/*
 * The connection to the exchange: login (with a token, or an extension and its password),
 * requests answered by id, the events that keep this client's view (calls, sessions,
 * directory, presence) up to date, and reconnecting after a lost connection.
 */

import { ClientStatus, ConnectionState, CallType, FINAL_CALL_STATES } from "./enums.js";
import { CloseCode, ErrorCode, OzError, encodeRequest } from "./protocol.js";
import { makeEvent } from "./event.js";
import { serverUrl, setLibraryUrl } from "./addresses.js";
import { historyFilters } from "./history.js";
import { Call } from "./call.js";
import { Session } from "./session.js";
import { Extension, Helper, User } from "./directory.js";

/** @typedef {import("./protocol.js").Frame} Frame */
/** @typedef {import("./protocol.js").RequestType} RequestType */
/** @typedef {import("./enums.js").ConnectionStateName} ConnectionStateName */
/** @typedef {import("./enums.js").CallTypeName} CallTypeName */
/** @typedef {import("./session.js").SessionInfo} SessionInfo */
/** @typedef {import("./directory.js").ExtensionInfo} ExtensionInfo */
/** @typedef {import("./directory.js").UserInfo} UserInfo */
/**
 * @template {unknown[]} A
 * @typedef {import("./event.js").OzEvent<A>} OzEvent
 */

/** A request the exchange has not answered by then fails. */
var REQUEST_TIMEOUT_MS = 10000;

/**
 * What onConnectionStateChanged gives: the seed reads info.State; the rest is ours.
 * @typedef {Object} ConnectionInfo
 * @property {ConnectionStateName} State
 * @property {ConnectionStateName} state
 * @property {string | null} extension
 * @property {string} message
 * @property {number} attempt   while connect({retry}) retries: the failed attempts so far
 * @property {number} retryIn   and the wait before the next, in milliseconds
 */

/**
 * @typedef {Object} HistoryResult
 * @property {number} numberOfCalls
 * @property {Array<Record<string, any>>} calls
 */

/**
 * @typedef {Object} Pending
 * @property {((result: any) => void) | undefined} onResult   runs before any later frame is handled
 * @property {(result: any) => void} resolve
 * @property {(error: Error) => void} reject
 */

/** @constructor */
export function WebClient() {
  /** @type {ConnectionStateName} */
  this.state = ConnectionState.CONNECTION_CLOSED;
  /** @type {string | null} */
  this.extension = null;
  this.displayName = "";
  /** @type {string[]} */
  this.privileges = [];
  /** @type {RTCIceServer[]} */
  this.iceServers = [];
  /** @type {Record<string, any>} */
  this.limits = {};
  /** @type {Record<string, any>} */
  this.server = {};
  /** @type {Record<string, Extension>} */
  this.extensions = {};
  /** @type {Record<string, Extension>} */
  this.outsideLines = {};
  /** @type {Record<string, User>} */
  this.users = {};
  /** @type {Record<string, Session>} */
  this.sessions = {};
  /** @type {Record<string, Record<string, any>>} phone number -> the online client's presence */
  this.clients = {};
  /** @type {Record<string, Call>} */
  this.calls = {};
  this.helper = new Helper(this);
  /* false: signalling only (no microphone, no peer connections). */
  this.mediaEnabled = true;
  this.reconnect = true;
  /** @type {string | null} */
  this._url = null;
  /** @type {Record<string, unknown> | null} */
  this._login = null;
  /** @type {WebSocket | null} */
  this._ws = null;
  this._ids = 1;
  /** @type {Record<number, Pending>} */
  this._pending = {};
  this._closing = false;
  this._attempt = 0;
  /* connect()'s retry option, and whether this connect() has been granted yet. */
  this._retryFirst = false;
  this._everGranted = false;
  /** @type {((state: ConnectionStateName) => void) | null} resolves connect() when retrying */
  this._connected = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  this._retryTimer = undefined;
  /** @type {OzEvent<[info: ConnectionInfo]>} */
  this.onConnectionStateChanged = makeEvent("onConnectionStateChanged");
  /** @type {OzEvent<[client: Record<string, any>]>} */
  this.onClientStateChanged = makeEvent("onClientStateChanged");
  /** @type {OzEvent<[call: Call]>} */
  this.onIncomingCall = makeEvent("onIncomingCall");
  /** @type {OzEvent<[error: Error]>} */
  this.onErrorOccured = makeEvent("onErrorOccured");
  /** @type {OzEvent<[result: HistoryResult]>} */
  this.onCallHistoryInfoReceived = makeEvent("onCallHistoryInfoReceived");
  /** @type {OzEvent<[extension: Extension]>} */
  this.onExtensionInfoReceived = makeEvent("onExtensionInfoReceived");
  /** @type {OzEvent<[extension: Extension]>} */
  this.onExtensionRemoved = makeEvent("onExtensionRemoved");
  /** @type {OzEvent<[user: User]>} */
  this.onUserInfoReceived = makeEvent("onUserInfoReceived");
  /** @type {OzEvent<[user: User]>} */
  this.onUserRemoved = makeEvent("onUserRemoved");
  /** @type {OzEvent<[session: Session]>} */
  this.onSessionCreated = makeEvent("onSessionCreated");
  /** @type {OzEvent<[session: Session]>} */
  this.onSessionClosed = makeEvent("onSessionClosed");
  /** @type {OzEvent<[info: Record<string, any>]>} */
  this.onWebphoneStateReceived = makeEvent("onWebphoneStateReceived");
}

/**
 * Reports an error the way a refused request is reported: onErrorOccured and a rejection.
 * @param {Error} error
 * @returns {Promise<never>}
 */
WebClient.prototype._fail = function (error) {
  this.onErrorOccured.emit(error);
  return Promise.reject(error);
};

/**
 * Log in with a token, or with an extension number as `token` and its password as
 * properties.Password. Resolves to the ConnectionState, also given to onConnectionStateChanged.
 *
 * With options.retry, a failed first connection (unreachable, or refused for a reason other
 * than its credentials) is retried with the reconnect's backoff, each failure reported as
 * CONNECTION_FAILED with info.attempt and info.retryIn (ms); the promise then resolves only
 * at ACCESS_GRANTED, at ACCESS_DENIED (final), or with CONNECTION_CLOSED on disconnect().
 * @param {string} serverAddress
 * @param {string} token
 * @param {Record<string, unknown>} [properties]
 * @param {{retry?: boolean}} [options]
 * @returns {Promise<ConnectionStateName>}
 */
WebClient.prototype.connect = function (serverAddress, token, properties, options) {
  if (this._ws) return this._fail(new Error("already connected; disconnect() first"));
  // A new login replaces an earlier one still waiting to retry.
  clearTimeout(this._retryTimer);
  this._settleFirst(ConnectionState.CONNECTION_CLOSED);
  /** @type {Record<string, unknown>} */
  var props = {};
  /** @type {string | null} */
  var password = null;
  var given = properties || {};
  Object.keys(given).forEach(function (k) {
    if (k.toLowerCase() === "password") password = String(given[k]);
    else props[k] = given[k];
  });
  this._url = serverUrl(serverAddress);
  this._login = password !== null
    ? { extension: String(token), password: password, properties: props }
    : { token: String(token), properties: props };
  this._closing = false;
  this._attempt = 0;
  this._everGranted = false;
  this._retryFirst = !!(options && options.retry);
  if (!this._retryFirst) return this._open(true);
  var self = this;
  return new Promise(function (resolve) {
    self._connected = resolve;
    self._open(true);
  });
};

/**
 * The end of a retried connect(): its promise resolves (once).
 * @param {ConnectionStateName} state
 */
WebClient.prototype._settleFirst = function (state) {
  var resolve = this._connected;
  this._connected = null;
  if (resolve) resolve(state);
};

/**
 * One connection attempt; resolves to how it went.
 * @param {boolean} first   the caller's connect(): failures are reported, not retried
 * @returns {Promise<ConnectionStateName>}
 */
WebClient.prototype._open = function (first) {
  var self = this;
  var url = /** @type {string} */ (this._url);
  return new Promise(function (resolve) {
    /** @type {WebSocket} */
    var ws;
    var settled = false, granted = false;
    /**
     * @param {ConnectionStateName} state
     * @param {string} [message]
     */
    function settle(state, message) {
      if (settled) return;
      settled = true;
      if (state !== ConnectionState.ACCESS_GRANTED) {
        self._ws = null;
        var denied = state === ConnectionState.ACCESS_DENIED;
        if (self._retryFirst && !self._everGranted && !denied && !self._closing) {
          // A first connection retried: say so, how often, and when it tries next.
          var wait = self._retry();
          self._setState(state, message, { attempt: self._attempt, retryIn: wait });
        } else if (first || denied) {
          self._setState(state, message);
          self._settleFirst(state);
        } else self._retry();
      }
      resolve(state);
    }
    try {
      ws = new WebSocket(url);
    } catch (e) {
      settle(ConnectionState.CONNECTION_FAILED, String(/** @type {Error} */ (e).message || e));
      return;
    }
    self._ws = ws;
    ws.onopen = function () {
      ws.send(encodeRequest("login", 0, /** @type {object} */ (self._login)));
    };
    ws.onmessage = function (ev) {
      /** @type {Frame} */
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (!settled) {
        if (frame.type === "result" && frame.id === 0) {
          self._attempt = 0;
          self._everGranted = true;
          self._snapshot(frame.data);
          settled = granted = true;
          self._setState(ConnectionState.ACCESS_GRANTED);
          self._settleFirst(ConnectionState.ACCESS_GRANTED);
          resolve(ConnectionState.ACCESS_GRANTED);
        } else if (frame.type === "error" && frame.id === 0) {
          var denied = frame.data && frame.data.code === ErrorCode.AUTHENTICATION_FAILED;
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
      if (!self._closing && self.reconnect && ev.code !== CloseCode.REMOVED) self._retry();
    };
  });
};

/**
 * Tries again after a randomised, growing wait (at most 4 s).
 * @returns {number} the wait, in milliseconds
 */
WebClient.prototype._retry = function () {
  var self = this;
  var wait = Math.min(4000, 250 * Math.pow(2, this._attempt++)) * (0.5 + Math.random() / 2);
  this._retryTimer = setTimeout(function () { if (!self._closing) self._open(false); }, wait);
  return wait;
};

/**
 * @param {ConnectionStateName} state
 * @param {string} [message]
 * @param {{attempt: number, retryIn: number}} [retrying]   a first connection being retried
 */
WebClient.prototype._setState = function (state, message, retrying) {
  this.state = state;
  // The seed reads info.State; the rest is ours.
  this.onConnectionStateChanged.emit({
    State: state, state: state, extension: this.extension, message: message || "",
    attempt: retrying ? retrying.attempt : 0, retryIn: retrying ? retrying.retryIn : 0
  });
};

/** The connection is gone: what waited for it fails, and its calls end here. */
WebClient.prototype._lost = function () {
  var self = this;
  this._ws = null;
  Object.keys(this._pending).forEach(function (id) {
    self._pending[Number(id)].reject(new OzError({ code: 0, name: "NotConnected", message: "not connected to the exchange" }));
  });
  this._pending = {};
  Object.keys(this.calls).forEach(function (id) { self.calls[id]._end("disconnected"); });
  this.calls = {};
};

/** @returns {Promise<void>} once the connection is closed */
WebClient.prototype.disconnect = function () {
  this._closing = true;
  clearTimeout(this._retryTimer);
  this._settleFirst(ConnectionState.CONNECTION_CLOSED);
  const ws = this._ws;
  if (!ws) return Promise.resolve();
  return new Promise(function (resolve) {
    ws.addEventListener("close", function () { resolve(); });
    ws.close(1000, "bye");
  });
};

/**
 * The login's answer: who we are, and the view of the exchange our privileges allow.
 * @param {Record<string, any>} snap
 */
WebClient.prototype._snapshot = function (snap) {
  var self = this;
  this.extension = snap.extension;
  this.displayName = snap.displayName || "";
  this.privileges = snap.privileges || [];
  this.iceServers = snap.iceServers || [];
  this.limits = snap.limits || {};
  this.server = snap.server || {};
  this.clients = {};
  (snap.clients || []).forEach(/** @param {Record<string, any>} c */ function (c) { self.clients[c.phoneNumber] = c; });
  (snap.extensions || []).forEach(/** @param {ExtensionInfo} i */ function (i) { self._extensionInfo(i, self.extensions); });
  (snap.outsideLines || []).forEach(/** @param {ExtensionInfo} i */ function (i) { self._extensionInfo(i, self.outsideLines); });
  (snap.users || []).forEach(/** @param {UserInfo} i */ function (i) { self._userInfo(i); });
  /** @type {Record<string, SessionInfo>} */
  var fresh = {};
  (snap.sessions || []).forEach(/** @param {SessionInfo} s */ function (s) { fresh[s.sessionId] = s; });
  Object.keys(this.sessions).forEach(function (id) {
    if (!fresh[id]) self._sessionClosed(self.sessions[id].info); // ended while we were away
  });
  Object.keys(fresh).forEach(function (id) { self._sessionEvent(fresh[id]); });
};

/**
 * @param {ExtensionInfo} info
 * @param {Record<string, Extension>} table
 */
WebClient.prototype._extensionInfo = function (info, table) {
  var ext = table[info.id];
  if (!ext) ext = table[info.id] = new Extension(info);
  else { var status = info.status; info.status = ext.status; ext._update(info); ext._setStatus(/** @type {string} */ (status)); }
  this.onExtensionInfoReceived.emit(ext);
};

/** @param {UserInfo} info */
WebClient.prototype._userInfo = function (info) {
  var user = this.users[info.id];
  if (!user) user = this.users[info.id] = new User(info);
  else user._update(info);
  this.onUserInfoReceived.emit(user);
};

/** @param {SessionInfo} info */
WebClient.prototype._sessionEvent = function (info) {
  var session = this.sessions[info.sessionId];
  if (!session) {
    session = this.sessions[info.sessionId] = new Session(this, info);
    this.onSessionCreated.emit(session);
    return;
  }
  if (session._update(info)) session.onSessionStateChanged.emit(session, info.sessionState);
};

/** @param {SessionInfo} info */
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

/**
 * A frame after the login: the answer to a request, or an event.
 * @param {Frame} frame
 */
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

/**
 * @param {WebClient} client
 * @param {{call_id: string}} data
 * @returns {Call | null}
 */
function callOf(client, data) { return client.calls[data.call_id] || null; }

/**
 * The events this library handles, by type (docs/PROTOCOL.md); others are ignored.
 * @type {Record<string, (client: WebClient, data: any) => void>}
 */
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
    if (FINAL_CALL_STATES.indexOf(/** @type {string} */ (call.state)) >= 0) delete c.calls[d.call_id];
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
    var media = call.media;
    if (d.added) media.addPeer(d.peer);
    else media.post(function () { media.closePeer(d.peer); });
  },
  "call.signal": function (c, d) {
    var call = callOf(c, d);
    if (call && call.media) call.media.handleSignal(d.peer, d.kind, d.sdp || "");
  },
  "call.listener": function (c, d) {
    var call = callOf(c, d);
    if (!call || !call.media) return;
    var media = call.media;
    if (d.active) media.addListener(d.conn);
    else media.post(function () { media.closePeer("listener:" + d.conn); });
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

/**
 * Sends a request; resolves to its result, rejects with its OzError (or after
 * REQUEST_TIMEOUT_MS). `onResult` sees the result before any later frame is handled.
 * @param {RequestType} type
 * @param {object} data
 * @param {(result: any) => void} [onResult]
 * @returns {Promise<any>}
 */
WebClient.prototype._request = function (type, data, onResult) {
  var self = this;
  const ws = this._ws;
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
    ws.send(encodeRequest(type, id, data));
  });
};

/**
 * A new outgoing call; nothing is dialled until call.start().
 * @param {string} dialedNumber
 * @param {CallTypeName} [callType]
 * @returns {Call}
 */
WebClient.prototype.createCall = function (dialedNumber, callType) {
  if (!dialedNumber) throw new Error("createCall needs a number");
  var type = callType || CallType.AUDIO;
  if (!CallType[type]) throw new Error("unknown call type " + callType);
  return new Call(this, String(dialedNumber), type, false);
};

/**
 * Click-to-call: ring caller's devices; once one answers, dial callee. Resolves to the session id.
 * @param {string} caller
 * @param {string} callee
 * @returns {Promise<string>}
 */
WebClient.prototype.setupCall = function (caller, callee) {
  if (!caller || !callee) return this._fail(new Error("setupCall needs a caller and a callee"));
  return this._request("setup_call", { caller: String(caller), callee: String(callee) })
    .then(function (r) { return r.session_id; });
};

/**
 * Results also reach onCallHistoryInfoReceived({numberOfCalls, calls}).
 * @param {Record<string, unknown>} [filters]
 * @returns {Promise<HistoryResult>}
 */
WebClient.prototype.getCallHistory = function (filters) {
  var self = this, query;
  try { query = historyFilters(filters); } catch (e) { return this._fail(/** @type {Error} */ (e)); }
  return this._request("history.query", query).then(function (r) {
    /** @type {HistoryResult} */
    var result = { numberOfCalls: r.numberOfCalls, calls: r.calls };
    self.onCallHistoryInfoReceived.emit(result);
    return result;
  });
};

/**
 * Is this webphone (extension) online? Works before logging in too.
 * @param {string} serverAddress
 * @param {string} webphoneId
 * @param {(info: Record<string, any>) => void} [callback]
 * @returns {Promise<Record<string, any>>}
 */
WebClient.prototype.checkWebphoneState = function (serverAddress, webphoneId, callback) {
  var self = this, url = "";
  try { url = serverUrl(serverAddress); } catch (e) { return this._fail(/** @type {Error} */ (e)); }
  var asked;
  if (this.state === ConnectionState.ACCESS_GRANTED && url === this._url) {
    asked = this._request("webphone.state", { webphone_id: String(webphoneId) });
  } else {
    asked = new Promise(function (resolve, reject) {
      var ws = new WebSocket(url);
      var timer = setTimeout(function () { ws.close(); reject(new OzError({ code: 0, name: "ConnectionFailed", message: "cannot reach " + url })); }, REQUEST_TIMEOUT_MS);
      ws.onopen = function () { ws.send(encodeRequest("webphone.state", 1, { webphone_id: String(webphoneId) })); };
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

/**
 * Where this library was loaded from: the default exchange (the ES module tells it so).
 * @param {string} url
 */
WebClient.prototype._setLibraryUrl = function (url) { setLibraryUrl(url); };
