// @ts-check
// The connection check on the pre-join page: before joining, try what gets
// through from this network to the server (UDP, TCP and TLS to its relay) by
// gathering ICE candidates against each of its STUN/TURN URLs, and say
// plainly what was found and what to do. Credentials come from
// GET /api/connection-check (good for two minutes, counted apart from the
// ones the room uses).
import { el, $ } from './ui.js';
import { t } from './i18n.js';

/** How long one URL may take to answer. */
const gatherTimeout = 6000;

/**
 * @typedef {{udp: boolean|null, tcp: boolean|null, tls: boolean|null, relay: boolean}} CheckResult
 * Each transport: true (works), false (tried, nothing came back), null (not
 * offered by the server, so not tried).
 */

/** Wires the check's button. @param {string} token @param {string} sessionId */
export function setUpCheck(token, sessionId) {
  const button = /** @type {HTMLButtonElement} */ ($('check-run'));
  button.onclick = async () => {
    button.disabled = true;
    $('check-verdict').textContent = t('check.running');
    $('check-items').replaceChildren();
    try {
      render(await runCheck(token, sessionId));
    } catch (err) {
      $('check-verdict').textContent = t('check.failed', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      button.disabled = false;
    }
  };
}

/** @param {string} token @param {string} sessionId @returns {Promise<CheckResult>} */
export async function runCheck(token, sessionId) {
  const resp = await fetch(`/api/connection-check?${new URLSearchParams({ t: token, session: sessionId })}`);
  const body = await resp.json().catch(() => ({}));
  if (resp.status === 429) throw new Error(t('check.wait'));
  if (!resp.ok) throw new Error(body?.error?.message || `HTTP ${resp.status}`);
  /** @type {RTCIceServer[]} */
  const servers = body.ice_servers || [];
  /** @type {CheckResult} */
  const result = { udp: null, tcp: null, tls: null, relay: !!body.relay };
  const tries = [];
  for (const server of servers) {
    for (const url of [server.urls].flat()) {
      const kind = transportOf(url);
      if (!kind) continue;
      tries.push(gather({ ...server, urls: [url] }).then((types) => {
        // UDP works when anything came back over it (a reflexive or relay
        // candidate); TCP and TLS when the relay gave an allocation.
        const ok = kind === 'udp' ? types.has('srflx') || types.has('relay') : types.has('relay');
        result[kind] = !!result[kind] || ok;
      }));
    }
  }
  await Promise.all(tries);
  return result;
}

/** Which transport a STUN/TURN URL tries. @param {string} url @returns {'udp'|'tcp'|'tls'|null} */
function transportOf(url) {
  const m = /^(stuns?|turns?):[^?]*(?:\?transport=(udp|tcp))?$/i.exec(url.trim());
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  if (scheme === 'turns' || scheme === 'stuns') return 'tls';
  return (m[2] || 'udp').toLowerCase() === 'tcp' ? 'tcp' : 'udp';
}

/**
 * The candidate types gathered against one ICE server within the timeout.
 * @param {RTCIceServer} server @returns {Promise<Set<string>>}
 */
async function gather(server) {
  const types = new Set();
  let pc;
  try {
    pc = new RTCPeerConnection({ iceServers: [server] });
  } catch {
    return types; // a URL this browser does not take
  }
  pc.createDataChannel('check');
  const done = new Promise((resolve) => {
    const timer = setTimeout(resolve, gatherTimeout);
    pc.onicecandidate = (ev) => {
      if (ev.candidate) {
        if (ev.candidate.type) types.add(ev.candidate.type);
      } else {
        clearTimeout(timer);
        resolve(undefined);
      }
    };
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await done;
  } finally {
    pc.close();
  }
  return types;
}

/** The verdict key for a result. @param {CheckResult} r */
export function verdict(r) {
  const tried = [r.udp, r.tcp, r.tls].some((v) => v !== null);
  if (!tried) return 'check.none';
  if (r.udp) return 'check.udp_ok';
  if (r.tcp || r.tls) return r.udp === false ? 'check.tcp_only' : 'check.relay_ok';
  return 'check.blocked';
}

/** @param {CheckResult} r */
function render(r) {
  const key = verdict(r);
  const box = $('check-result');
  box.dataset.verdict = key.slice('check.'.length);
  $('check-verdict').textContent = t(key);
  const items = [];
  for (const kind of /** @type {const} */ (['udp', 'tcp', 'tls'])) {
    const v = r[kind];
    if (v === null) continue;
    items.push(el('li', { 'data-transport': kind, 'data-ok': String(v) },
      `${t(`check.${kind}`)}: ${t(v ? 'check.works' : 'check.blocked_short')}`));
  }
  $('check-items').replaceChildren(...items);
}
