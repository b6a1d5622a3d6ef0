/*
 * The seed's events: `call.onCallStateChanged(handler)`. An event is a function: calling it
 * with a handler subscribes, and returns a function that unsubscribes.
 */

/**
 * @template {unknown[]} A
 * @typedef {((handler: (...args: A) => void) => () => void) & {
 *   off: (handler: (...args: A) => void) => void,
 *   emit: (...args: A) => void,
 *   eventName: string
 * }} OzEvent
 */

/**
 * A handler that throws is logged and does not stop the others.
 * @template {unknown[]} A
 * @param {string} name
 * @returns {OzEvent<A>}
 */
export function makeEvent(name) {
  /** @type {Array<(...args: A) => void>} */
  var handlers = [];
  /** @param {(...args: A) => void} handler */
  function event(handler) {
    if (typeof handler !== "function") throw new TypeError(name + " needs a function");
    handlers.push(handler);
    return function () { event.off(handler); };
  }
  /** @param {(...args: A) => void} handler */
  event.off = function (handler) {
    var i = handlers.indexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
  };
  /** @param {A} args */
  event.emit = function (...args) {
    handlers.slice().forEach(function (h) {
      try { h.apply(null, args); } catch (e) { console.error(name + " handler failed", e); }
    });
  };
  event.eventName = name;
  return event;
}
