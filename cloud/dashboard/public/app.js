// @ts-check
/**
 * The dashboard page: log in, then two MQTT-over-WebSocket connections with the user's own account
 * (a broker token fetched from the dashboard before each connection, or, where the dashboard mints
 * none, the password kept in this page's memory only: never in storage):
 * the telemetry worker (subscribes to the fleet, keeps the model, posts changes every 100 ms) and
 * the command channel on this thread (no subscriptions, so nothing queues in front of an e-stop).
 * What the worker posts is stored at once and drawn in the next animation frame, all of it in one
 * pass; the page then tells the worker it has drawn, and only then does the worker post again, so
 * frames never pile up in front of the page.
 * Commands go out at QoS 1; the page says when the broker acknowledged them, and calls an e-stop
 * confirmed only when the robots report their MCU latched (estop-confirm.js). The broker's ACL is
 * what stops a viewer from commanding; the page only greys out what the role cannot do.
 */
import * as cmd from './commands.js';
import { DetailView } from './detail-view.js';
import { EstopConfirmation } from './estop-confirm.js';
import { EventLogView } from './event-log-view.js';
import { clock } from './format.js';
import { MqttLite } from './mqtt-lite.js';
import { OverviewView } from './overview-view.js';

/** @template {HTMLElement} T @param {string} id @returns {T} */
const $ = (id) => /** @type {T} */ (document.getElementById(id));

/** @typedef {{ user: string, role: 'operator' | 'viewer', fleet: string, mqttUrl: string, robots: string[], brokerAuth: 'token' | 'password' }} Me */
const TOKEN_URL = '/api/broker-token';
/** How often the open detail asks the dashboard server for the brain's line on the robot. */
const BRAIN_STATUS_MS = 2000;

/** @param {string} path @param {object} [body] */
async function api(path, body) {
  const res = await fetch(path, body === undefined ? { credentials: 'same-origin' } : { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(data?.error ?? `${path}: HTTP ${res.status}`), { status: res.status });
  return data;
}

/** @param {string} text @returns {Promise<boolean>} */
function confirmAction(text) {
  const dialog = /** @type {HTMLDialogElement} */ ($('confirm'));
  $('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

function showLogin(/** @type {string} */ hint, /** @type {string} */ user = '') {
  $('main').hidden = true;
  $('login').hidden = false;
  if (hint) $('login-hint').textContent = hint;
  /** @type {HTMLInputElement} */ ($('login-user')).value = user;
  (user ? $('login-password') : $('login-user')).focus();
}

/** @param {Me} me @param {string | null} password null: the dashboard mints broker tokens */
function start(me, password) {
  $('login').hidden = true;
  $('main').hidden = false;
  $('fleet-name').textContent = `fleet ${me.fleet}`;
  $('who').textContent = `${me.user} (${me.role})`;
  $('logout').hidden = false;
  const canCommand = me.role === 'operator';
  document.body.dataset.role = me.role;
  for (const b of document.querySelectorAll('button.op-only')) {
    /** @type {HTMLButtonElement} */ (b).disabled = !canCommand;
    if (!canCommand) /** @type {HTMLButtonElement} */ (b).title = 'Viewers can only watch: commands need an operator account (MQTT ACL)';
  }
  const stopAll = /** @type {HTMLButtonElement} */ ($('stop-all'));
  stopAll.disabled = !canCommand;
  if (!canCommand) stopAll.title = 'Viewers cannot send e-stops: log in as an operator (MQTT ACL)';

  const sender = { fleet: me.fleet, user: me.user, role: me.role };
  const suffix = Math.random().toString(16).slice(2, 10);
  /** @type {Map<string, import('./telemetry-worker.js').RowData>} */
  const rows = new Map();
  let selected = /** @type {string | null} */ (null);
  const worker = new Worker('/telemetry-worker.js', { type: 'module' });
  const detail = new DetailView({
    root: $('detail'), stats: $('detail-stats'), joints: $('plot-joints'), cmd: $('plot-cmd'), imu: $('plot-imu'),
    jointSelect: /** @type {HTMLSelectElement} */ ($('joint-select')), title: $('detail-title'), safety: $('detail-safety'), cause: $('detail-cause'),
  });
  const tellSelection = () => worker.postMessage({ type: 'select', robot: selected, joint: detail.joint, pixels: detail.pixels() });
  detail.onJoint = tellSelection;
  const select = (/** @type {string | null} */ id) => {
    selected = id;
    overview.select(id);
    detail.show(id);
    const row = id !== null ? rows.get(id) : undefined;
    if (row) detail.stats(row);
    $('detail-title').textContent = id ?? '';
    $('task-result').textContent = '';
    $('brain-status').textContent = '';
    tellSelection();
    void showBrainStatus();
  };
  const overview = new OverviewView(/** @type {HTMLTableSectionElement} */ (document.querySelector('#fleet tbody')), $('overview'), { onSelect: select, onEstop: (id) => stop(id, `E-STOP ${id}`), canCommand });
  const events = new EventLogView(/** @type {HTMLOListElement} */ ($('events')));

  // One drawing pass per animation frame for everything the worker sent since the last one.
  /** @type {import('./fleet-model.js').FleetEvent[]} */
  let newEvents = [];
  /** @type {ReturnType<typeof import('./telemetry-worker.js').detailOf> | null} */
  let newDetail = null;
  let statsDirty = false;
  let owesDrawn = false;
  let drawing = false;
  const draw = () => {
    drawing = false;
    overview.render(Date.now());
    if (newEvents.length > 0) { events.add(newEvents); newEvents = []; }
    const row = selected !== null ? rows.get(selected) : undefined;
    if (statsDirty && row) detail.stats(row);
    statsDirty = false;
    if (newDetail) { detail.apply(newDetail); newDetail = null; }
    if (owesDrawn) { owesDrawn = false; worker.postMessage({ type: 'drawn' }); }
  };
  const schedule = () => {
    if (drawing) return;
    drawing = true;
    requestAnimationFrame(draw);
  };
  overview.onDirty = schedule;
  for (const id of me.robots) overview.row(id);

  // Two broker connections with the user's account: telemetry in the worker, commands here. A
  // command is encoded and handed to the WebSocket inside the click's own task.
  /** @type {Record<'telemetry' | 'commands', string>} */
  const conn = { telemetry: 'connecting', commands: 'connecting' };
  const showConn = () => {
    const both = conn.telemetry === 'connected' && conn.commands === 'connected';
    document.body.dataset.mqtt = both ? 'connected' : conn.telemetry === 'connecting' || conn.commands === 'connecting' ? 'reconnecting' : 'disconnected';
    const el = $('conn');
    el.textContent = both ? 'broker connected' : document.body.dataset.mqtt === 'reconnecting' ? 'reconnecting to the broker… (state shown may be stale)' : 'broker unreachable — state shown may be stale';
    el.title = `MQTT over WebSocket: telemetry ${conn.telemetry}, commands ${conn.commands}`;
  };
  const onState = (/** @type {'telemetry' | 'commands'} */ which, /** @type {string} */ state, /** @type {string} */ why) => {
    if (state === 'refused') {
      commands.end();
      worker.postMessage({ type: 'stop' });
      showLogin(`The broker refused ${me.user}: ${why}. Log in again.`, me.user);
      return;
    }
    conn[which] = state === 'connected' ? 'connected' : state === 'connecting' ? 'connecting' : 'lost';
    showConn();
  };
  const commands = new MqttLite({
    url: me.mqttUrl, clientId: `dash-${me.user}-cmd-${suffix}`, keepaliveS: 10, reconnectMs: 1000,
    ...(password === null ? { credentials: () => api(TOKEN_URL, {}) } : { username: me.user, password }),
    onState: (state, why) => onState('commands', state, why),
  });
  worker.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === 'state') { onState('telemetry', m.state, m.detail); return; }
    if (m.type !== 'frame') return;
    for (const r of m.rows) {
      rows.set(r.id, r);
      estopCheck?.report(r, Date.now());
      overview.apply(r);
      if (r.id === selected) statsDirty = true;
    }
    if (m.events.length > 0) newEvents = newEvents.concat(m.events);
    if (m.latch) {
      $('latch').hidden = !m.latch.latched;
      $('latch-by').textContent = m.latch.operator ? `by ${m.latch.operator}` : '';
      document.body.dataset.fleetLatch = String(m.latch.latched);
    }
    // The newest columns replace any not drawn yet: a late page skips pictures, it never queues them.
    if (m.detail) newDetail = m.detail;
    owesDrawn = true;
    schedule();
  };
  /** The latest e-stop, until the robots confirm it or the time is up. @type {EstopConfirmation | null} */
  let estopCheck = null;
  const showCheck = () => {
    if (!estopCheck) return;
    const el = $('estop-confirm');
    const v = estopCheck.verdict();
    el.textContent = v.text;
    el.dataset.state = v.state;
    if (v.state !== 'pending') estopCheck = null;
  };
  setInterval(() => { estopCheck?.tick(Date.now()); showCheck(); }, 200);
  /** @param {string | null} robot null: STOP ALL (every robot the page knows) @param {string} what */
  const stop = (robot, what) => {
    send(cmd.estop(sender, robot), what);
    // STOP ALL waits for every robot but those that said goodbye (shut down, not moving; the
    // retained fleet latch stops them when they start).
    const targets = robot !== null ? [robot] : [...new Set([...me.robots, ...rows.keys()])].filter((id) => rows.get(id)?.presence !== 'offline');
    estopCheck = new EstopConfirmation(what, targets, Date.now());
    const row = robot !== null ? rows.get(robot) : undefined;
    // An unreachable robot cannot confirm: say why at once, and that the broker keeps it for it.
    $('estop-confirm').title = row && row.presence !== 'online' ? `${robot} is ${row.presence}: the broker queues the e-stop until it reconnects` : '';
    showCheck();
  };
  worker.onerror = (e) => { $('conn').textContent = `telemetry worker failed: ${e.message}`; };
  worker.postMessage({
    type: 'start', url: me.mqttUrl, fleet: me.fleet, robots: me.robots, clientId: `dash-${me.user}-tlm-${suffix}`,
    ...(password === null ? { tokenUrl: TOKEN_URL } : { username: me.user, password }),
  });
  setInterval(() => overview.tick(), 1000);

  // The brain's own line on the selected robot (a planner's "subtask 2/3: …", or why it holds),
  // asked of the dashboard server while a robot's detail is open; MQTT does not carry it.
  const showBrainStatus = async () => {
    const id = selected;
    if (id === null) return;
    /** @type {{ brain: { robot: string, status: string }[] | null }} */
    const r = await api('/api/robots').catch(() => ({ brain: null }));
    if (selected !== id) return;
    const line = r.brain?.find((b) => b.robot === id)?.status ?? '';
    $('brain-status').textContent = line ? `brain: ${line}` : '';
  };
  setInterval(() => { void showBrainStatus(); }, BRAIN_STATUS_MS);

  /** @param {import('./commands.js').Outgoing} out @param {string} what */
  function send(out, what) {
    const ack = $('ack');
    const sentAt = performance.timeOrigin + performance.now();
    const now = commands.publish(out.topic, out.payload, { qos: out.qos, retain: out.retain }, (err) => {
      if (err) { ack.textContent = `${what}: NOT CONFIRMED — ${err.message}; send it again`; return; }
      const at = performance.timeOrigin + performance.now();
      ack.dataset.ackedAt = String(at);
      ack.textContent = `${what}: delivered to the broker ${clock(at)}`;
    });
    ack.dataset.sentAt = String(sentAt);
    ack.dataset.what = what;
    delete ack.dataset.ackedAt;
    ack.textContent = `${what}: sent ${clock(sentAt)}${now ? '' : ' (queued: broker not connected)'}`;
  }

  // STOP ALL asks for no confirmation: an e-stop must never wait on a dialog.
  stopAll.addEventListener('click', () => stop(null, 'STOP ALL'));
  $('detail-estop').addEventListener('click', () => { if (selected) stop(selected, `E-STOP ${selected}`); });
  $('detail-reset').addEventListener('click', async () => {
    const id = selected;
    if (id && await confirmAction(`Reset ${id}? Do this only when the robot and its surroundings are safe. The robot stays still until it gets a plan and a resume.`)) send(cmd.reset(sender, id), `reset ${id}`);
  });
  $('detail-resume').addEventListener('click', async () => {
    const id = selected;
    if (id && await confirmAction(`Resume ${id}? It will start moving on its current plan.`)) send(cmd.resume(sender, id), `resume ${id}`);
  });
  $('release').addEventListener('click', async () => {
    if (await confirmAction('Release the fleet stop latch? Robots stay stopped until each is reset and resumed.')) send(cmd.releaseFleetLatch(sender), 'release fleet latch');
  });
  for (const b of document.querySelectorAll('button.episode')) {
    const el = /** @type {HTMLButtonElement} */ (b);
    const outcome = /** @type {'success' | 'failure' | 'intervention'} */ (el.dataset.outcome);
    const end = el.dataset.end === 'true';
    el.addEventListener('click', () => {
      // The robot answers on its event topic (episode-marked, or episode-refused with the reason).
      if (selected && canCommand) send(cmd.episodeMark(sender, selected, outcome, end), `${end ? 'end episode' : 'mark episode'} ${outcome} on ${selected}`);
    });
  }
  $('detail-close').addEventListener('click', () => select(null));
  $('task-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('task-input'));
    const out = $('task-result');
    if (!selected) return;
    try {
      const r = await api(`/api/robots/${encodeURIComponent(selected)}/task`, { instruction: input.value });
      out.textContent = `task ${r.taskId} set: ${r.instruction}`;
    } catch (e) {
      out.textContent = `task refused: ${/** @type {Error} */ (e).message}`;
    }
  });
  $('logout').addEventListener('click', async () => {
    commands.end();
    worker.postMessage({ type: 'stop' });
    await api('/api/logout', {}).catch(() => undefined);
    location.reload();
  });
  addEventListener('resize', () => { detail.resize(); overview.markDirty(); tellSelection(); });
}

async function boot() {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = /** @type {HTMLInputElement} */ ($('login-user')).value.trim();
    const password = /** @type {HTMLInputElement} */ ($('login-password')).value;
    $('login-error').textContent = '';
    try {
      const me = await api('/api/login', { username, password });
      start(me, me.brokerAuth === 'token' ? null : password);
    } catch (e) {
      $('login-error').textContent = /** @type {Error} */ (e).message;
    }
  });
  try {
    const me = await api('/api/session');
    // With broker tokens a reload reconnects on the session alone; otherwise the password is gone.
    if (me.brokerAuth === 'token') start(me, null);
    else showLogin('Enter your password again to connect to the broker.', me.user);
  } catch {
    showLogin('');
  }
}

void boot();
