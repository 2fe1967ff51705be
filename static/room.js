// @ts-check
// The room page: check the link, preview camera and microphone, then join and
// show everyone's tiles, the phase and its countdown.
import { RoomClient, lookUpLink, becomeGuest, LinkError, remaining, ByeReason, ErrorCode } from './protocol.js';
import { el, $, phaseName, clock, initials, localDateTime } from './ui.js';
import { t } from './i18n.js';
import { renderTimeline, chime, renderMine, showFormError, renderTurn, historyView } from './rounds.js';
import { TileWatcher } from './tiles.js';
import { setUpCheck } from './check.js';

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
/** @type {Map<string, {root: HTMLElement, video: HTMLVideoElement, name: HTMLElement, badge: HTMLElement, stream: MediaStream|null}>} */
const tiles = new Map();
const want = { audio: true, video: true };
// Tells the server what each remote tile shows, so it sends only that.
const watcher = new TileWatcher((list) => client?.tiles(list));
/** @type {{kind: string, seconds: number}[]} */
let plan = [];
/** @type {any} the speaking order of the current round, or null */
let turn = null;
/** The microphone setting before the work phase turned it off, or null. */
let micBeforeWork = /** @type {boolean|null} */ (null);
let sound = localStorage.getItem('wt.chime') !== 'off';
/** Settles when the camera and microphone have opened (or failed to). */
let previewReady = Promise.resolve();

/** Shows one of the page's main views. @param {string} id */
function show(id) {
  for (const v of ['notice', 'loading', 'guest', 'prejoin', 'inroom']) $(v).hidden = v !== id;
}

/** A link to the subscriber's record of all their sessions, if there is one. */
function recordAction() {
  return recordURL ? el('a', { class: 'button', id: 'record-link', href: recordURL }, t('room.record_link')) : undefined;
}

/** @param {string} title @param {string} text @param {HTMLElement} [action] @param {HTMLElement} [history] */
function notice(title, text, action, history) {
  $('notice-title').textContent = title;
  $('notice-text').textContent = text;
  $('notice-history').replaceChildren(...(history ? [history] : []));
  const box = $('notice');
  box.querySelector('.extra')?.remove();
  if (action) box.append(el('p', { class: 'extra' }, action));
  $('status').hidden = true; // the room is left: no connection to speak of
  document.title = `${title} · Worktogether`;
  $('toast').hidden = true;
  show('notice');
  stopLocal();
}

/** @param {string} status @param {string} text */
function setStatus(status, text) {
  const s = $('status');
  s.dataset.status = status;
  s.textContent = text;
}

/** @param {string} text */
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(/** @type {any} */ (t).timer);
  /** @type {any} */ (t).timer = setTimeout(() => (t.hidden = true), 5000);
}

function stopLocal() {
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
    if (err instanceof LinkError) notice(t('room.link_refused'), err.message);
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
  previewReady = openDevices();
  return previewReady;
}

async function openDevices() {
  const camera = /** @type {HTMLSelectElement} */ ($('camera'));
  const mic = /** @type {HTMLSelectElement} */ ($('microphone'));
  stopLocal();
  $('prejoin-error').textContent = '';
  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: mic.value ? { deviceId: { exact: mic.value } } : true,
      video: { width: { ideal: 960 }, height: { ideal: 540 }, ...(camera.value ? { deviceId: { exact: camera.value } } : {}) },
    });
  } catch (err) {
    $('prejoin-error').textContent =
      t('prejoin.devices_unavailable', { error: err instanceof Error ? err.message : String(err) });
  }
  /** @type {HTMLVideoElement} */ ($('preview')).srcObject = localStream;
  applyWant();
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  fillSelect(camera, devices.filter((d) => d.kind === 'videoinput'), localStream?.getVideoTracks()[0]);
  fillSelect(mic, devices.filter((d) => d.kind === 'audioinput'), localStream?.getAudioTracks()[0]);
}

/** @param {HTMLSelectElement} select @param {MediaDeviceInfo[]} list @param {MediaStreamTrack|undefined} inUse */
function fillSelect(select, list, inUse) {
  const current = inUse?.getSettings().deviceId || select.value;
  select.replaceChildren(...list.map((d, i) => el('option', { value: d.deviceId }, d.label || t('prejoin.device', { n: i + 1 }))));
  if (current) select.value = current;
  select.disabled = list.length === 0;
}

function applyWant() {
  localStream?.getAudioTracks().forEach((t) => (t.enabled = want.audio));
  localStream?.getVideoTracks().forEach((t) => (t.enabled = want.video));
  const micBtn = $('mic');
  const camBtn = $('cam');
  micBtn.setAttribute('aria-pressed', String(want.audio));
  micBtn.textContent = want.audio ? t('room.mic_on') : t('room.mic_off');
  camBtn.setAttribute('aria-pressed', String(want.video));
  camBtn.textContent = want.video ? t('room.cam_on') : t('room.cam_off');
  /** @type {HTMLInputElement} */ ($('pre-mic')).checked = want.audio;
  /** @type {HTMLInputElement} */ ($('pre-cam')).checked = want.video;
  if (you) updateTile(you.id);
}

async function join() {
  const button = /** @type {HTMLButtonElement} */ ($('join'));
  button.disabled = true;
  button.textContent = t('room.joining');
  // Whoever clicks before the camera has opened still joins with it.
  await previewReady;
  show('inroom');
  $('status').hidden = false;
  client = new RoomClient({ token, sessionId, relayOnly });
  // For tests and curious people: the live client in the console.
  /** @type {any} */ (window).worktogether = client;
  client.setLocalStream(localStream);
  client.addEventListener('status', (/** @type {any} */ ev) => onStatus(ev.detail));
  client.addEventListener('welcome', (/** @type {any} */ ev) => onWelcome(ev.detail));
  client.addEventListener('state', (/** @type {any} */ ev) => onState(ev.detail));
  client.addEventListener('participant', (/** @type {any} */ ev) => onParticipant(ev.detail));
  client.addEventListener('turn', (/** @type {any} */ ev) => {
    turn = ev.detail;
    renderPhase();
  });
  client.addEventListener('track', (/** @type {any} */ ev) => onTrack(ev.detail));
  client.addEventListener('error', (/** @type {any} */ ev) => onError(ev.detail));
  client.addEventListener('bye', (/** @type {any} */ ev) => onBye(ev.detail.reason));
  client.addEventListener('refused', (/** @type {any} */ ev) => notice(t('room.link_gone'), ev.detail.message));
  client.addEventListener('media', (/** @type {any} */ ev) => {
    if (ev.detail.state === 'failed') toast(t('room.media_failed'));
  });
  client.connect();
  $('mic').onclick = () => {
    want.audio = !want.audio;
    applyWant();
  };
  $('cam').onclick = () => {
    want.video = !want.video;
    applyWant();
  };
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
  setInterval(renderPhase, 250);
}

/** @param {{status: string, attempt: number}} s */
function onStatus(s) {
  const text = { connecting: t('status.connecting'), connected: t('status.connected'), reconnecting: t('status.reconnecting'), closed: t('status.closed') };
  setStatus(s.status, /** @type {any} */ (text)[s.status] || s.status);
}

/** @param {import('./protocol.js').Welcome} w */
function onWelcome(w) {
  watcher.resend();
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
}

/** @param {import('./protocol.js').State} st */
function onState(st) {
  const before = phase;
  phase = st.phase;
  if (before && before.index !== phase.index && sound) chime();
  if (!before || before.index !== phase.index) enterPhase(phase.kind);
  renderPhase();
  renderOwn();
}

/** What changes for this person when a phase begins. @param {string} kind */
function enterPhase(kind) {
  const banner = $('banner');
  const micBtn = /** @type {HTMLButtonElement} */ ($('mic'));
  if (kind === 'work') {
    // The server forwards no audio now anyway; turning the mic off too means
    // nothing is sent, and the reason is on screen.
    if (micBeforeWork === null) micBeforeWork = want.audio;
    want.audio = false;
    applyWant();
    micBtn.disabled = true;
    micBtn.title = t('room.mic_off_work');
    banner.textContent = t('room.work_banner');
    banner.hidden = false;
  } else {
    micBtn.disabled = false;
    micBtn.title = '';
    banner.hidden = true;
    if (micBeforeWork !== null && (kind === 'break' || kind === 'closing')) {
      if (micBeforeWork && !want.audio) toast(t('room.mic_may'));
      micBeforeWork = null;
    }
  }
  for (const id of tiles.keys()) updateTile(id);
}

function renderPhase() {
  const box = $('phase');
  if (!phase || !client) return;
  const now = client.serverNow();
  box.hidden = false;
  box.dataset.kind = phase.kind;
  const left = clock(remaining(phase, now));
  box.textContent = phase.kind === 'lobby' ? t('room.lobby_left', { left }) : phase.kind === 'ended' ? phaseName('ended') : t('room.phase_left', { phase: phaseName(phase.kind), left });
  // The countdown in the tab title too, for a room in a background tab.
  if (!$('inroom').hidden) document.title = `${box.textContent} · ${$('title').textContent}`;
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
  }
  updateTile(p.id);
  renderPeople();
}

/** @param {{participant: string, stream: MediaStream}} t */
function onTrack(t) {
  const tile = ensureTile(t.participant);
  if (tile.stream !== t.stream) {
    tile.stream = t.stream;
    tile.video.srcObject = t.stream;
    t.stream.onremovetrack = () => updateTile(t.participant);
  }
  updateTile(t.participant);
}

/** @param {{code: string, message: string, ref: string}} e */
function onError(e) {
  if (e.code === ErrorCode.full) {
    client?.close();
    notice(t('room.full'), e.message);
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
  const texts = {
    [ByeReason.ended]: [t('room.ended'), t('room.thanks')],
    [ByeReason.removed]: [t('room.removed'), ''],
    [ByeReason.replaced]: [t('room.replaced'), t('room.replaced_text')],
    [ByeReason.cancelled]: [t('room.cancelled'), ''],
  };
  if (reason === ByeReason.shutdown) {
    toast(t('room.restarting'));
    return;
  }
  const [title, text] = texts[reason] || [t('room.left'), ''];
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
  let tile = tiles.get(id);
  if (tile) return tile;
  const video = /** @type {HTMLVideoElement} */ (el('video', { autoplay: true, playsInline: true }));
  const name = el('span', { class: 'name' });
  const badge = el('span', { class: 'badge', hidden: true });
  const avatar = el('div', { class: 'avatar' });
  const root = el('figure', { class: 'tile', 'data-participant': id }, video, avatar, el('figcaption', {}, name, badge));
  tile = { root, video, name, badge, stream: null };
  if (id === you?.id) {
    root.classList.add('self');
    video.muted = true;
    video.srcObject = localStream;
    tile.stream = localStream;
  } else {
    // A click on the tile, or its button, enlarges it: it gets the best
    // layer, even in the work phase's presence video.
    const pin = /** @type {HTMLButtonElement} */ (el('button', { class: 'pin', type: 'button', 'aria-pressed': 'false' }));
    root.append(pin);
    const toggle = () => {
      const pinned = !root.classList.contains('pinned');
      for (const [other, t] of tiles) {
        if (other !== id && t.root.classList.contains('pinned')) {
          t.root.classList.remove('pinned');
          watcher.pin(other, false);
        }
      }
      root.classList.toggle('pinned', pinned);
      watcher.pin(id, pinned);
      for (const other of tiles.keys()) updateTile(other);
    };
    root.addEventListener('click', toggle);
    watcher.watch(id, root);
  }
  tiles.set(id, tile);
  const grid = $('tiles');
  if (id === you?.id) grid.prepend(root);
  else grid.append(root);
  updateTile(id);
  return tile;
}

/** @param {string} id */
function updateTile(id) {
  const tile = tiles.get(id);
  if (!tile) return;
  const p = people.get(id);
  const self = id === you?.id;
  const name = p?.name || (self ? you?.name : '') || '…';
  tile.name.textContent = self ? t('room.you_name', { name }) : name;
  const pin = tile.root.querySelector('button.pin');
  if (pin) {
    const pinned = tile.root.classList.contains('pinned');
    pin.textContent = t(pinned ? 'room.shrink_short' : 'room.enlarge_short');
    pin.setAttribute('aria-label', t(pinned ? 'room.shrink' : 'room.enlarge', { name }));
    pin.setAttribute('aria-pressed', String(pinned));
  }
  /** @type {HTMLElement} */ (tile.root.querySelector('.avatar')).textContent = initials(name);
  const hasVideo = self ? want.video && !!localStream?.getVideoTracks().length : !!tile.stream?.getVideoTracks().length;
  tile.root.classList.toggle('novideo', !hasVideo);
  const quiet = phase?.kind === 'work';
  const muted = self ? !want.audio : !!p?.muted || quiet;
  tile.badge.hidden = !muted;
  tile.badge.textContent = p?.muted ? t('tile.muted_by_host') : quiet ? t('tile.quiet') : t('tile.mic_off');
  const tasks = p?.commitment?.tasks || [];
  let list = /** @type {HTMLElement|null} */ (tile.root.querySelector('.tile-tasks'));
  if (!list) {
    list = el('ul', { class: 'tile-tasks' });
    tile.root.append(list);
  }
  list.replaceChildren(...tasks.slice(0, 3).map((t, i) => el('li', { class: p?.report?.done[i] ? 'done' : '' }, t)),
    tasks.length > 3 ? el('li', { class: 'more' }, t('tile.more', { n: tasks.length - 3 })) : '');
  list.hidden = tasks.length === 0;
}

/** @param {string} id */
function removeTile(id) {
  if (id === you?.id) return;
  watcher.forget(id);
  tiles.get(id)?.root.remove();
  tiles.delete(id);
}

function renderPeople() {
  const list = $('people');
  const isHost = you?.role === 'host';
  const items = [...people.values()].sort((a, b) => Number(b.present) - Number(a.present));
  list.replaceChildren(
    ...items.map((p) =>
      el(
        'li',
        { class: p.present ? 'present' : 'away' },
        el('span', { class: 'dot', title: p.present ? t('people.here') : t('people.away') }),
        el('span', { class: 'who' }, p.name, p.role === 'host' ? el('small', {}, ' ', t('people.host')) : null, p.id === you?.id ? el('small', {}, ' ', t('people.you')) : null,
          p.commitment ? el('ol', { class: 'tasks' }, ...p.commitment.tasks.map((t, i) =>
            el('li', { class: p.report ? (p.report.done[i] ? 'done' : 'not-done') : '' }, t))) : null,
          p.report?.note ? el('blockquote', {}, p.report.note) : null),
        isHost && p.id !== you?.id && p.present
          ? el('span', { class: 'actions' },
              el('button', { class: 'link', onclick: () => client?.host(p.muted ? 'unmute' : 'mute', { participant: p.id }) }, p.muted ? t('people.unmute') : t('people.mute')),
              p.role !== 'host'
                ? el('button', { class: 'link', onclick: () => confirm(t('people.remove_confirm', { name: p.name })) && client?.host('remove', { participant: p.id }) }, t('people.remove'))
                : null)
          : null,
      ),
    ),
  );
}

start();
