/*
 * The wire protocol as this library speaks it (docs/PROTOCOL.md): the frame version, the
 * request types it sends, the error codes and close codes it acts on, and the error object.
 * tests/unit/test_web_contract.py holds these against intercom.protocol, so they stay literal.
 */

/** The `v` of every frame. */
export var PROTOCOL_VERSION = 1;

/**
 * Every request type this library sends (a subset of intercom.protocol.messages.REQUESTS):
 * encodeRequest and WebClient._request take no other.
 * @typedef {"login" | "webphone.state" | "call.start" | "call.accept" | "call.reject"
 *   | "call.hangup" | "call.hold" | "call.unhold" | "call.forward" | "call.transfer"
 *   | "call.message" | "call.dtmf" | "call.extend" | "call.command" | "call.signal"
 *   | "setup_call" | "history.query" | "session.blind_transfer" | "session.close"
 *   | "session.close_with_hangup" | "session.forward" | "session.hangup" | "session.hold"
 *   | "session.unhold" | "session.send_dtmf" | "session.start_listen" | "session.stop_listen"
 *   | "session.signal"} RequestType
 */

/** The codes of the exchange's error objects that change what the library does. */
export var ErrorCode = Object.freeze({
  AUTHENTICATION_FAILED: 305
});

/** WebSocket close codes of the exchange that change what the library does. */
export var CloseCode = Object.freeze({
  // The extension, its password or its token is gone: coming back would be refused again.
  REMOVED: 4003
});

/**
 * One frame from the exchange: a result or error answering request `id`, or an event.
 * @typedef {Object} Frame
 * @property {string} type
 * @property {number | null} [id]
 * @property {any} [data]
 */

/**
 * One request frame, as text.
 * @param {RequestType} type
 * @param {number} id
 * @param {object} data
 * @returns {string}
 */
export function encodeRequest(type, id, data) {
  return JSON.stringify({ v: PROTOCOL_VERSION, type: type, id: id, data: data });
}

/**
 * The error object every client understands, `{code, name, message}`, as an Error. The
 * library's own failures (not connected, no answer) have code 0.
 * @constructor
 * @param {{code?: number, name?: string, message?: string}} data
 */
export function OzError(data) {
  /** @type {number | undefined} */
  this.code = data.code;
  /** @type {string} */
  this.name = data.name || "Error";
  /** @type {string} */
  this.message = data.message || this.name;
}
OzError.prototype = Object.create(Error.prototype);
OzError.prototype.constructor = OzError;
