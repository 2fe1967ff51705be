// @ts-check
// The room page: check the link, preview camera and microphone, then join and
// show everyone's tiles, the phase and its countdown.
import { RoomClient, lookUpLink, becomeGuest, LinkError, remaining, ByeReason, ErrorCode } from './protocol.js';
import { el, $, phaseName, clock, localDateTime, minutes } from './ui.js';
import { t, lang } from './i18n.js';
import { renderTimeline, chime, renderMine, showFormError, renderTurn, historyView } from './rounds.js';
import { TileWatcher } from './tiles.js';
import { setUpCheck } from './check.js';
import { TileGrid } from './grid.js';
import { openMedia, problemBox, fillDevices, levelMeter } from './devices.js';
import { show, showNotice, byeText, setStatus, toast } from './notice.js';
import { renderControls as renderControlButtons, announce, toggleNotifications, notify, bindShortcuts, renderPeople as renderPeopleList } from './controls.js';

const sessionId = decodeURIComponent(location.pathname.split('/')[2] || '');
let token = new URLSearchParams(location.search).get('t') || '';
// ?relay=only connects through the server's TURN relay only (what a network
// that blocks everything else leaves; for trying it out and for tests).
const relayOnly = new URLSearchParams(location.search).get('relay') === 'only';

/** @type {RoomClient|null} */
let client = null;
/** @type {MediaStream|null} */
let localStream = null;
/** @type {import('./protocol.js').You|null} */
let you = null;
/** A subscriber's record of past sessions, when the link came in a mail. */
let recordURL = '';
/** @type {import('./protocol.js').Phase|null} */
let phase = null;
/** @type {Map<string, import('./protocol.js').Participant>} */
const people = new Map();
/** Whose video the server holds back for lack of bandwidth on this connection. */
let pausedForBandwidth = new Set();
/** @type {Map<string, MediaStream>} each participant's stream on this connection: one who comes back may get it again without a new track event */
const remoteStreams = new Map();
const want = { audio: true, video: true };
/** A raised hand, and "be right back" (camera off, a note on the tile). */
const mine = { hand: false, away: false };
let selfHidden = localStorage.getItem('wt.selfview') === 'hidden';
let notifying = localStorage.getItem('wt.notify') === 'on' && typeof Notification !== 'undefined' && Notification.permission === 'granted';
/** Stops the level meter that runs now. */
let stopMeter = () => {};
/** @type {ReturnType<typeof setInterval>|undefined} */
let ticker;
// Tells the server what each remote tile shows, so it sends only that.
const watcher = new TileWatcher((list) => client?.tiles(list));
const grid = new TileGrid($('tiles'), tileView, (id, root) => watcher.watch(id, root), (id, pinned) => watcher.pin(id, pinned), {
  nav: $('pager'), prev: /** @type {HTMLButtonElement} */ ($('page-prev')), next: /** @type {HTMLButtonElement} */ ($('page-next')), status: $('page-of'),
}, (id, off) => watcher.offPage(id, off));
const tiles = grid.tiles;
/** @type {{kind: string, seconds: number}[]} */
let plan = [];
/** @type {any} the speaking order of the current round, or null */
let turn = null;
/** The microphone setting before the work phase turned it off, or null. */
let micBeforeWork = /** @type {boolean|null} */ (null);
let sound = localStorage.getItem('wt.chime') !== 'off';
/** Settles when the camera and microphone have opened (or failed to). */
let previewReady = Promise.resolve();

/** A link to the subscriber's record of all their sessions, if there is one. */
function recordAction() {
  return recordURL ? el('a', { class: 'button', id: 'record-link', href: recordURL }, t('room.record_link')) : undefined;
}

/**
 * The room is left, or never entered: the notice, and nothing runs on.
 * @param {string} title @param {string} text @param {HTMLElement} [action] @param {HTMLElement} [history] @param {string} [next]
 */
function notice(title, text, action, history, next = '') {
  clearInterval(ticker);
  showNotice({ title, text, action, history, next });
  stopLocal();
}

function stopLocal() {
  stopMeter();
  localStream?.getTracks().forEach((t) => t.stop());
  localStream = null;
}

async function start() {
  if (!sessionId || !token) {
    notice(t('room.link_incomplete'), t('room.link_incomplete_text'));
    return;
  }
  let info;
  try {
    info = await lookUpLink(token, sessionId);
  } catch (err) {
    if (err instanceof LinkError) notice(t('room.link_refused'), err.message, undefined, undefined, t('room.link_refused_next'));
    else notice(t('room.unreachable'), t('room.unreachable_text'));
    return;
  }
  $('title').textContent = info.session.title;
  document.title = `${info.session.title} · Worktogether`;
  if (info.open) {
    askName(info.session);
    return;
  }
  you = info.you;
  recordURL = info.record_url || '';
  if (info.session.phase?.kind === 'ended') {
    notice(t('room.ended'), t('room.look_back_yours'), recordAction(),
      historyView([{ ...info.you, present: false, muted: false, commitment: info.commitment, report: info.report }]));
    return;
  }
  // A full room says so before the camera opens (hosts are always let in,
  // and so is someone in the room already from another tab or device).
  if (info.you.role !== 'host' && !info.here && info.session.participants >= info.session.capacity) {
    notice(t('room.full'), t('room.full_text', { n: info.session.capacity }),
      el('button', { class: 'button primary', onclick: () => location.reload() }, t('prejoin.retry')));
    return;
  }
  prejoin(info.session);
}

/** An open link: ask for a name, trade it for a personal link. */
function askName(session) {
  $('guest-title').textContent = session.title;
  show('guest');
  const form = /** @type {HTMLFormElement} */ ($('guest-form'));
  const input = /** @type {HTMLInputElement} */ ($('guest-name'));
  input.value = localStorage.getItem('wt.name') || '';
  input.focus();
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    $('guest-error').textContent = '';
    try {
      const personal = await becomeGuest(token, input.value.trim());
      localStorage.setItem('wt.name', input.value.trim());
      token = personal.token;
      // Keep the personal link in the address bar: a reload is the same person.
      history.replaceState(null, '', personal.url);
      start();
    } catch (err) {
      $('guest-error').textContent = err instanceof Error ? err.message : String(err);
    }
  };
}

/** @param {import('./protocol.js').Session} session */
async function prejoin(session) {
  $('prejoin-title').textContent = session.title;
  $('prejoin-when').textContent = `${localDateTime(session.starts_at)} · ${phaseName(session.phase?.kind || '')}`;
  $('prejoin-name').textContent = you?.name || '';
  show('prejoin');
  const camera = /** @type {HTMLSelectElement} */ ($('camera'));
  const mic = /** @type {HTMLSelectElement} */ ($('microphone'));
  camera.onchange = mic.onchange = () => openPreview();
  /** @type {HTMLInputElement} */ ($('pre-mic')).onchange = (ev) => {
    want.audio = /** @type {HTMLInputElement} */ (ev.target).checked;
    applyWant();
  };
  /** @type {HTMLInputElement} */ ($('pre-cam')).onchange = (ev) => {
    want.video = /** @type {HTMLInputElement} */ (ev.target).checked;
    applyWant();
  };
  $('join').onclick = join;
  setUpCheck(token, sessionId);
  await openPreview();
}

function openPreview() {
  previewReady = openDevices(/** @type {HTMLSelectElement} */ ($('camera')).value, /** @type {HTMLSelectElement} */ ($('microphone')).value);
  return previewReady;
}

/** One opening of the devices at a time: none is left open and unused. */
let devicesBusy = Promise.resolve();

/**
 * Opens camera and microphone (the chosen ones), shows them in the preview
 * and the own tile, sends them when in the room, and says what is missing
 * and how to fix it, with a retry.
 * @param {string} cameraId @param {string} micId
 */
function openDevices(cameraId, micId) {
  devicesBusy = devicesBusy.then(() => openDevicesNow(cameraId, micId)).catch((err) => console.warn(err));
  return devicesBusy;
}

/** @param {string} cameraId @param {string} micId */
async function openDevicesNow(cameraId, micId) {
  const inRoom = !!client;
  const problem = $(inRoom ? 'room-problem' : 'prejoin-problem');
  const old = localStream;
  stopMeter();
  if (!inRoom) stopLocal(); // before joining: free the camera for the new choice
  $('prejoin-error').textContent = '';
  const result = await openMedia(cameraId, micId);
  if (inRoom && old) old.getTracks().forEach((tr) => tr.stop());
  localStream = result.stream;
  const box = problemBox(result, () => {
    previewReady = openDevices(cameraId, micId);
  });
  problem.replaceChildren(...(box ? [box] : []));
  /** @type {HTMLVideoElement} */ ($('preview')).srcObject = localStream;
  const self = you ? tiles.get(you.id) : undefined;
  if (self) {
    self.video.srcObject = localStream;
    self.stream = localStream;
  }
  await client?.setLocalStream(localStream);
  applyWant();
  stopMeter = levelMeter(localStream, /** @type {HTMLMeterElement} */ ($(inRoom ? 'room-level' : 'pre-level')));
  for (const [cam, mic] of [['camera', 'microphone'], ['room-camera', 'room-microphone']]) {
    await fillDevices(/** @type {HTMLSelectElement} */ ($(cam)), 'videoinput', localStream?.getVideoTracks()[0]);
    await fillDevices(/** @type {HTMLSelectElement} */ ($(mic)), 'audioinput', localStream?.getAudioTracks()[0]);
  }
}

function applyWant() {
  localStream?.getAudioTracks().forEach((t) => (t.enabled = want.audio));
  localStream?.getVideoTracks().forEach((t) => (t.enabled = want.video && !mine.away));
  /** @type {HTMLInputElement} */ ($('pre-mic')).checked = want.audio;
  /** @type {HTMLInputElement} */ ($('pre-cam')).checked = want.video;
  renderControls();
  if (you) grid.update(you.id);
  sendStatus();
}

/** Whether the host muted this person (until the phase ends). */
function hostMutedMe() {
  return !!(you && people.get(you.id)?.muted);
}

/** The buttons say what they do now. */
function renderControls() {
  renderControlButtons({
    work: phase?.kind === 'work', hostMuted: hostMutedMe(), hand: mine.hand, away: mine.away, selfHidden, notifying,
    // What is really sent: a device that could not be opened is off.
    micOn: want.audio && !!localStream?.getAudioTracks().length,
    camOn: want.video && !!localStream?.getVideoTracks().length,
  });
  const self = you ? tiles.get(you.id) : undefined;
  if (self && self.root.classList.contains('self-hidden') !== selfHidden) {
    self.root.classList.toggle('self-hidden', selfHidden);
    grid.layout();
  }
  renderTurnPrompt();
}

/** Your turn with the microphone off: a prompt to turn it on. */
function renderTurnPrompt() {
  const micOn = want.audio && !!localStream?.getAudioTracks().length;
  const prompt = !!turn && !!you && turn.speaker === you.id && !micOn && phase?.kind !== 'work' && !hostMutedMe();
  $('turn-prompt').hidden = !prompt;
}

/** Tells the server what this person's mic and camera do (extension). */
function sendStatus() {
  if (!client) return;
  const mic = want.audio && !!localStream?.getAudioTracks().length;
  const camera = want.video && !mine.away && !!localStream?.getVideoTracks().length;
  const s = { mic, camera, hand: mine.hand, away: mine.away };
  const key = JSON.stringify(s);
  if (key === lastStatus) return;
  lastStatus = key;
  client.sayStatus(s);
}
let lastStatus = '';

/** Turns the mic or camera on or off; one that could not be opened is asked for again. @param {'audio'|'video'} kind */
async function toggle(kind) {
  const has = kind === 'audio' ? localStream?.getAudioTracks().length : localStream?.getVideoTracks().length;
  want[kind] = has ? !want[kind] : true;
  if (!has) {
    await openDevices(/** @type {HTMLSelectElement} */ ($('room-camera')).value, /** @type {HTMLSelectElement} */ ($('room-microphone')).value);
    return;
  }
  applyWant();
}

/** What each tile shows now. @param {string} id */
function tileView(id) {
  const p = people.get(id);
  const self = id === you?.id;
  const quiet = phase?.kind === 'work';
  const round = phase?.kind === 'commitment' || phase?.kind === 'closing';
  const tile = tiles.get(id);
  const hasVideo = self ? want.video && !!localStream?.getVideoTracks().length : !!tile?.stream?.getVideoTracks().length && p?.camera !== false;
  return {
    id, self, name: p?.name || (self ? you?.name || '' : ''),
    mic: self ? want.audio && !!localStream?.getAudioTracks().length : p?.mic ?? null,
    hostMuted: !!p?.muted, quiet, hasVideo,
    hand: self ? mine.hand : !!p?.hand, away: self ? mine.away : !!p?.away,
    speaking: round && !!turn && turn.speaker === id,
    paused: !self && pausedForBandwidth.has(id),
    tasks: p?.commitment?.tasks || [], done: p?.report?.done || [],
  };
}

async function join() {
  const button = /** @type {HTMLButtonElement} */ ($('join'));
  button.disabled = true;
  button.textContent = t('room.joining');
  // Whoever clicks before the camera has opened still joins with it.
  await previewReady;
  show('inroom');
  $('status').hidden = false;
  client = new RoomClient({ token, sessionId, relayOnly, lang });
  // For tests and curious people: the live client in the console.
  /** @type {any} */ (window).worktogether = client;
  client.setLocalStream(localStream);
  client.addEventListener('status', (/** @type {any} */ ev) => onStatus(ev.detail));
  client.addEventListener('welcome', (/** @type {any} */ ev) => onWelcome(ev.detail));
  client.addEventListener('state', (/** @type {any} */ ev) => onState(ev.detail));
  client.addEventListener('participant', (/** @type {any} */ ev) => onParticipant(ev.detail));
  client.addEventListener('paused', (/** @type {any} */ ev) => {
    pausedForBandwidth = new Set(ev.detail.participants);
    grid.updateAll();
  });
  client.addEventListener('turn', (/** @type {any} */ ev) => onTurn(ev.detail));
  client.addEventListener('track', (/** @type {any} */ ev) => onTrack(ev.detail));
  client.addEventListener('error', (/** @type {any} */ ev) => onError(ev.detail));
  client.addEventListener('bye', (/** @type {any} */ ev) => onBye(ev.detail.reason));
  client.addEventListener('refused', (/** @type {any} */ ev) => notice(t('room.link_gone'), ev.detail.message, undefined, undefined, t('room.link_refused_next')));
  client.addEventListener('media', (/** @type {any} */ ev) => {
    if (ev.detail.state === 'failed') toast(t('room.media_failed'));
  });
  client.connect();
  stopMeter();
  stopMeter = levelMeter(localStream, /** @type {HTMLMeterElement} */ ($('room-level')));
  // Whatever the preview could not open, the room says again (its retry
  // opens the devices for the room now).
  $('room-problem').replaceChildren(...$('prejoin-problem').childNodes);
  const roomCam = /** @type {HTMLSelectElement} */ ($('room-camera'));
  const roomMic = /** @type {HTMLSelectElement} */ ($('room-microphone'));
  roomCam.onchange = roomMic.onchange = () => openDevices(roomCam.value, roomMic.value);
  $('mic').onclick = () => toggle('audio');
  $('cam').onclick = () => toggle('video');
  $('turn-mic').onclick = () => {
    if (!want.audio) toggle('audio');
  };
  $('hand').onclick = () => {
    mine.hand = !mine.hand;
    applyWant();
  };
  $('brb').onclick = () => {
    mine.away = !mine.away;
    applyWant();
  };
  $('selfview').onclick = () => {
    selfHidden = !selfHidden;
    localStorage.setItem('wt.selfview', selfHidden ? 'hidden' : 'shown');
    renderControls();
  };
  $('notify').onclick = async () => {
    const was = notifying;
    notifying = await toggleNotifications(notifying);
    if (!was && !notifying) toast(t('room.notify_denied'));
    localStorage.setItem('wt.notify', notifying ? 'on' : 'off');
    renderControls();
  };
  bindShortcuts();
  // The header's link would end the call: ask first.
  document.querySelector('header .brand')?.addEventListener('click', (ev) => {
    if (!$('inroom').hidden && !confirm(t('room.leave_confirm'))) ev.preventDefault();
  });
  const soundBtn = $('sound');
  const showSound = () => {
    soundBtn.setAttribute('aria-pressed', String(sound));
    soundBtn.textContent = sound ? t('room.chime_on') : t('room.chime_off');
  };
  showSound();
  soundBtn.onclick = () => {
    sound = !sound;
    localStorage.setItem('wt.chime', sound ? 'on' : 'off');
    showSound();
    if (sound) chime();
  };
  $('leave').onclick = () => {
    client?.close();
    notice(t('room.left'), t('room.left_text'), el('button', { class: 'button primary', onclick: () => location.reload() }, t('room.rejoin')));
  };
  for (const b of document.querySelectorAll('[data-host]')) {
    const btn = /** @type {HTMLElement} */ (b);
    btn.onclick = () => {
      const action = /** @type {any} */ (btn.dataset.host);
      if (action === 'end' && !confirm(t('room.end_confirm'))) return;
      client?.host(action, btn.dataset.seconds ? { seconds: Number(btn.dataset.seconds) } : {});
    };
  }
  ticker = setInterval(renderPhase, 250);
}

/** @param {{status: string, attempt: number}} s */
function onStatus(s) {
  const text = { connecting: t('status.connecting'), connected: t('status.connected'), reconnecting: t('status.reconnecting'), closed: t('status.closed') };
  setStatus(s.status, /** @type {any} */ (text)[s.status] || s.status);
}

/** @param {import('./protocol.js').Welcome} w */
function onWelcome(w) {
  watcher.resend();
  remoteStreams.clear();
  you = w.you;
  plan = w.session.plan;
  turn = /** @type {any} */ (w).turn || null;
  people.clear();
  for (const p of w.participants) people.set(p.id, p);
  $('host-controls').hidden = you.role !== 'host';
  onState(w.state);
  renderOwn();
  // Drop tiles of people who left while we were away.
  for (const id of [...tiles.keys()]) if (!people.get(id)?.present) removeTile(id);
  for (const p of w.participants) if (p.present) ensureTile(p.id);
  renderPeople();
  // A new connection: the server forgot what we said of ourselves.
  lastStatus = '';
  applyWant();
}

/** The speaking order changed: the speaker's tile is highlighted, and a new speaker announced. @param {any} next */
function onTurn(next) {
  const before = turn?.speaker || '';
  turn = next;
  const speaker = turn?.speaker || '';
  if (speaker && speaker !== before) {
    announce(speaker === you?.id ? t('announce.your_turn') : t('turn.speaking', { name: people.get(speaker)?.name || '…' }));
  }
  renderPhase();
  renderControls();
  grid.updateAll();
  // The speaker stays on the page shown.
  grid.speaker = speaker;
  grid.layout();
}

/** @param {import('./protocol.js').State} st */
function onState(st) {
  const before = phase;
  phase = st.phase;
  if (before && before.index !== phase.index && sound) chime();
  if (!before || before.index !== phase.index) enterPhase(phase.kind, !!before);
  renderPhase();
  renderOwn();
}

/** What changes for this person when a phase begins. @param {string} kind @param {boolean} changed not the first phase seen */
function enterPhase(kind, changed) {
  const banner = $('banner');
  mine.hand = false; // hands go down with each phase, on the server too
  if (kind === 'work') {
    // The server forwards no audio now anyway; turning the mic off too means
    // nothing is sent, and the reason is on screen.
    if (micBeforeWork === null) micBeforeWork = want.audio;
    want.audio = false;
    banner.textContent = t('room.work_banner');
    banner.hidden = false;
  } else {
    banner.hidden = true;
    if (micBeforeWork !== null && (kind === 'break' || kind === 'closing')) {
      if (micBeforeWork && !want.audio) toast(t('room.mic_may'));
      micBeforeWork = null;
    }
  }
  applyWant();
  if (changed && phase && kind !== 'ended') {
    const i = phase.index;
    const length = i >= 0 && plan[i] ? minutes(plan[i].seconds) : clock(remaining(phase, client?.serverNow() || Date.now()));
    announce(t('announce.phase', { phase: phaseName(kind), left: length }));
    if (notifying) notify(t('notify.phase', { phase: phaseName(kind) }), $('title').textContent || '');
  }
  grid.updateAll();
}

function renderPhase() {
  const box = $('phase');
  if (!phase || !client || $('inroom').hidden) return;
  const now = client.serverNow();
  box.hidden = false;
  box.dataset.kind = phase.kind;
  const left = clock(remaining(phase, now));
  const text = phase.kind === 'lobby' ? t('room.lobby_left', { left }) : phase.kind === 'ended' ? phaseName('ended') : t('room.phase_left', { phase: phaseName(phase.kind), left });
  if (box.textContent !== text) box.textContent = text;
  // The countdown in the tab title too, for a room in a background tab.
  document.title = `${text} · ${$('title').textContent}`;
  if (plan.length) renderTimeline($('timeline'), plan, phase, now);
  renderTurn($('round'), turn, people, you, now, () => client?.pass());
}

/** This person's commitment or report form. */
function renderOwn() {
  if (!phase || !you) return;
  renderMine($('mine'), phase, people.get(you.id), {
    commit: (tasks) => client?.commit(tasks),
    report: (done, note) => client?.report(done, note),
  }, `${sessionId}.${you.id}`);
}

/** @param {import('./protocol.js').Participant} p */
function onParticipant(p) {
  const before = people.get(p.id);
  people.set(p.id, p);
  if (p.present) ensureTile(p.id);
  else removeTile(p.id);
  if (before && before.present !== p.present && p.id !== you?.id) toast(t(p.present ? 'room.joined' : 'room.person_left', { name: p.name }));
  if (p.id === you?.id) {
    // Our own commitment or report came back: it is stored.
    const savedNow = JSON.stringify([before?.commitment, before?.report]) !== JSON.stringify([p.commitment, p.report]);
    renderOwn();
    if (savedNow) $('mine').querySelectorAll('.saved').forEach((e) => (e.textContent = t('form.saved')));
    if (p.muted && !before?.muted) toast(t('room.muted_you'));
    if (!p.muted && before?.muted) toast(t('room.unmuted_you'));
    renderControls();
  }
  updateTile(p.id);
  renderPeople();
}

/** @param {{participant: string, stream: MediaStream}} t */
function onTrack(t) {
  remoteStreams.set(t.participant, t.stream);
  ensureTile(t.participant);
  updateTile(t.participant);
}

/** @param {{code: string, message: string, ref: string}} e */
function onError(e) {
  if (e.code === ErrorCode.full) {
    client?.close();
    notice(t('room.full'), t('room.full_text', { n: client?.welcome?.session.capacity || '' }),
      el('button', { class: 'button primary', onclick: () => location.reload() }, t('prejoin.retry')));
    return;
  }
  if (e.ref === 'status') {
    // Refused (too many changes at once): say the state again in a moment.
    lastStatus = '';
    setTimeout(sendStatus, 1500);
    return;
  }
  if (e.ref === 'commit' || e.ref === 'report') {
    showFormError($('mine'), e.message);
    return;
  }
  if (e.code === 'client') {
    // The browser's own failure to answer or to publish: say it in the
    // page's language (the detail, in English, goes to the console).
    console.warn(e.message);
    toast(t(e.ref === 'publish_offer' ? 'room.publish_failed' : 'room.answer_failed'));
    return;
  }
  toast(e.message);
}

/** @param {string} reason */
function onBye(reason) {
  if (reason === ByeReason.shutdown) {
    toast(t('room.restarting'));
    return;
  }
  const [title, text] = byeText(reason);
  if (reason === ByeReason.ended) {
    // Hosts see everyone; each participant sees what they said and did.
    const list = you?.role === 'host' ? [...people.values()] : [people.get(you?.id || '')].filter((p) => !!p);
    notice(title, you?.role === 'host' ? t('room.look_back_all') : t('room.look_back_yours'),
      recordAction(), historyView(/** @type {any} */ (list)));
    return;
  }
  notice(title, text);
}

/** @param {string} id */
function ensureTile(id) {
  const tile = grid.ensure(id, id === you?.id, localStream);
  if (id === you?.id) tile.root.classList.toggle('self-hidden', selfHidden);
  const known = remoteStreams.get(id);
  if (id !== you?.id && known && tile.stream !== known) {
    tile.stream = known;
    tile.video.srcObject = known;
    known.onremovetrack = () => updateTile(id);
  }
  if (id !== you?.id) hearTile(tile);
  return tile;
}

/**
 * A remote tile's voice plays on its audio element, from the audio tracks
 * of the participant's stream (they change as sections are reused).
 * @param {import('./grid.js').Tile} tile
 */
function hearTile(tile) {
  const want = tile.stream?.getAudioTracks() || [];
  const playing = /** @type {MediaStream|null} */ (tile.audio.srcObject)?.getAudioTracks() || [];
  if (want.length === playing.length && want.every((tr, i) => tr === playing[i])) return;
  tile.audio.srcObject = want.length ? new MediaStream(want) : null;
}

/** @param {string} id */
function updateTile(id) {
  const tile = tiles.get(id);
  if (tile && id !== you?.id) hearTile(tile);
  grid.update(id);
}

/** @param {string} id */
function removeTile(id) {
  if (id === you?.id) return;
  watcher.forget(id);
  grid.remove(id);
}

function renderPeople() {
  renderPeopleList(people, you, (action, p) => {
    if (action === 'remove' && !confirm(t('people.remove_confirm', { name: p.name }))) return;
    client?.host(/** @type {any} */ (action), { participant: p.id });
  });
}

start();
