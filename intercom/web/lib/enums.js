/*
 * The API's enumerations: objects whose values are their own names, so that
 * `state == CallState.IN_CALL` and `state == "IN_CALL"` both hold, as in the seed.
 * They mirror intercom.protocol.enums (tests/unit/test_web_contract.py compares them).
 */

/**
 * @template {string} K
 * @param {K[]} names
 * @returns {Readonly<{ [P in K]: P }>}
 */
function freeze(names) {
  /** @type {Record<string, string>} */
  var out = {};
  names.forEach(function (n) { out[n] = n; });
  return /** @type {Readonly<{ [P in K]: P }>} */ (Object.freeze(out));
}

export var ConnectionState = freeze(["ACCESS_GRANTED", "ACCESS_DENIED", "CONNECTION_FAILED", "CONNECTION_CLOSED"]);
export var CallState = freeze(["RINGING", "NOT_FOUND", "REJECTED", "HOLD", "IN_CALL", "COMPLETED", "BUSY", "ANSWERED"]);
export var CallType = freeze(["AUDIO", "VIDEO"]);
export var SessionState = freeze([
  "SETUP", "RINGING", "INCALL", "CALLEEONHOLD", "CALLERONHOLD", "ONHOLD", "ONHOLDINACTIVE",
  "TRANSFERREQUESTED", "TRANSFERRING", "TRANSFERCOMPLETED", "TRANSFERFAILED", "CALLERHUNGUP",
  "CALLEEHUNGUP", "REDIRECTED", "NOTFOUND", "BUSY", "REJECTED", "CANCELLED", "NOTANSWERED",
  "ERROR", "ABORTED"]);
export var ClientStatus = freeze(["ONLINE", "OFFLINE"]);
export var WebphoneState = freeze(["ONLINE", "OFFLINE", "NOT_FOUND"]);
export var ExtensionStatus = freeze(["ONLINE", "OFFLINE", "BUSY"]);

/** @typedef {keyof typeof ConnectionState} ConnectionStateName */
/** @typedef {keyof typeof CallState} CallStateName */
/** @typedef {keyof typeof CallType} CallTypeName */
/** @typedef {keyof typeof SessionState} SessionStateName */

/**
 * The call states after which a leg is gone (intercom.protocol.enums.FINAL_CALL_STATES).
 * @type {readonly string[]}
 */
export var FINAL_CALL_STATES = [CallState.NOT_FOUND, CallState.REJECTED, CallState.COMPLETED, CallState.BUSY];

/**
 * The session states that are a hold, by either side (intercom.protocol.session_state.HOLD_STATES).
 * @type {readonly string[]}
 */
export var HOLD_SESSION_STATES = [SessionState.CALLEEONHOLD, SessionState.CALLERONHOLD, SessionState.ONHOLD, SessionState.ONHOLDINACTIVE];
