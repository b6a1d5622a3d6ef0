/*
 * OzCamera: a camera of this browser (getUserMedia), opened when first attached to a call or
 * displayed, and found by the names enumerateDevices gives.
 */

import { showStream } from "./display.js";

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./display.js").DisplayId} DisplayId */

/** @type {MediaDeviceInfo[]} the video inputs found by the last OzCamera.refresh() */
var cameraDevices = [];
var cameraIds = 0;

/**
 * @constructor
 * @param {string | null} deviceId   null: the default camera
 * @param {string} name
 */
export function OzCamera(deviceId, name) {
  this.deviceId = deviceId || null;
  this.name = name || "default";
  this.id = "camera" + (++cameraIds);
  this.width = 640;
  this.height = 480;
  this.fps = 15;
  this.bandwidth = 0;
  this.quality = 0;
  /** @type {MediaStreamTrack | null} */
  this.track = null;
  /** @type {Promise<MediaStreamTrack> | null} */
  this._opening = null;
  /** @type {Call[]} the calls it is attached to */
  this._calls = [];
  /** @type {DisplayId[]} */
  this._displays = [];
}

/** @returns {Promise<string[]>} the cameras' names, once known */
OzCamera.refresh = function () {
  var md = typeof navigator !== "undefined" && navigator.mediaDevices;
  if (!md || !md.enumerateDevices) return Promise.resolve([]);
  return md.enumerateDevices().then(function (devices) {
    cameraDevices = devices.filter(function (d) { return d.kind === "videoinput"; });
    return OzCamera.getNames();
  });
};
/** @returns {string[]} */
OzCamera.getNames = function () {
  return cameraDevices.map(function (d, i) { return d.label || "camera " + i; });
};
/**
 * @param {number} index
 * @returns {OzCamera | null}
 */
OzCamera.getCameraByIndex = function (index) {
  var d = cameraDevices[index];
  return d ? new OzCamera(d.deviceId, d.label || "camera " + index) : null;
};
/**
 * No name: the default camera.
 * @param {string | null} [cameraName]
 * @returns {OzCamera | null}
 */
OzCamera.getCameraByName = function (cameraName) {
  if (cameraName === undefined || cameraName === null || cameraName === "") return new OzCamera(null, "default");
  var names = OzCamera.getNames();
  var i = names.indexOf(cameraName);
  return i >= 0 ? OzCamera.getCameraByIndex(i) : null;
};

/** @returns {MediaTrackConstraints} */
OzCamera.prototype._constraints = function () {
  /** @type {MediaTrackConstraints} */
  var video = { width: { ideal: this.width }, height: { ideal: this.height }, frameRate: { ideal: this.fps } };
  if (this.deviceId) video.deviceId = { exact: this.deviceId };
  return video;
};
/** @returns {Promise<MediaStreamTrack>} */
OzCamera.prototype.open = function () {
  var self = this;
  if (this.track && this.track.readyState === "live") return Promise.resolve(this.track);
  if (!this._opening) {
    this._opening = navigator.mediaDevices.getUserMedia({ video: this._constraints() }).then(function (stream) {
      var track = self.track = stream.getVideoTracks()[0];
      self._opening = null;
      self._displays.forEach(function (id) { showStream(id, new MediaStream([track])); });
      return track;
    }, function (e) { self._opening = null; throw e; });
  }
  return this._opening;
};
OzCamera.prototype.close = function () {
  if (this.track) this.track.stop();
  this.track = null;
};
/** @returns {MediaTrackSettings} */
OzCamera.prototype._settings = function () { return this.track ? this.track.getSettings() : {}; };
OzCamera.prototype.getFps = function () { return this._settings().frameRate || this.fps; };
OzCamera.prototype.getHeight = function () { return this._settings().height || this.height; };
OzCamera.prototype.getWidth = function () { return this._settings().width || this.width; };
OzCamera.prototype.getId = function () { return this.id; };
OzCamera.prototype.getName = function () { return this.name; };
/**
 * @param {number} width
 * @param {number} height
 * @param {number} fps
 * @returns {Promise<void>}
 */
OzCamera.prototype.setMode = function (width, height, fps) {
  if (!(width > 0 && height > 0 && fps > 0)) throw new Error("setMode needs a positive width, height and fps");
  this.width = width; this.height = height; this.fps = fps;
  return this.track ? this.track.applyConstraints(this._constraints()) : Promise.resolve();
};
/**
 * @param {number} bandwidth   bytes per second (0: as needed)
 * @param {number} quality     0-100 (0: whatever the bandwidth allows)
 */
OzCamera.prototype.setQuality = function (bandwidth, quality) {
  if (!(bandwidth >= 0) || !(quality >= 0 && quality <= 100)) throw new Error("setQuality needs bandwidth >= 0 and quality 0-100");
  this.bandwidth = bandwidth; this.quality = quality;
  return this._applyQuality();
};
/** Caps the video senders of the calls this camera is attached to at its bandwidth. */
OzCamera.prototype._applyQuality = function () {
  var self = this;
  /** @type {Promise<void>[]} */
  var work = [];
  this._calls.forEach(function (call) {
    const media = call.media;
    if (!media) return;
    Object.keys(media.peers).forEach(function (id) {
      var peer = media.peers[id];
      if (!peer.video) return;
      var params = peer.video.sender.getParameters();
      if (!params.encodings || !params.encodings.length) return;
      params.encodings.forEach(function (e) {
        if (self.bandwidth > 0) e.maxBitrate = self.bandwidth * 8; else delete e.maxBitrate;
      });
      work.push(peer.video.sender.setParameters(params).catch(function () {}));
    });
  });
  return Promise.all(work);
};
/**
 * A local preview in the page.
 * @param {DisplayId} displayId
 * @returns {Promise<OzCamera>}
 */
OzCamera.prototype.setDisplay = function (displayId) {
  this._displays.push(displayId);
  var self = this;
  return this.open().then(function (track) { showStream(displayId, new MediaStream([track])); return self; });
};
