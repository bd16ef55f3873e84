// @ts-check
/**
 * The dashboard's telemetry thread: keeps the FleetModel and posts the page only what changed
 * (rows, new events, the fleet latch, the selected robot's plot columns). The page's main thread
 * never parses telemetry, so input (STOP ALL) and drawing stay responsive however large the fleet.
 *
 * What it subscribes to grows with the fleet at about one message per robot and second: every
 * robot's brief (1 Hz and on change), status, events and commands, and the detailed state of the
 * one robot shown in detail only (re-subscribed when the selection changes).
 *
 * Nothing queues: samples go into the model as they arrive (stale ones are dropped there), and a
 * frame is posted only once the page has drawn the previous one (it answers `drawn`), at most
 * every FRAME_MS. A page that falls behind gets the newest picture next, never a backlog.
 */
import { FleetModel } from './fleet-model.js';
import { MqttLite } from './mqtt-lite.js';
import { decimatedColumns } from './plot-decimation.js';

const FRAME_MS = 100;
/** A row whose only changes are figures is sent at most this often; state changes go out on the next frame. */
const FIGURES_MS = 500;
/**
 * The selected robot's plots and figures are sent at most this often. A chart ~400 px wide
 * showing the ring's 60 s moves by one pixel every 150 ms, so redrawing it every 100 ms drew
 * mostly the same picture; at 200 ms the plot still lags its robot by well under the 500 ms goal,
 * and the page draws half as often (measured: the drawing is most of the page's work at 20 Hz).
 */
const PLOT_MS = 200;
/** Plot width assumed until the page says how wide its charts are. */
const DEFAULT_PIXELS = 600;
const DEG = 180 / Math.PI;
/** The worker's global scope, typed by hand (the DOM and WebWorker libraries do not mix). */
const scope = /** @type {{ postMessage(m: unknown): void, onmessage: ((ev: MessageEvent) => void) | null }} */ (/** @type {unknown} */ (globalThis));

/** @type {FleetModel | null} */
let model = null;
/** @type {MqttLite | null} */
let client = null;
let root = '';
/** @type {string | null} */
let selected = null;
let joint = 0;
let pixels = DEFAULT_PIXELS;
let detailVersion = -1;
/** When the selected robot's plot columns last went out (0: as soon as there are any). */
let detailAt = 0;
let eventsVersion = 0;
let fleetVersion = -1;
/** True while a posted frame waits for the page's `drawn`. */
let inFlight = false;
/** What the page last got of each robot: its version, presence, when, and the fields that must show at once. @type {Map<string, { version: number, presence: string, at: number, key: string }>} */
const sent = new Map();

/** @typedef {ReturnType<typeof rowOf>} RowData */

/** @param {import('./fleet-model.js').RobotRecord} r @param {string} presence */
export function rowOf(r, presence) {
  const o = FleetModel.overview(r);
  const s = r.summary;
  const m = o.metrics;
  return {
    id: r.id, presence,
    safety: o.safety, latched: o.latched, cause: o.cause,
    mcuLatched: o.mcuLatched,
    mode: o.mode, task: o.task,
    brainMs: /** @type {number | null} */ (m?.cloudLatencyMs ?? null), latenessMs: /** @type {number | null} */ (m?.loopLatenessP99Ms ?? null),
    decoderMs: /** @type {number | null} */ (m?.decoderMs ?? null), planAgeMs: /** @type {number | null} */ (m?.planAgeMs ?? null),
    planKind: /** @type {string | null} */ (m?.planKind ?? null),
    trackingRad: /** @type {number | null} */ (m?.trackingRad ?? null), jitterRadS: /** @type {number | null} */ (m?.jitterRadS ?? null),
    link: o.link, rxFrames: /** @type {number | null} */ (s?.link?.rxFrames ?? null), lineErrors: /** @type {number | null} */ (s?.link?.errors ?? null),
    fleetLatch: o.fleetLatch, seq: /** @type {number | null} */ (s?.seq ?? null), software: r.software,
    /** The flight recorder's status; null: no recorder; undefined: an edge that does not say. @type {any} */
    recording: s ? s.recording : undefined,
    lastEvent: r.lastEvent ? { text: r.lastEvent.text, at: r.lastEvent.at } : null,
  };
}

/**
 * The selected robot's chart columns, decimated to `px` pixels: joints measured, joint `j`
 * commanded against measured, IMU in degrees.
 * @param {import('./fleet-model.js').RobotRecord} r @param {number} j @param {number} px
 */
export function detailOf(r, j, px) {
  const ring = r.ring;
  if (!ring || r.joints === 0) return { robot: r.id, joints: 0, samples: 0, lastT: null, positions: null, commanded: null, imu: null };
  const n = r.joints;
  const k = Math.min(j, n - 1);
  return {
    robot: r.id, joints: n, samples: ring.count, lastT: ring.times[(ring.next - 1 + ring.capacity) % ring.capacity] ?? null,
    positions: decimatedColumns(ring, Array.from({ length: n }, (_, c) => c), px),
    commanded: decimatedColumns(ring, [n + k, k], px),
    imu: decimatedColumns(ring, [2 * n, 2 * n + 1, 2 * n + 2], px, DEG),
  };
}

function frame() {
  if (!model || inFlight) return;
  const now = Date.now();
  const rows = [];
  for (const r of model.robots.values()) {
    const presence = FleetModel.presence(r, now);
    const last = sent.get(r.id);
    if (last && last.version === r.version && last.presence === presence) continue;
    const o = FleetModel.overview(r);
    // Presence, safety, latch, mode, task and the last event change what an operator must see now.
    const key = `${o.safety}|${o.latched}|${o.mcuLatched}|${o.mode}|${o.task}|${o.fleetLatch}|${r.lastEvent?.at}|${r.lastEvent?.text}|${r.online}`;
    if (last && last.presence === presence && last.key === key && now - last.at < (r.id === selected ? PLOT_MS : FIGURES_MS)) continue;
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
  if (r && r.version !== detailVersion && now - detailAt >= PLOT_MS) {
    detailVersion = r.version;
    detailAt = now;
    detail = detailOf(r, joint, pixels);
  }
  if (rows.length > 0 || events.length > 0 || latch || detail) {
    inFlight = true;
    scope.postMessage({ type: 'frame', rows, events, latch, detail, messages: model.messages, rejected: model.rejected, stale: model.stale });
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

/** @param {string | null} robot */
function select(robot) {
  if (robot === selected) return;
  if (selected !== null) {
    client?.unsubscribe(`${root}/${selected}/state`);
    model?.dropRing(selected);
  }
  selected = robot;
  if (robot !== null) client?.subscribe(`${root}/${robot}/state`, 0);
}

scope.onmessage = (/** @type {MessageEvent} */ ev) => {
  const m = ev.data;
  if (m.type === 'start') {
    model = new FleetModel(m.fleet);
    root = `spinal/v1/${m.fleet}`;
    for (const id of m.robots) model.robot(id);
    const decoder = new TextDecoder();
    const fleetModel = model;
    client = new MqttLite({
      url: m.url, clientId: m.clientId, keepaliveS: 10, reconnectMs: 1000,
      // A broker token from the dashboard before every connection, or the password the page passed.
      ...(m.tokenUrl ? { credentials: () => brokerToken(m.tokenUrl) } : { username: m.username, password: m.password }),
      // Briefs and state at QoS 0 (a newer one replaces a lost one); what must not be lost at QoS 1.
      subscriptions: [
        { filter: `${root}/+/brief`, qos: 0 },
        { filter: `${root}/+/status`, qos: 1 },
        { filter: `${root}/+/event`, qos: 1 },
        { filter: `${root}/+/cmd/#`, qos: 1 },
      ],
      onMessage: (topic, payload) => { fleetModel.handle(topic, decoder.decode(payload), Date.now()); },
      onState: (state, detail) => scope.postMessage({ type: 'state', state, detail }),
    });
    setInterval(frame, FRAME_MS);
  } else if (m.type === 'select') {
    select(m.robot);
    joint = m.joint;
    if (typeof m.pixels === 'number' && m.pixels > 0) pixels = m.pixels;
    detailVersion = -1;
    detailAt = 0;
    // The selected robot's row goes out at once too, with its figures.
    if (m.robot !== null) sent.delete(m.robot);
  } else if (m.type === 'drawn') {
    inFlight = false;
  } else if (m.type === 'stop') {
    client?.end();
  }
};
