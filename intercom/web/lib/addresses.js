/*
 * Where the exchange is: the server address a page gives, made into a WebSocket URL, and the
 * address this library was served from (the default exchange).
 */

/** The exchange's port unless told otherwise (Ozeki's). */
export var DEFAULT_PORT = 7777;

/** @type {string | null} */
var libraryUrl = (typeof document !== "undefined" && document.currentScript &&
  /** @type {HTMLScriptElement} */ (document.currentScript).src) || null;

/**
 * Where this library came from, when the page cannot tell (an ES module knows its
 * import.meta.url; document.currentScript is only set for classic scripts).
 * @param {string} url
 */
export function setLibraryUrl(url) { libraryUrl = url; }

/**
 * "" (the exchange that served this library, else this page's), "host", "host:port",
 * "[v6]:port", or a ws://, wss://, http:// or https:// URL.
 * @param {string | null | undefined} address
 * @returns {string}
 */
export function serverUrl(address) {
  address = (address || "").trim();
  if (!address) {
    var base = libraryUrl || (typeof location !== "undefined" ? location.href : null);
    if (!base) throw new Error("no server address given");
    var u = new URL(base);
    return (u.protocol === "http:" ? "ws:" : "wss:") + "//" + u.host + "/";
  }
  if (address.indexOf("://") >= 0) {
    var parsed = new URL(address);
    /** @type {Record<string, string>} */
    var schemes = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" };
    var scheme = schemes[parsed.protocol];
    if (!scheme) throw new Error("not a WebSocket address: " + address);
    return scheme + "//" + parsed.hostname.replace(/^([^[].*:.*)$/, "[$1]") + ":" + (parsed.port || DEFAULT_PORT) + (parsed.pathname || "/");
  }
  var m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$|^([^:[\]/]+)(?::(\d+))?$/.exec(address);
  if (!m) throw new Error("not a server address: " + address);
  var host = m[1] ? "[" + m[1] + "]" : m[3];
  return "wss://" + host + ":" + (m[2] || m[4] || DEFAULT_PORT) + "/";
}
