// @ts-check
// Camera and microphone: opening them (with what is left when one is
// refused), telling why they could not be opened, listing them by name, and
// a level meter for the microphone. Used before joining and in the room. No
// knowledge of the room or the server.
import { el } from './ui.js';
import { t } from './i18n.js';

/**
 * Why the devices could not be opened, as a catalog key prefix: denied
 * (permission), not_found, in_use, or other.
 * @param {unknown} err
 */
export function failureKind(err) {
  const name = err instanceof Error ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'not_found';
  if (name === 'NotReadableError' || name === 'AbortError' || name === 'TrackStartError') return 'in_use';
  return 'other';
}

/**
 * Opens camera and microphone, the chosen ones when given. When both
 * together fail, tries each alone, so a refused camera still leaves the
 * microphone. Returns the stream (or null) and the failure of what is
 * missing (null when all opened).
 * @param {string} cameraId @param {string} micId
 * @returns {Promise<{stream: MediaStream|null, error: unknown, missing: 'both'|'camera'|'mic'|''}>}
 */
export async function openMedia(cameraId, micId) {
  const audio = micId ? { deviceId: { exact: micId } } : true;
  const video = { width: { ideal: 960 }, height: { ideal: 540 }, ...(cameraId ? { deviceId: { exact: cameraId } } : {}) };
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, error: new Error('no media devices'), missing: 'both' };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }), error: null, missing: '' };
  } catch (err) {
    // A permission refused for one is usually refused for both, but a
    // missing or busy camera leaves the microphone usable.
    if (failureKind(err) === 'denied') {
      const alone = await tryOne({ audio }).catch(() => null);
      if (alone) return { stream: alone, error: err, missing: 'camera' };
      return { stream: null, error: err, missing: 'both' };
    }
    const mic = await tryOne({ audio });
    if (mic) return { stream: mic, error: err, missing: 'camera' };
    const cam = await tryOne({ video });
    if (cam) return { stream: cam, error: err, missing: 'mic' };
    return { stream: null, error: err, missing: 'both' };
  }
}

/** @param {MediaStreamConstraints} c */
async function tryOne(c) {
  try {
    return await navigator.mediaDevices.getUserMedia(c);
  } catch {
    return null;
  }
}

/**
 * The box that says what went wrong and what to do, with a retry button;
 * null when nothing is missing.
 * @param {{error: unknown, missing: string}} result @param {() => void} retry
 */
export function problemBox(result, retry) {
  if (!result.missing) return null;
  const kind = failureKind(result.error);
  /** @type {(Node|string)[]} */
  const parts = [];
  if (result.missing === 'camera' && kind !== 'denied') parts.push(el('p', {}, t('prejoin.no_camera')));
  else if (result.missing === 'mic') parts.push(el('p', {}, t('prejoin.no_mic')));
  if (kind === 'denied') parts.push(el('h2', {}, t('prejoin.denied_title')), el('p', {}, t('prejoin.denied_how')));
  else if (kind === 'not_found') parts.push(el('p', {}, t('prejoin.not_found')));
  else if (kind === 'in_use') parts.push(el('p', {}, t('prejoin.in_use')));
  else if (result.missing === 'both') {
    const detail = result.error instanceof Error ? result.error.message : String(result.error);
    parts.push(el('p', {}, t('prejoin.devices_unavailable', { error: detail })));
  }
  parts.push(el('button', { class: 'button retry', type: 'button', onclick: retry }, t('prejoin.retry')));
  return el('div', { class: 'device-problem', role: 'alert' }, ...parts);
}

/**
 * Lists the devices of a kind in a select by their names (known once
 * permission is given), the one in use selected.
 * @param {HTMLSelectElement} select @param {'videoinput'|'audioinput'} kind
 * @param {MediaStreamTrack|undefined} inUse
 */
export async function fillDevices(select, kind, inUse) {
  const devices = await navigator.mediaDevices?.enumerateDevices().catch(() => []) || [];
  const list = devices.filter((d) => d.kind === kind && d.deviceId);
  const current = inUse?.getSettings().deviceId || select.value;
  select.replaceChildren(...list.map((d, i) => el('option', { value: d.deviceId }, d.label || t('prejoin.device', { n: i + 1 }))));
  if (current) select.value = current;
  select.disabled = list.length === 0;
}

/**
 * A level meter for the microphone of stream, drawn into meter (a
 * <meter> from 0 to 1) while it is in the page. Returns a stop function.
 * @param {MediaStream|null} stream @param {HTMLMeterElement} meter
 */
export function levelMeter(stream, meter) {
  const track = stream?.getAudioTracks()[0];
  meter.value = 0;
  if (!track || typeof AudioContext === 'undefined') return () => {};
  let ctx;
  try {
    ctx = new AudioContext();
  } catch {
    return () => {};
  }
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    const rms = Math.sqrt(sum / data.length);
    // A muted track reads as silence, as it sends.
    meter.value = track.enabled ? Math.min(1, rms * 4) : 0;
  }, 100);
  return () => {
    stopped = true;
    clearInterval(timer);
    source.disconnect();
    ctx.close().catch(() => {});
  };
}
