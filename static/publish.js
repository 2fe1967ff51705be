// @ts-check
// The publish connection (protocol v2, docs/protocol.md): what this browser
// sends goes on a connection of its own offer, the camera as VP8 simulcast
// in three layers; the server answers, and tells which layers anyone
// receives, so the encoder keeps only those running. No DOM here.

/**
 * The simulcast layers, lowest first, as the server expects their rids.
 * Each keeps three temporal layers, so the server can lower the frame rate
 * without a keyframe. The low layer stays under 150 kbit/s.
 */
export const ENCODINGS = Object.freeze([
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: 'L1T3' },
]);

/**
 * The encodings, each held so that all of them and the audio stay within
 * the server's cap on what one participant publishes (welcome's
 * publish_limit, bits per second; 0: none). Above it the server drops what
 * we send, so we would rather send less.
 * @param {number} limit
 */
export function encodingsWithin(limit) {
  const audio = 64_000;
  const sum = ENCODINGS.reduce((n, e) => n + e.maxBitrate, 0);
  const room = limit * 0.9 - audio;
  const scale = limit > 0 && sum > room ? Math.max(room, 0) / sum : 1;
  return ENCODINGS.map((e) => ({ ...e, maxBitrate: Math.max(Math.floor(e.maxBitrate * scale), 30_000) }));
}

/** Whether this browser can send simulcast through a publish connection. */
export function canPublishSimulcast() {
  return typeof RTCRtpSender !== 'undefined' && typeof RTCRtpSender.getCapabilities === 'function' &&
    !!RTCRtpSender.getCapabilities('video')?.codecs.some((c) => /vp8/i.test(c.mimeType));
}

export class Publisher {
  /**
   * @param {RTCIceServer[]} iceServers
   * @param {(msg: object) => void} send  sends one message to the server
   * @param {(err: unknown) => void} onError
   * @param {RTCIceTransportPolicy} [policy] 'relay' to connect only through TURN
   * @param {number} [limit] the server's cap on what we publish, bits per second (0: none)
   */
  constructor(iceServers, send, onError, policy = 'all', limit = 0) {
    this.limit = limit;
    this.send = send;
    this.onError = onError;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', iceTransportPolicy: policy });
    /** @type {RTCRtpTransceiver|null} */
    this.video = null;
    /** @type {RTCRtpTransceiver|null} */
    this.audio = null;
    /** @type {RTCIceCandidateInit[]} */
    this.pending = [];
    /** @type {Set<string>|null} rids the server last said anyone receives */
    this.wanted = null;
    this.chain = Promise.resolve();
    this.pc.onicecandidate = (ev) => {
      if (ev.candidate) this.send({ type: 'candidate', candidate: ev.candidate.toJSON(), pc: 'publish' });
    };
  }

  /**
   * Sends the first offer with what we publish (tracks may be null: the
   * section is there, and replaceTrack fills it later without renegotiation).
   * @param {MediaStreamTrack|null} audio
   * @param {MediaStreamTrack|null} video
   */
  start(audio, video) {
    this.audio = this.pc.addTransceiver(audio || 'audio', { direction: 'sendonly' });
    this.video = this.pc.addTransceiver(video || 'video', {
      direction: 'sendonly',
      sendEncodings: encodingsWithin(this.limit),
    });
    const vp8 = RTCRtpSender.getCapabilities('video')?.codecs.filter((c) => /vp8/i.test(c.mimeType)) || [];
    if (vp8.length && this.video.setCodecPreferences) this.video.setCodecPreferences(vp8);
    this.run(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      this.send({ type: 'publish_offer', sdp: offer.sdp });
    });
  }

  /** @param {() => Promise<void>} fn */
  run(fn) {
    this.chain = this.chain.then(fn).catch((err) => this.onError(err));
  }

  /** @param {string} sdp */
  answer(sdp) {
    this.run(async () => {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      for (const c of this.pending.splice(0)) await this.pc.addIceCandidate(c).catch(() => {});
      await this.applyLayers();
    });
  }

  /** @param {RTCIceCandidateInit} c */
  candidate(c) {
    this.run(async () => {
      if (!this.pc.remoteDescription) this.pending.push(c);
      else await this.pc.addIceCandidate(c).catch(() => {});
    });
  }

  /**
   * The server says which rids anyone receives: the others stop encoding.
   * @param {string[]} rids
   */
  layers(rids) {
    this.wanted = new Set(rids);
    this.run(() => this.applyLayers());
  }

  async applyLayers() {
    const sender = this.video?.sender;
    if (!sender || !this.pc.remoteDescription) return;
    const params = sender.getParameters();
    if (!params.encodings?.length) return;
    let changed = false;
    // Layers give the sizes; under load, drop frames rather than shrink
    // them, so each layer stays the size its subscribers were given.
    if (params.degradationPreference !== 'maintain-resolution') {
      params.degradationPreference = 'maintain-resolution';
      changed = true;
    }
    for (const enc of params.encodings) {
      const on = !this.wanted || !enc.rid || this.wanted.has(enc.rid);
      if (enc.active !== on) {
        enc.active = on;
        changed = true;
      }
    }
    if (changed) await sender.setParameters(params);
  }

  /** @param {MediaStreamTrack|null} audio @param {MediaStreamTrack|null} video */
  async replace(audio, video) {
    if (this.audio && this.audio.sender.track !== audio) await this.audio.sender.replaceTrack(audio);
    if (this.video && this.video.sender.track !== video) await this.video.sender.replaceTrack(video);
  }

  close() {
    this.pc.close();
  }
}
