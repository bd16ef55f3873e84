// @ts-check
/**
 * The dashboard's telemetry thread: subscribes to the whole fleet, keeps the FleetModel, and every
 * 100 ms posts the page only what changed (rows, new events, the fleet latch, the selected robot's
 * plot columns). The page's main thread never parses telemetry, so input (STOP ALL) and drawing
 * stay responsive however fast the fleet publishes.
 */
import { FleetModel } from './fleet-model.js';
import { MqttLite } from './mqtt-lite.js';

const FRAME_MS = 100;
/** A row whose only changes are figures is sent at most this often; state changes go out on the next frame. */
const FIGURES_MS = 500;
const DEG = 180 / Math.PI;
/** The worker's global scope, typed by hand (the DOM and WebWorker libraries do not mix). */
const scope = /** @type {{ postMessage(m: unknown): void, onmessage: ((ev: MessageEvent) => void) | null }} */ (/** @type {unknown} */ (globalThis));

/** @type {FleetModel | null} */
let model = null;
/** @type {MqttLite | null} */
let client = null;
/** @type {string | null} */
let selected = null;
let joint = 0;
let detailVersion = -1;
let eventsVersion = 0;
let fleetVersion = -1;
/** What the page last got of each robot: its version, presence, when, and the fields that must show at once. @type {Map<string, { version: number, presence: string, at: number, key: string }>} */
const sent = new Map();

/** @typedef {ReturnType<typeof rowOf>} RowData */

/** @param {import('./fleet-model.js').RobotRecord} r @param {string} presence */
export function rowOf(r, presence) {
  const s = r.summary;
  const m = s?.metrics;
  return {
    id: r.id, presence,
    safety: /** @type {string | null} */ (s?.safety?.state ?? null), latched: !!s?.safety?.latched, cause: /** @type {string | null} */ (s?.safety?.cause ?? null),
    mcuLatched: !!s?.safety?.mcuLatched,
    mode: /** @type {string | null} */ (s?.sent?.mode ?? null), task: /** @type {string | null} */ (s?.task ?? null),
    brainMs: /** @type {number | null} */ (m?.cloudLatencyMs ?? null), latenessMs: /** @type {number | null} */ (m?.loopLatenessP99Ms ?? null),
    decoderMs: /** @type {number | null} */ (m?.decoderMs ?? null), planAgeMs: /** @type {number | null} */ (m?.planAgeMs ?? null),
    trackingRad: /** @type {number | null} */ (m?.trackingRad ?? null), jitterRadS: /** @type {number | null} */ (m?.jitterRadS ?? null),
    link: /** @type {string | null} */ (s?.link?.state ?? null), rxFrames: /** @type {number | null} */ (s?.link?.rxFrames ?? null), lineErrors: /** @type {number | null} */ (s?.link?.errors ?? null),
    fleetLatch: !!s?.fleetLatch, seq: /** @type {number | null} */ (s?.seq ?? null), software: r.software,
    lastEvent: r.lastEvent ? { text: r.lastEvent.text, at: r.lastEvent.at } : null,
  };
}

/** @param {import('./fleet-model.js').RobotRecord} r */
export function detailOf(r) {
  const ring = r.ring;
  if (!ring || r.joints === 0) return { robot: r.id, joints: 0, samples: 0, lastT: null, positions: null, commanded: null, imu: null };
  const n = r.joints;
  const j = Math.min(joint, n - 1);
  const imu = ring.columns([2 * n, 2 * n + 1, 2 * n + 2]);
  for (let c = 1; c < imu.length; c++) {
    const col = /** @type {(number | null)[]} */ (imu[c]);
    for (let i = 0; i < col.length; i++) { const v = col[i]; if (v !== null && v !== undefined) col[i] = v * DEG; }
  }
  return {
    robot: r.id, joints: n, samples: ring.count, lastT: ring.times[(ring.next - 1 + ring.capacity) % ring.capacity] ?? null,
    positions: ring.columns(Array.from({ length: n }, (_, k) => k)),
    commanded: ring.columns([n + j, j]),
    imu,
  };
}

function frame() {
  if (!model) return;
  const now = Date.now();
  const rows = [];
  for (const r of model.robots.values()) {
    const presence = FleetModel.presence(r, now);
    const last = sent.get(r.id);
    if (last && last.version === r.version && last.presence === presence) continue;
    const s = r.summary;
    // Presence, safety, latch, mode, task and the last event change what an operator must see now.
    const key = `${s?.safety?.state}|${s?.safety?.latched}|${s?.safety?.mcuLatched}|${s?.sent?.mode}|${s?.task}|${s?.fleetLatch}|${r.lastEvent?.at}|${r.lastEvent?.text}|${r.online}`;
    if (last && last.presence === presence && last.key === key && now - last.at < FIGURES_MS) continue;
    sent.set(r.id, { version: r.version, presence, at: now, key });
    rows.push(rowOf(r, presence));
  }
  const fresh = Math.min(model.eventsVersion - eventsVersion, model.events.length);
  eventsVersion = model.eventsVersion;
  const events = fresh > 0 ? model.events.slice(-fresh) : [];
  const latch = model.fleetVersion !== fleetVersion ? model.fleetLatch : null;
  fleetVersion = model.fleetVersion;
  let detail = null;
  const r = selected !== null ? model.robots.get(selected) : undefined;
  if (r && r.version !== detailVersion) {
    detailVersion = r.version;
    detail = detailOf(r);
  }
  if (rows.length > 0 || events.length > 0 || latch || detail) {
    scope.postMessage({ type: 'frame', rows, events, latch, detail, messages: model.messages, rejected: model.rejected });
  }
}

/**
 * A fresh broker credential for this dashboard session (the cookie goes with a same-origin fetch).
 * @param {string} url @returns {Promise<{ username: string, password: string }>}
 */
async function brokerToken(url) {
  const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{}' });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(data?.error ?? `${url}: HTTP ${res.status}`), { status: res.status });
  return data;
}

scope.onmessage = (/** @type {MessageEvent} */ ev) => {
  const m = ev.data;
  if (m.type === 'start') {
    model = new FleetModel(m.fleet);
    for (const id of m.robots) model.robot(id);
    const decoder = new TextDecoder();
    const fleetModel = model;
    client = new MqttLite({
      url: m.url, clientId: m.clientId, keepaliveS: 10, reconnectMs: 1000,
      // A broker token from the dashboard before every connection, or the password the page passed.
      ...(m.tokenUrl ? { credentials: () => brokerToken(m.tokenUrl) } : { username: m.username, password: m.password }),
      subscribe: { filter: `spinal/v1/${m.fleet}/#`, qos: 1 },
      onMessage: (topic, payload) => { fleetModel.handle(topic, decoder.decode(payload), Date.now()); },
      onState: (state, detail) => scope.postMessage({ type: 'state', state, detail }),
    });
    setInterval(frame, FRAME_MS);
  } else if (m.type === 'select') {
    selected = m.robot;
    joint = m.joint;
    detailVersion = -1;
  } else if (m.type === 'stop') {
    client?.end();
  }
};
