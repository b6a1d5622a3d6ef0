/*
 * The directory as this client sees it: Extension and User records, replicated from the
 * exchange's snapshot and events, and Helper, the seed's queries over them and the sessions.
 */

import { ExtensionStatus, HOLD_SESSION_STATES } from "./enums.js";
import { makeEvent } from "./event.js";

/** @typedef {import("./client.js").WebClient} WebClient */
/** @typedef {import("./session.js").Session} Session */
/**
 * @template {unknown[]} A
 * @typedef {import("./event.js").OzEvent<A>} OzEvent
 */

/**
 * An extension or outside line record (extension.info).
 * @typedef {Object} ExtensionInfo
 * @property {string} id
 * @property {string} [phoneNumber]
 * @property {string} [type]
 * @property {string} [displayName]
 * @property {string | null} [userId]
 * @property {boolean} [isOutsideLine]
 * @property {string} [status]
 */

/**
 * A user record (user.info).
 * @typedef {Object} UserInfo
 * @property {string} id
 * @property {string} [userName]
 * @property {string} [fullName]
 * @property {string} [emailAddress]
 * @property {string} [phoneNumber]
 * @property {string} [mobileNumber]
 * @property {string[]} [extensions]
 */

/**
 * @constructor
 * @param {ExtensionInfo} info
 */
export function Extension(info) {
  /** @type {OzEvent<[extension: Extension, status: string]>} */
  this.onExtensionStatusChanged = makeEvent("onExtensionStatusChanged");
  this._update(info);
}
/** @param {ExtensionInfo} info */
Extension.prototype._update = function (info) {
  this.id = info.id;
  this.phoneNumber = info.phoneNumber || info.id;
  this.type = info.type;
  this.displayName = info.displayName || "";
  this.userId = info.userId || null;
  this.isOutsideLine = !!info.isOutsideLine;
  /** @type {string} */
  this.status = info.status || ExtensionStatus.OFFLINE;
};
/** @param {string} status */
Extension.prototype._setStatus = function (status) {
  if (status === this.status) return;
  this.status = status;
  this.onExtensionStatusChanged.emit(this, status);
};

/**
 * @constructor
 * @param {UserInfo} info
 */
export function User(info) {
  // Set by _update (declared here for the type checker only).
  /** @type {string} */
  this.id;
  /** @type {string[]} the user's extensions */
  this.extensions;
  this._update(info);
}
/** @param {UserInfo} info */
User.prototype._update = function (info) {
  this.id = info.id;
  this.userName = info.userName || info.id;
  this.fullName = info.fullName || "";
  this.emailAddress = info.emailAddress || "";
  this.phoneNumber = info.phoneNumber || "";
  this.mobileNumber = info.mobileNumber || "";
  this.extensions = (info.extensions || []).slice();
};

/**
 * The entries of a table that pass a test, as a new table.
 * @template T
 * @param {Record<string, T>} table
 * @param {(value: T) => boolean} test
 * @returns {Record<string, T>}
 */
function pick(table, test) {
  /** @type {Record<string, T>} */
  var out = {};
  Object.keys(table).forEach(function (k) { if (test(table[k])) out[k] = table[k]; });
  return out;
}

/**
 * The seed's queries, answered from the client's replicated view (no request is sent).
 * @constructor
 * @param {WebClient} client
 */
export function Helper(client) { this.client = client; }
/** @param {string} id */
Helper.prototype.getExtensionById = function (id) { return this.client.extensions[id] || null; };
Helper.prototype.getExtensions = function () { return pick(this.client.extensions, function () { return true; }); };
/** @param {string} type */
Helper.prototype.getExtensionsByType = function (type) {
  var t = String(type).toLowerCase();
  return pick(this.client.extensions, function (e) { return String(e.type).toLowerCase() === t; });
};
/** @param {string} id */
Helper.prototype.getOutsideLineById = function (id) { return this.client.outsideLines[id] || null; };
Helper.prototype.getOutsideLines = function () { return pick(this.client.outsideLines, function () { return true; }); };
/** @param {string} type */
Helper.prototype.getOutsideLinesByType = function (type) {
  var t = String(type).toLowerCase();
  return pick(this.client.outsideLines, function (e) { return String(e.type).toLowerCase() === t; });
};
/** @param {string} id */
Helper.prototype.getUserById = function (id) { return this.client.users[id] || null; };
/** @param {string} extensionId */
Helper.prototype.getUserByExtension = function (extensionId) {
  var users = this.client.users;
  var id = Object.keys(users).find(function (k) { return users[k].extensions.indexOf(extensionId) >= 0; });
  return id ? users[id] : null;
};
/** @param {string} id */
Helper.prototype.getActiveSessionById = function (id) { return this.client.sessions[id] || null; };
/**
 * Rich states (INCALL), public ones (IN_CALL) and HOLD.
 * @param {string} state
 * @returns {Record<string, Session>}
 */
Helper.prototype.getActiveSessionsBySessionState = function (state) {
  var text = String(state).toUpperCase();
  var wanted = text === "HOLD" ? HOLD_SESSION_STATES : [text.replace(/_/g, "")];
  return pick(this.client.sessions, function (s) { return wanted.indexOf(s.sessionState) >= 0; });
};
/** @param {string} id */
Helper.prototype.getActiveCallsOfExtension = function (id) {
  return pick(this.client.sessions, function (s) { return s.caller === id || s.callee === id; });
};
/**
 * @param {string} userId
 * @returns {Record<string, Session>}
 */
Helper.prototype.getActiveCallsOfUser = function (userId) {
  var user = this.client.users[userId];
  if (!user) return {};
  var extensions = user.extensions;
  return pick(this.client.sessions, function (s) {
    return extensions.indexOf(s.caller) >= 0 || extensions.indexOf(s.callee) >= 0;
  });
};
/**
 * @param {string} extensionId
 * @param {Record<string, unknown>} [properties]   further history filters
 */
Helper.prototype.getCallHistoryOfExtension = function (extensionId, properties) {
  /** @type {Record<string, unknown>} */
  var filters = {};
  var given = properties || {};
  Object.keys(given).forEach(function (k) { filters[k] = given[k]; });
  filters.extension = extensionId;
  return this.client.getCallHistory(filters);
};
