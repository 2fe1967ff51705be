// @ts-check
// The Worktogether wire contract, v1, for browsers: the websocket messages and
// the one RTCPeerConnection per participant (the server makes every offer; we
// answer). No DOM here: the page scripts listen to the events of RoomClient.

/**
 * @typedef {{index: number, kind: string, started_at: string, ends_at: string}} Phase
 * @typedef {{phase: Phase, server_time: string}} State
 * @typedef {{id: string, name: string, role: string}} You
 * @typedef {{tasks: string[]}} Commitment
 * @typedef {{done: boolean[], note: string}} Report
 * @typedef {{id: string, name: string, role: string, present: boolean,
 *            commitment: Commitment|null, report: Report|null, muted: boolean,
 *            mic?: boolean|null, camera?: boolean|null, hand?: boolean, away?: boolean}} Participant
 * @typedef {{id: string, title: string, starts_at: string,
 *            plan: {kind: string, seconds: number}[], capacity: number,
 *            lobby_seconds: number, participants: number, phase?: Phase,
 *            host_url?: string, open_url?: string}} Session
 * @typedef {{type: 'welcome', you: You, session: Session, state: State,
 *            participants: Participant[], ice_servers: RTCIceServer[]}} Welcome
 * @typedef {'connecting'|'connected'|'reconnecting'|'closed'} Status
 */

import { Publisher, canPublishSimulcast } from './publish.js';

/** Error codes the server sends in `error` messages. */
export const ErrorCode = Object.freeze({
  badMessage: 'bad_message',
  notAllowed: 'not_allowed',
  invalid: 'invalid',
  full: 'full',
  rateLimited: 'rate_limited',
});

/** Reasons the server gives in `bye`. */
export const ByeReason = Object.freeze({
  ended: 'ended',
  removed: 'removed',
  replaced: 'replaced',
  cancelled: 'cancelled',
  shutdown: 'shutdown',
});

/**
 * The mids of the m-sections the server offers as recvonly: the slots where
 * it receives what we publish.
 * @param {string} sdp
 * @returns {Set<string>}
 */
export function receiveSlots(sdp) {
  const mids = new Set();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /\r?\na=mid:(\S+)/.exec(section);
    if (mid && /\r?\na=recvonly/.test(section)) mids.add(mid[1]);
  }
  return mids;
}

/**
 * Asks the server who a link admits: {you, session, record_url?} for a personal link,
 * {open: true, session} for an open link; throws LinkError when refused.
 * @param {string} token
 * @param {string} sessionId
 */
export async function lookUpLink(token, sessionId) {
  const q = new URLSearchParams({ t: token, session: sessionId });
  const resp = await fetch(`/api/me?${q}`, { cache: 'no-store' });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new LinkError(body?.error?.message || `the server answered ${resp.status}`, resp.status);
  return body;
}

/**
 * Trades an open link and a name for a personal link: {url, token}.
 * @param {string} token
 * @param {string} name
 */
export async function becomeGuest(token, name) {
  const resp = await fetch('/api/guest', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, name }),
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new LinkError(body?.error?.message || `the server answered ${resp.status}`, resp.status);
  return body;
}

export class LinkError extends Error {
  /** @param {string} message @param {number} status */
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const backoff = [500, 1000, 2000, 4000, 8000, 15000];

/**
 * One participant's connection to a room. Events (CustomEvent, data in
 * `detail`): status {status, attempt}, welcome Welcome, state State,
 * participant Participant, turn (speaking order or null), track {participant,
 * stream}, error {code, message, ref}, bye {reason}, refused {message}, media
 * {state}.
 */
export class RoomClient extends EventTarget {
  /**
   * @param {{token: string, sessionId: string, url?: string, simulcast?: boolean, relayOnly?: boolean, lang?: string}} opts
   */
  constructor(opts) {
    super();
    /** @type {RTCIceTransportPolicy} 'relay': connect only through the TURN relay */
    this.policy = opts.relayOnly ? 'relay' : 'all';
    /** publish on a connection of our own offer, as simulcast (v2) */
    this.simulcast = opts.simulcast ?? canPublishSimulcast();
    /** @type {Publisher|null} */
    this.publisher = null;
    this.token = opts.token;
    this.sessionId = opts.sessionId;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // lang: the language of the server's error messages (extension).
    const q = { token: opts.token, session: opts.sessionId, ...(opts.lang ? { lang: opts.lang } : {}) };
    this.url = opts.url || `${proto}//${location.host}/ws?${new URLSearchParams(q)}`;
    /** @type {Record<string, MediaStreamTrack|null>} */
    this.local = { audio: null, video: null };
    /** @type {WebSocket|null} */
    this.ws = null;
    /** @type {RTCPeerConnection|null} */
    this.pc = null;
    /** milliseconds to add to Date.now() to get the server's time */
    this.clockOffset = 0;
    /** @type {Status} */
    this.status = 'closed';
    this.attempt = 0;
    this.stopped = false;
    /** @type {Promise<void>} */
    this.chain = Promise.resolve();
    /** @type {RTCIceCandidateInit[]} */
    this.pendingCandidates = [];
    /** @type {Welcome|null} */
    this.welcome = null;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.retryTimer = undefined;
  }

  /** @param {string} type @param {any} detail */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @param {Status} status */
  setStatus(status) {
    this.status = status;
    this.emit('status', { status, attempt: this.attempt });
  }

  /** The server's clock now, in milliseconds since the epoch. */
  serverNow() {
    return Date.now() + this.clockOffset;
  }

  /**
   * Sets what we publish; tracks may be null. Takes effect at once when
   * connected (no renegotiation needed).
   * @param {MediaStream|null} stream
   */
  async setLocalStream(stream) {
    this.local.audio = stream?.getAudioTracks()[0] || null;
    this.local.video = stream?.getVideoTracks()[0] || null;
    if (this.publisher) await this.publisher.replace(this.local.audio, this.local.video);
    if (!this.pc) return;
    for (const tr of this.pc.getTransceivers()) {
      if (tr.direction !== 'sendonly') continue;
      const kind = tr.receiver.track.kind;
      if (tr.sender.track !== this.local[kind]) await tr.sender.replaceTrack(this.local[kind]);
    }
  }

  connect() {
    this.stopped = false;
    this.open();
  }

  open() {
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let welcomed = false;
    let byeReason = '';
    ws.onmessage = (ev) => {
      /** @type {any} */
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === 'welcome') welcomed = true;
      if (msg.type === 'bye') byeReason = msg.reason;
      this.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.teardown();
      if (this.stopped) return;
      if (byeReason && byeReason !== ByeReason.shutdown) {
        this.stopped = true;
        this.setStatus('closed');
        return;
      }
      if (welcomed) this.attempt = 0;
      this.scheduleRetry();
    };
  }

  async scheduleRetry() {
    this.attempt++;
    this.setStatus('reconnecting');
    // After a few failures, ask whether the link is still good: a refused
    // link will not get better by retrying.
    if (this.attempt >= 3) {
      try {
        await lookUpLink(this.token, this.sessionId);
      } catch (err) {
        if (err instanceof LinkError && err.status === 401) {
          this.stopped = true;
          this.setStatus('closed');
          this.emit('refused', { message: err.message });
          return;
        }
      }
    }
    const wait = backoff[Math.min(this.attempt - 1, backoff.length - 1)];
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, wait);
  }

  teardown() {
    this.publisher?.close();
    this.publisher = null;
    this.pc?.close();
    this.pc = null;
    this.pendingCandidates = [];
    this.chain = Promise.resolve();
  }

  /** Leaves the room for good. */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.teardown();
    this.setStatus('closed');
  }

  /** @param {object} msg */
  send(msg) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /** Passes the turn in a round (the speaker or a host). */
  pass() {
    this.send({ type: 'pass' });
  }

  /**
   * Says what we show of each participant's video, so the server sends only
   * that (v2): hidden tiles get none, small ones the low layer.
   * @param {{participant: string, visible: boolean, width: number, height: number, pinned: boolean}[]} tiles
   */
  tiles(tiles) {
    if (tiles.length) this.send({ type: 'tiles', tiles });
  }

  /**
   * Says what this person's mic and camera do, a raised hand, "be right
   * back" (extension; only what is given changes).
   * @param {{mic?: boolean, camera?: boolean, hand?: boolean, away?: boolean}} s
   */
  sayStatus(s) {
    this.send({ type: 'status', ...s });
  }

  /** @param {string[]} tasks */
  commit(tasks) {
    this.send({ type: 'commit', tasks });
  }

  /** @param {boolean[]} done @param {string} note */
  report(done, note) {
    this.send({ type: 'report', done, note });
  }

  /**
   * @param {'advance'|'extend'|'end'|'mute'|'remove'} action
   * @param {{seconds?: number, participant?: string}} [extra]
   */
  host(action, extra = {}) {
    this.send({ type: 'host', action, ...extra });
  }

  /** @param {State} state */
  syncClock(state) {
    this.clockOffset = Date.parse(state.server_time) - Date.now();
  }

  /** @param {any} msg */
  onMessage(msg) {
    switch (msg.type) {
      case 'welcome':
        this.welcome = msg;
        this.syncClock(msg.state);
        this.newPeerConnection(msg.ice_servers || []);
        this.setStatus('connected');
        this.emit('welcome', msg);
        break;
      case 'state':
        this.syncClock(msg);
        this.emit('state', msg);
        break;
      case 'participant':
        this.emit('participant', msg);
        break;
      case 'turn':
        this.emit('turn', msg.turn);
        break;
      case 'offer':
        this.chain = this.chain.then(() => this.answer(msg.sdp)).then(() => this.startPublishing()).catch((err) => {
          this.emit('error', { code: 'client', message: `could not answer the server: ${err}`, ref: 'offer' });
        });
        break;
      case 'candidate':
        if (msg.pc === 'publish') this.publisher?.candidate(msg.candidate);
        else this.chain = this.chain.then(() => this.addCandidate(msg.candidate));
        break;
      case 'publish_answer':
        this.publisher?.answer(msg.sdp);
        break;
      case 'layers':
        this.publisher?.layers(msg.rids || []);
        this.emit('layers', { rids: msg.rids || [] });
        break;
      case 'paused':
        this.emit('paused', { participants: msg.participants || [] });
        break;
      case 'error':
        this.emit('error', msg);
        break;
      case 'bye':
        this.emit('bye', msg);
        break;
    }
  }

  /** @param {RTCIceServer[]} iceServers */
  newPeerConnection(iceServers) {
    this.teardown();
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', iceTransportPolicy: this.policy });
    this.pc = pc;
    pc.onicecandidate = (ev) => {
      if (ev.candidate) this.send({ type: 'candidate', candidate: ev.candidate.toJSON() });
    };
    pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (stream) this.emit('track', { participant: stream.id, stream, track: ev.track });
    };
    pc.onconnectionstatechange = () => this.emit('media', { state: pc.connectionState });
  }

  /** @param {string} sdp */
  async answer(sdp) {
    const pc = this.pc;
    if (!pc) return;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    // With a publish connection of our own, nothing goes out here.
    const slots = this.simulcast ? new Set() : receiveSlots(sdp);
    for (const tr of pc.getTransceivers()) {
      if (!tr.mid || !slots.has(tr.mid)) continue;
      tr.direction = 'sendonly';
      const track = this.local[tr.receiver.track.kind] || null;
      if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ type: 'answer', sdp: answer.sdp });
    for (const c of this.pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(() => {});
  }

  /** Opens the publish connection once the server's first offer is answered. */
  startPublishing() {
    if (!this.simulcast || this.publisher || !this.pc) return;
    const ice = this.welcome?.ice_servers || [];
    this.publisher = new Publisher(ice, (m) => this.send(m), (err) => {
      this.emit('error', { code: 'client', message: `could not publish: ${err}`, ref: 'publish_offer' });
    }, this.policy, this.welcome?.publish_limit || 0);
    this.publisher.start(this.local.audio, this.local.video);
  }

  /** @param {RTCIceCandidateInit} c */
  async addCandidate(c) {
    const pc = this.pc;
    if (!pc) return;
    if (!pc.remoteDescription) {
      this.pendingCandidates.push(c);
      return;
    }
    await pc.addIceCandidate(c).catch(() => {});
  }
}

/**
 * Milliseconds left in a phase, by the server's clock.
 * @param {Phase} phase
 * @param {number} serverNow
 */
export function remaining(phase, serverNow) {
  return Math.max(0, Date.parse(phase.ends_at) - serverNow);
}
