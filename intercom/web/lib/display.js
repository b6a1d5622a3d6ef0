/*
 * Showing a stream in the page: a "display" is an element id (or element) naming a <video>,
 * or a container that gets one. Displays are muted: call audio plays through the call's own
 * <audio> element, so nothing is heard twice.
 */

/** @typedef {string | HTMLElement} DisplayId */

/**
 * @param {DisplayId} id
 * @returns {HTMLVideoElement}
 */
function element(id) {
  var el = typeof id === "string" ? document.getElementById(id) : id;
  if (!el) throw new Error("no element with id " + id);
  if (el.tagName === "VIDEO") return /** @type {HTMLVideoElement} */ (el);
  var video = el.querySelector("video");
  if (!video) {
    video = document.createElement("video");
    video.style.width = "100%";
    el.appendChild(video);
  }
  return video;
}

/**
 * @param {DisplayId} id
 * @param {MediaStream} stream
 * @returns {HTMLVideoElement}
 */
export function showStream(id, stream) {
  var video = element(id);
  video.muted = true; // sound plays through the call's own audio element
  video.autoplay = true;
  video.playsInline = true;
  if (video.srcObject !== stream) video.srcObject = stream;
  var p = video.play();
  if (p && p.catch) p.catch(function () { /* played once the page is interacted with */ });
  return video;
}
