/*
 * Call history queries: the seed's filter names, in any spelling (RowsPerPage, rows_per_page),
 * as the exchange's history.query fields.
 */

/** @type {Record<string, string>} */
var HISTORY_KEYS = {
  pagenumber: "page_number", rowsperpage: "rows_per_page", from: "from", until: "until",
  to: "until", general: "general", direction: "direction", source: "source",
  destination: "destination", state: "state", dialed: "dialed", callerid: "caller_id",
  callid: "call_id", type: "type", extension: "extension"
};

/**
 * Unknown filters throw; empty ones are left out.
 * @param {Record<string, unknown> | null | undefined} filters
 * @returns {Record<string, unknown>}
 */
export function historyFilters(filters) {
  /** @type {Record<string, unknown>} */
  var out = {};
  var given = filters || {};
  Object.keys(given).forEach(function (key) {
    var norm = HISTORY_KEYS[key.replace(/_/g, "").toLowerCase()];
    if (!norm) throw new Error("unknown call history filter " + key);
    if (given[key] !== null && given[key] !== undefined) out[norm] = given[key];
  });
  return out;
}
