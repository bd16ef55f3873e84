// @ts-check
/**
 * The dashboard page: log in, connect to the broker over WebSocket with the user's own MQTT
 * account, keep a FleetModel from every message of the fleet, and draw it at most every 100 ms
 * (plots every 50 ms) from requestAnimationFrame, so message bursts never block input. Commands go
 * out at QoS 1; the page says when the broker acknowledged them. The broker's ACL is what stops a
 * viewer from commanding; the page only greys out what the role cannot do.
 */
import * as cmd from './commands.js';
import { DetailView } from './detail-view.js';
import { EventLogView } from './event-log-view.js';
import { FleetModel } from './fleet-model.js';
import { clock } from './format.js';
import { OverviewView } from './overview-view.js';

const PASSWORD_KEY = 'spinal.mqtt.password';
const TABLE_PERIOD_MS = 100;
const PLOT_PERIOD_MS = 50;

/** @template {HTMLElement} T @param {string} id @returns {T} */
const $ = (id) => /** @type {T} */ (document.getElementById(id));

/** @typedef {{ user: string, role: 'operator' | 'viewer', fleet: string, mqttUrl: string, robots: string[] }} Me */

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

/** @param {Me} me @param {string} password */
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

  const model = new FleetModel(me.fleet);
  for (const id of me.robots) model.robot(id);
  let selected = /** @type {string | null} */ (null);
  const detail = new DetailView({
    root: $('detail'), stats: $('detail-stats'), joints: $('plot-joints'), cmd: $('plot-cmd'), imu: $('plot-imu'),
    jointSelect: /** @type {HTMLSelectElement} */ ($('joint-select')), title: $('detail-title'), safety: $('detail-safety'), cause: $('detail-cause'),
  });
  const select = (/** @type {string | null} */ id) => {
    selected = id;
    overview.select(id);
    detail.show(id);
    /** @type {HTMLElement} */ ($('task-result')).textContent = '';
  };
  const overview = new OverviewView(/** @type {HTMLTableSectionElement} */ (document.querySelector('#fleet tbody')), { onSelect: select, onEstop: (id) => send(cmd.estop(sender, id), `E-STOP ${id}`), canCommand });
  const events = new EventLogView(/** @type {HTMLOListElement} */ ($('events')));
  const sender = { fleet: me.fleet, user: me.user, role: me.role };

  const mqtt = /** @type {any} */ (globalThis).mqtt;
  const client = mqtt.connect(me.mqttUrl, {
    username: me.user, password, protocolVersion: 4, clean: true, keepalive: 10,
    reconnectPeriod: 1000, connectTimeout: 5000, clientId: `dash-${me.user}-${Math.random().toString(16).slice(2, 10)}`,
  });
  const conn = $('conn');
  const setConn = (/** @type {string} */ state, /** @type {string} */ text) => { document.body.dataset.mqtt = state; conn.textContent = text; };
  client.on('connect', () => {
    setConn('connected', 'broker connected');
    client.subscribe(`spinal/v1/${me.fleet}/#`, { qos: 1 }, (/** @type {Error | null} */ err) => { if (err) setConn('error', `subscribe failed: ${err.message}`); });
  });
  client.on('reconnect', () => setConn('reconnecting', 'reconnecting to the broker…'));
  client.on('offline', () => setConn('disconnected', 'broker unreachable — state below is stale'));
  client.on('error', (/** @type {any} */ err) => {
    // 4/5: bad credentials or not authorised: retrying cannot help.
    if (err && (err.code === 4 || err.code === 5)) {
      client.end(true);
      sessionStorage.removeItem(PASSWORD_KEY);
      showLogin(`The broker refused ${me.user}: ${err.message}. Log in again.`, me.user);
    } else setConn('error', `broker error: ${err?.message ?? err}`);
  });
  const decoder = new TextDecoder();
  client.on('message', (/** @type {string} */ topic, /** @type {Uint8Array} */ payload) => { model.handle(topic, decoder.decode(payload), Date.now()); });

  /** @param {import('./commands.js').Outgoing} out @param {string} what */
  function send(out, what) {
    const ack = $('ack');
    const sentAt = performance.timeOrigin + performance.now();
    ack.dataset.sentAt = String(sentAt);
    ack.dataset.what = what;
    delete ack.dataset.ackedAt;
    ack.textContent = `${what}: sent ${clock(sentAt)}${client.connected ? '' : ' (queued: broker not connected)'}`;
    client.publish(out.topic, out.payload, { qos: out.qos, retain: out.retain }, (/** @type {Error | undefined} */ err) => {
      if (err) { ack.textContent = `${what}: FAILED — ${err.message}`; return; }
      const at = performance.timeOrigin + performance.now();
      ack.dataset.ackedAt = String(at);
      ack.textContent = `${what}: delivered to the broker ${clock(at)}`;
    });
  }

  // STOP ALL asks for no confirmation: an e-stop must never wait on a dialog.
  stopAll.addEventListener('click', () => send(cmd.estop(sender, null), 'STOP ALL'));
  $('detail-estop').addEventListener('click', () => { if (selected) send(cmd.estop(sender, selected), `E-STOP ${selected}`); });
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
    client.end(true);
    sessionStorage.removeItem(PASSWORD_KEY);
    await api('/api/logout', {}).catch(() => undefined);
    location.reload();
  });
  addEventListener('resize', () => detail.resize());

  let lastTable = 0;
  let lastPlot = 0;
  let latchVersion = -1;
  const frame = (/** @type {number} */ t) => {
    if (t - lastTable >= TABLE_PERIOD_MS) {
      lastTable = t;
      const now = Date.now();
      overview.update(model, now);
      events.update(model);
      if (model.fleetVersion !== latchVersion) {
        latchVersion = model.fleetVersion;
        $('latch').hidden = !model.fleetLatch.latched;
        $('latch-by').textContent = model.fleetLatch.operator ? `by ${model.fleetLatch.operator}` : '';
        document.body.dataset.fleetLatch = String(model.fleetLatch.latched);
      }
    }
    if (t - lastPlot >= PLOT_PERIOD_MS) {
      lastPlot = t;
      detail.update(model);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

async function boot() {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = /** @type {HTMLInputElement} */ ($('login-user')).value.trim();
    const password = /** @type {HTMLInputElement} */ ($('login-password')).value;
    $('login-error').textContent = '';
    try {
      const me = await api('/api/login', { username, password });
      // The browser keeps the password for this tab only, to reconnect to the broker after a reload.
      sessionStorage.setItem(PASSWORD_KEY, password);
      start(me, password);
    } catch (e) {
      $('login-error').textContent = /** @type {Error} */ (e).message;
    }
  });
  try {
    const me = await api('/api/session');
    const password = sessionStorage.getItem(PASSWORD_KEY);
    if (password) start(me, password);
    else showLogin('Enter your password again to connect to the broker.', me.user);
  } catch {
    showLogin('');
  }
}

void boot();
