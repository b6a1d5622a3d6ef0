/*
 * WebphoneAPI: the Ozeki Phone System JavaScript API for browsers, served by the intercom
 * exchange at /WebphoneAPI (a classic script defining globals) and /WebphoneAPI.mjs (the same,
 * as an ES module with named exports). The exchange joins the modules of this folder into that
 * one script when it starts (intercom/exchange/web.py); there is no build step. Same wire
 * protocol as the Python client (docs/PROTOCOL.md); media over WebRTC with one
 * RTCPeerConnection per remote party.
 *
 * Seed style:
 *   OzWebClient.onConnectionStateChanged(function (info) { if (info.State == ConnectionState.ACCESS_GRANTED) ... });
 *   OzWebClient.onIncomingCall(function (call) { call.setRemoteDisplay("door"); call.accept(); });
 *   OzWebClient.connect("door.local", "201", { Password: "..." });
 *
 * Every method that talks to the exchange also returns a Promise (rejected with an OzError,
 * which onErrorOccured sees too), so modern code can await it; the seed's style ignores it.
 *
 * This module is the last one joined: what it exports is what pages get, as globals and as
 * the ES module's names.
 */

import { CallState, CallType, ClientStatus, ConnectionState, ExtensionStatus, SessionState, WebphoneState } from "./enums.js";
import { OzError } from "./protocol.js";
import { serverUrl } from "./addresses.js";
import { OzCamera } from "./camera.js";
import { Call } from "./call.js";
import { Session } from "./session.js";
import { Extension, Helper, User } from "./directory.js";
import { WebClient } from "./client.js";

/**
 * The seed's one global client, with a way to make more (several logins in one page).
 * @typedef {WebClient & {
 *   create: () => WebClient,
 *   serverUrl: typeof serverUrl,
 *   OzError: typeof OzError
 * }} OzWebClientSingleton
 */

var OzWebClient = /** @type {OzWebClientSingleton} */ (new WebClient());
OzWebClient.create = function () { return new WebClient(); };
OzWebClient.serverUrl = serverUrl;
OzWebClient.OzError = OzError;

OzCamera.refresh();

export {
  OzWebClient, Call, Session, Extension, User, Helper, OzCamera, ConnectionState, CallState,
  CallType, SessionState, ClientStatus, WebphoneState, ExtensionStatus
};
