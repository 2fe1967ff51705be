// @ts-check
// The parts of the room page that follow the session: the timeline of phases,
// the chime, the commitment and report forms, the speaking order, and the
// look back at the end. Pure rendering: room.js owns the state and the client.
import { el, phaseName, clock, minutes } from './ui.js';
import { t } from './i18n.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').Phase} Phase */

export const MAX_TASKS = 10;
export const MAX_TASK_LEN = 280;
export const MAX_NOTE_LEN = 2000;

/**
 * The plan as a bar: past phases dim, the current one filling up, the next
 * ones ahead.
 * @param {HTMLElement} box
 * @param {{kind: string, seconds: number}[]} plan
 * @param {Phase} phase
 * @param {number} now server time, ms
 */
export function renderTimeline(box, plan, phase, now) {
  const total = plan.reduce((n, p) => n + p.seconds, 0) || 1;
  const current = phase.index;
  const span = Date.parse(phase.ends_at) - Date.parse(phase.started_at);
  const done = span > 0 ? Math.min(1, Math.max(0, (now - Date.parse(phase.started_at)) / span)) : 1;
  // Rebuilt only when the plan or the phase changes; between, only the
  // progress moves (nothing is replaced under a reader's cursor).
  const key = JSON.stringify([plan, current, phase.ends_at]);
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    box.replaceChildren(...plan.map((p, i) => {
      const state = i < current ? 'past' : i === current ? 'current' : 'next';
      const seg = el('div', { class: `seg ${p.kind} ${state}`, style: `flex-grow:${p.seconds / total}`, title: t('timeline.segment', { phase: phaseName(p.kind), length: minutes(p.seconds) }) },
        el('span', {}, phaseName(p.kind)));
      if (state === 'current') seg.append(el('i', { class: 'progress' }));
      return seg;
    }));
    box.dataset.phase = phase.kind;
  }
  const bar = /** @type {HTMLElement|null} */ (box.querySelector('.progress'));
  if (bar) bar.style.width = `${(done * 100).toFixed(1)}%`;
}

let audioCtx = /** @type {AudioContext|null} */ (null);

/** A soft two-note chime. */
export function chime() {
  try {
    audioCtx = audioCtx || new AudioContext();
    const t = audioCtx.currentTime;
    for (const [i, freq] of [[0, 660], [1, 880]]) {
      const osc = audioCtx.createOscillator();
      const gain = audioCtx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0, t + i * 0.18);
      gain.gain.linearRampToValueAtTime(0.12, t + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.001, t + i * 0.18 + 0.6);
      osc.connect(gain).connect(audioCtx.destination);
      osc.start(t + i * 0.18);
      osc.stop(t + i * 0.18 + 0.65);
    }
  } catch {
    // No audio output: the banner still changes.
  }
}

/**
 * Checks tasks typed one per line; returns [tasks, error].
 * @param {string} text
 * @returns {[string[], string]}
 */
export function parseTasks(text) {
  const tasks = text.split('\n').map((t) => t.trim()).filter(Boolean);
  if (tasks.length === 0) return [tasks, t('form.need_task')];
  if (tasks.length > MAX_TASKS) return [tasks, t('form.too_many', { max: MAX_TASKS })];
  const long = tasks.findIndex((t) => [...t].length > MAX_TASK_LEN);
  if (long >= 0) return [tasks, t('form.task_too_long', { n: long + 1, max: MAX_TASK_LEN })];
  return [tasks, ''];
}

/**
 * Your own part of the round: the commitment form (lobby, commitment), the
 * report form (closing), or what you committed to (otherwise).
 * @param {HTMLElement} box
 * @param {Phase} phase
 * @param {Participant|undefined} me
 * @param {{commit: (tasks: string[]) => void, report: (done: boolean[], note: string) => void}} send
 * @param {string} [draftKey] session and participant: where unsaved drafts are kept
 */
export function renderMine(box, phase, me, send, draftKey = '') {
  const kind = phase.kind;
  const tasks = me?.commitment?.tasks || [];
  const commitDraft = new Draft(draftKey, 'commit');
  // The text on the page wins (it is what was just typed), then the stored draft.
  const typed = /** @type {HTMLTextAreaElement|null} */ (box.querySelector('#commit-form textarea'));
  if (typed) commitDraft.keep(typed.value, tasks.join('\n'), sameTasks);
  if (kind === 'lobby' || kind === 'commitment') {
    const area = /** @type {HTMLTextAreaElement} */ (el('textarea', { rows: 5, placeholder: t('form.tasks_placeholder') }));
    const draft = commitDraft.get();
    area.value = draft ?? tasks.join('\n');
    const error = el('p', { class: 'error', role: 'alert' });
    const saved = el('span', { class: 'saved' }, draft !== null ? t('form.unsaved') : me?.commitment ? t('form.saved') : '');
    area.addEventListener('input', () => {
      commitDraft.keep(area.value, tasks.join('\n'), sameTasks);
      saved.textContent = commitDraft.get() !== null ? t('form.unsaved') : me?.commitment ? t('form.saved') : '';
    });
    const form = el('form', {
      id: 'commit-form',
      onsubmit: (/** @type {Event} */ ev) => {
        ev.preventDefault();
        const [list, problem] = parseTasks(area.value);
        error.textContent = problem;
        if (problem) return;
        saved.textContent = t('form.saving');
        send.commit(list);
      },
    }, el('label', {}, t('form.commit_label'), area), error, el('button', { class: 'button primary' }, me?.commitment ? t('form.update') : t('form.commit')), ' ', saved);
    // Leave the box alone while someone types in it (caret and selection stay).
    if (typed && document.activeElement === typed && draft !== null) return;
    box.replaceChildren(el('h2', {}, t('form.commit_heading')), form);
    return;
  }
  if (kind === 'closing') {
    const reportDraft = new Draft(draftKey, 'report');
    const savedReport = JSON.stringify({ done: tasks.map((_, i) => !!me?.report?.done[i]), note: me?.report?.note || '' });
    const form0 = box.querySelector('#report-form');
    if (form0) reportDraft.keep(JSON.stringify(readReport(form0)), savedReport);
    const draft = reportDraft.get();
    if (form0 && box.contains(document.activeElement) && draft !== null) return;
    const start = draft !== null ? JSON.parse(draft) : JSON.parse(savedReport);
    const boxes = tasks.map((t, i) => {
      const cb = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', 'data-task': i }));
      cb.checked = !!start.done[i];
      return el('label', { class: 'task' }, cb, t);
    });
    const note = /** @type {HTMLTextAreaElement} */ (el('textarea', { rows: 3, maxlength: MAX_NOTE_LEN, placeholder: t('form.note_placeholder') }));
    note.value = start.note || '';
    const error = el('p', { class: 'error', role: 'alert' });
    const saved = el('span', { class: 'saved' }, draft !== null ? t('form.unsaved') : me?.report ? t('form.saved') : '');
    const form = el('form', {
      id: 'report-form',
      onsubmit: (/** @type {Event} */ ev) => {
        ev.preventDefault();
        if ([...note.value].length > MAX_NOTE_LEN) {
          error.textContent = t('form.note_too_long', { max: MAX_NOTE_LEN });
          return;
        }
        error.textContent = '';
        saved.textContent = t('form.saving');
        send.report(boxes.map((b) => /** @type {HTMLInputElement} */ (b.querySelector('input')).checked), note.value);
      },
    },
    tasks.length ? el('p', { class: 'sub' }, t('form.tick')) : el('p', { class: 'sub' }, t('form.no_commitment_note')),
    ...boxes, el('label', {}, t('form.note'), note), error, el('button', { class: 'button primary' }, me?.report ? t('form.update') : t('form.share')), ' ', saved);
    form.addEventListener('input', () => {
      reportDraft.keep(JSON.stringify(readReport(form)), savedReport);
      saved.textContent = reportDraft.get() !== null ? t('form.unsaved') : me?.report ? t('form.saved') : '';
    });
    box.replaceChildren(el('h2', {}, t('form.report_heading')), form);
    return;
  }
  const unsaved = commitDraft.get();
  box.replaceChildren(
    el('h2', {}, t('form.commit_heading')),
    tasks.length ? el('ol', { class: 'tasks' }, ...tasks.map((t) => el('li', {}, t))) : el('p', { class: 'sub' }, t('form.no_commitment')),
    // A draft typed too late to be saved is still shown, not thrown away.
    unsaved !== null ? el('div', { class: 'draft' }, el('p', { class: 'sub' }, t('form.draft_too_late')), el('pre', {}, unsaved)) : '',
  );
}

/** @param {string} a @param {string} b */
function sameTasks(a, b) {
  return parseTasks(a)[0].join('\n') === parseTasks(b)[0].join('\n');
}

/** What a report form holds now. @param {Element} form */
function readReport(form) {
  const done = [...form.querySelectorAll('input[data-task]')].map((b) => /** @type {HTMLInputElement} */ (b).checked);
  const note = /** @type {HTMLTextAreaElement|null} */ (form.querySelector('textarea'));
  return { done, note: note?.value || '' };
}

/**
 * Text typed but not saved yet, kept in localStorage under the session and
 * participant until what the server stored matches it: it survives
 * re-renders, phase changes, reconnects and reloads.
 */
class Draft {
  /** @param {string} key session.participant, or '' for no storage @param {string} what */
  constructor(key, what) {
    this.key = key ? `wt.draft.${key}.${what}` : '';
  }

  /** The unsaved draft, or null when there is none. */
  get() {
    if (!this.key) return null;
    try {
      return localStorage.getItem(this.key);
    } catch {
      return null;
    }
  }

  /**
   * Keeps value as the draft, or forgets the draft when value is what is saved.
   * @param {string} value @param {string} saved @param {(a: string, b: string) => boolean} [same]
   */
  keep(value, saved, same = (a, b) => a === b) {
    if (!this.key) return;
    try {
      if (same(value, saved)) localStorage.removeItem(this.key);
      else localStorage.setItem(this.key, value);
    } catch {
      // Storage refused (private mode, full): the page still holds the text.
    }
  }
}

/**
 * Shows a form's validation problem from the server.
 * @param {HTMLElement} box @param {string} message
 */
export function showFormError(box, message) {
  const error = box.querySelector('.error');
  const saved = box.querySelector('.saved');
  if (error) error.textContent = message;
  if (saved) saved.textContent = '';
}

/**
 * The speaking order of a round.
 * @param {HTMLElement} box
 * @param {{order: string[], current: number, speaker: string, started_at: string, seconds: number}|null} turn
 * @param {Map<string, Participant>} people
 * @param {{id: string, role: string}|null} you
 * @param {number} now server time, ms
 * @param {() => void} pass
 */
export function renderTurn(box, turn, people, you, now, pass) {
  if (!turn) {
    box.hidden = true;
    box.dataset.key = '';
    return;
  }
  box.hidden = false;
  const name = (/** @type {string} */ id) => people.get(id)?.name || '…';
  const speaking = turn.speaker;
  const next = turn.order.slice(turn.current + 1).find((id) => people.get(id)?.present);
  const left = turn.seconds * 1000 - (now - Date.parse(turn.started_at));
  const mine = speaking === you?.id;
  const time = left >= 0 ? t('turn.left', { left: clock(left) }) : t('turn.over', { over: clock(-left) });
  // Rebuilt only when the order, the speaker or a name changes: the
  // countdown changes in place, so the button keeps keyboard focus.
  const key = JSON.stringify([turn, turn.order.map(name), next ? name(next) : '', you?.id, you?.role, left < 0]);
  if (box.dataset.key === key) {
    const span = box.querySelector('.speaker > span');
    if (span && span.textContent !== time) span.textContent = time;
    return;
  }
  box.dataset.key = key;
  fill(box,
    el('h2', {}, t('turn.heading')),
    speaking
      ? el('p', { class: 'speaker' + (mine ? ' mine' : '') }, mine ? t('turn.yours') : t('turn.speaking', { name: name(speaking) }),
          el('span', { class: left < 0 ? 'over' : 'sub' }, time))
      : el('p', { class: 'sub' }, t('turn.all_done')),
    next ? el('p', { class: 'sub' }, t('turn.next', { name: name(next) })) : null,
    el('ol', { class: 'order' }, ...turn.order.map((id, i) => el('li', { class: i < turn.current ? 'spoken' : i === turn.current ? 'now' : '' }, name(id)))),
    speaking && (mine || you?.role === 'host') ? el('button', { class: 'button', type: 'button', onclick: pass }, mine ? t('turn.done') : t('turn.pass')) : null,
  );
}

/**
 * Replaces box's children, skipping the empty ones (as el does).
 * @param {HTMLElement} box @param {...(Node|string|null|undefined|false)} children
 */
function fill(box, ...children) {
  box.replaceChildren(.../** @type {(Node|string)[]} */ (children.filter((c) => c !== null && c !== undefined && c !== false)));
}

/**
 * The look back at the end: commitments next to what got done.
 * @param {Participant[]} list
 */
export function historyView(list) {
  return el('div', { class: 'history' }, ...list.map((p) => {
    const tasks = p.commitment?.tasks || [];
    return el('section', {},
      el('h3', {}, p.name),
      tasks.length
        ? el('ul', { class: 'look-back' }, ...tasks.map((t, i) => {
            const done = p.report?.done[i];
            return el('li', { class: done ? 'done' : p.report ? 'not-done' : '' }, done ? '✓ ' : p.report ? '○ ' : '· ', t);
          }))
        : el('p', { class: 'sub' }, t('form.no_commitment_short')),
      p.report?.note ? el('blockquote', {}, p.report.note) : null,
    );
  }));
}
