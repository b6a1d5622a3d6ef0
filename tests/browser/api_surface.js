/* The page-side scenario of test_api_surface.py; returns what it saw. */
(async ([address, passwords]) => {
  const pw = number => passwords[number];
  const log = [];
  const until = async (what, test) => {
    for (let i = 0; i < 200; i++) { if (test()) return; await new Promise(r => setTimeout(r, 50)); }
    throw new Error("timed out waiting for " + what + " after " + JSON.stringify(log));
  };
  const desk = OzWebClient, flat1 = OzWebClient.create(), flat2 = OzWebClient.create();
  const seen = {clients: [], extensions: new Set(), users: new Set(), errors: [], statuses: [],
                created: [], closed: [], states: []};
  desk.onClientStateChanged(c => seen.clients.push(c.phoneNumber + ":" + c.status + ":" + (c.Nickname || "")));
  desk.onExtensionInfoReceived(e => seen.extensions.add(e.id));
  desk.onUserInfoReceived(u => seen.users.add(u.id));
  desk.onErrorOccured(e => seen.errors.push(e.name));
  desk.onSessionCreated(s => { seen.created.push(s.sessionId);
    s.onSessionStateChanged((session, state) => seen.states.push(state)); });
  desk.onSessionClosed(s => seen.closed.push(s.sessionId));
  if (await desk.connect(address, "900", {Password: pw("900")}) !== "ACCESS_GRANTED") throw new Error("desk");
  desk.helper.getExtensionById("201").onExtensionStatusChanged((e, s) => seen.statuses.push(e.id + ":" + s));
  await flat1.connect(address, "201", {Password: pw("201"), Nickname: "Ann"});
  await flat2.connect(address, "202", {Password: pw("202")});
  await until("presence", () => seen.clients.includes("201:ONLINE:Ann"));
  log.push("presence");

  const incoming = [];
  flat2.onIncomingCall(c => incoming.push(c));
  desk.onIncomingCall(c => incoming.push(c));

  // reject
  let call = flat1.createCall("202");
  await call.start();
  await until("ring", () => incoming.length === 1);
  await incoming.shift().reject();
  await until("rejected", () => call.getCallState() === "REJECTED");
  log.push("reject");

  // a video call with this browser's (fake) camera
  await OzCamera.refresh();
  const names = OzCamera.getNames();
  const cam = OzCamera.getCameraByName(names[0]);
  if (OzCamera.getCameraByName("no such camera") !== null || OzCamera.getCameraByIndex(99) !== null) throw new Error("lookup");
  cam.setMode(320, 240, 15);
  call = flat1.createCall("202", CallType.VIDEO);
  await call.attachCamera(cam);
  await call.start();
  await until("video ring", () => incoming.length === 1);
  const answered = incoming.shift();
  answered.setRemoteDisplay(document.body.appendChild(document.createElement("div")));
  await answered.accept();
  await until("in call", () => call.getCallState() === "IN_CALL" && answered.getCallState() === "IN_CALL");
  await until("camera video", () => answered.remoteStream().getVideoTracks().length === 1);
  await cam.setQuality(40000, 60);
  await until("busy", () => seen.statuses.includes("201:" + ExtensionStatus.BUSY));
  log.push("camera " + cam.getWidth() + "x" + cam.getHeight() + " " + (names.length > 0));

  // Session methods from the desk: DTMF to a party, hold, unhold, close.
  let session = Object.values(desk.helper.getActiveCallsOfExtension("201"))[0];
  if (desk.helper.getActiveSessionById(session.sessionId) !== session) throw new Error("by id");
  if (Object.keys(desk.helper.getActiveCallsOfUser("alice")).length !== 1) throw new Error("of user");
  const keys = [];
  answered.onDtmfReceived((key, source) => keys.push(key + ":" + source));
  await session.sendDtmf("7", "202");
  await until("session dtmf", () => keys.includes("7:session"));
  await session.hold();
  await until("held", () => answered.getCallState() === "HOLD" && call.getCallState() === "HOLD");
  if (Object.keys(desk.helper.getActiveSessionsBySessionState("HOLD")).length !== 1) throw new Error("by state");
  await session.unhold();
  await until("resumed", () => Object.keys(desk.helper.getActiveSessionsBySessionState(CallState.IN_CALL)).length === 1);
  await session.close();
  await until("closed", () => call.getCallState() === "COMPLETED" && seen.closed.includes(session.sessionId));
  log.push("session");

  // forward while ringing (Call and Session), then transfer after answering
  call = flat1.createCall("202");
  await call.start();
  await until("ring 3", () => incoming.length === 1);
  await incoming.shift().forward("900");
  await until("forwarded", () => incoming.length === 1);
  const atDesk = incoming.shift();
  if (atDesk.getOtherParty() !== "201") throw new Error("forwarded from " + atDesk.getOtherParty());
  await atDesk.accept();
  await until("desk talks", () => call.getCallState() === "IN_CALL");
  await atDesk.transfer("202");            // the desk leaves; 201 now rings 202
  await until("transferred", () => incoming.length === 1);
  const after = incoming.shift();
  await after.accept();
  await until("after transfer", () => after.getCallState() === "IN_CALL");
  session = Object.values(desk.helper.getActiveCallsOfExtension("202"))[0];
  await session.closeWithHangup();
  await until("hung up", () => after.getCallState() === "COMPLETED");
  log.push("forward+transfer");

  call = flat1.createCall("202");
  await call.start();
  await until("ring 4", () => incoming.length === 1);
  const ringing = incoming.shift();
  session = Object.values(desk.helper.getActiveCallsOfExtension("202"))[0];
  await session.forward("900");
  await until("session forward", () => incoming.length === 1 && ringing.getCallState() !== "RINGING");
  await incoming.shift().accept();
  await until("desk answered", () => call.getCallState() === "IN_CALL");
  session = Object.values(desk.helper.getActiveCallsOfExtension("900"))[0];
  await session.blindTransfer("900", "202");
  await until("blind", () => incoming.length === 1);
  await incoming.shift().reject();
  await until("ended", () => call.getCallState() === "REJECTED" || call.getCallState() === "COMPLETED");
  log.push("session forward+blind transfer");

  // click-to-call: the desk rings 201 first, then 202
  const first = [];
  flat1.onIncomingCall(c => first.push(c));
  const setupId = await desk.setupCall("201", "202");
  await until("setup rings caller", () => first.length === 1);
  await first[0].accept();
  await until("setup rings callee", () => incoming.length === 1);
  await incoming.shift().accept();
  await until("setup talks", () => first[0].getCallState() === "IN_CALL");
  await desk.helper.getActiveSessionById(Object.keys(desk.sessions)[0]).hangup();
  await until("setup done", () => first[0].getCallState() === "COMPLETED");
  log.push("setupCall " + (typeof setupId));

  // argument errors throw at once; refusals reach onErrorOccured
  let threw = false;
  flat2.onErrorOccured(e => seen.errors.push(e.name));
  try { desk.createCall(""); } catch (e) { threw = true; }
  try { await flat2.createCall("100").forward(""); } catch (e) {}
  try { await flat2.getCallHistory({NoSuchFilter: 1}); } catch (e) {}
  try { await flat2.setupCall("201", "202"); } catch (e) {}
  await until("errors", () => seen.errors.length >= 3);
  log.push("errors " + threw + " " + seen.errors.join(","));

  await flat1.disconnect();
  await until("offline", () => seen.clients.includes("201:OFFLINE:Ann"));
  await flat2.disconnect();
  await desk.disconnect();
  return {log, extensions: seen.extensions.has("100"), users: [...seen.users].sort(),
          states: seen.states.includes("INCALL"), created: seen.created.length};
})
