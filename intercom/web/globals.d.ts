// What the classic script /WebphoneAPI defines for the pages that load it (app.js and
// concierge.js are checked against this): the names lib/api.js exports, as globals.
import type * as api from "./lib/api.js";

declare global {
  var OzWebClient: typeof api.OzWebClient;
  var Call: typeof api.Call;
  var Session: typeof api.Session;
  var Extension: typeof api.Extension;
  var User: typeof api.User;
  var Helper: typeof api.Helper;
  var OzCamera: typeof api.OzCamera;
  var ConnectionState: typeof api.ConnectionState;
  var CallState: typeof api.CallState;
  var CallType: typeof api.CallType;
  var SessionState: typeof api.SessionState;
  var ClientStatus: typeof api.ClientStatus;
  var WebphoneState: typeof api.WebphoneState;
  var ExtensionStatus: typeof api.ExtensionStatus;

  interface Window {
    // Safari before 14.1.
    webkitAudioContext?: typeof AudioContext;
    // What the pages leave for tests and the browser's console.
    intercomApp?: unknown;
    intercomConcierge?: unknown;
  }
}

export {};
