/**
 * STOP ALL latency: the dashboard's button clicked in Chromium → retained fleet e-stop over MQTT
 * over WebSocket → broker → every robot's edge daemon → ESTOP frame latched by every virtual
 * firmware. The figure is the time to the LAST robot's latch (the fleet is stopped only then).
 *
 * Clocks: the click is stamped in the page's click handler (`#ack[data-sent-at]`, Chromium's
 * performance.timeOrigin + performance.now()); each firmware latch in Node (the same sum in this
 * process). Both are the system's wall clock at the origin plus a monotonic clock, so they are
 * comparable; the run measures their offset through CDP round trips and reports it.
 *
 * Peer, same fleet, interleaved trial by trial: the same retained fleet e-stop published by a Node
 * operator client over TCP (no browser, no WebSocket). Between trials: retained release, an
 * authorised reset of every robot, wait until every firmware is unlatched and every supervisor IDLE.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { encodePayload, fleetTopics } from '../../proto/mqtt/index.js';
import { sleep, waitFor } from '../e2e/link-harness.js';
import { launchChromium } from './browser.js';
import { startFleetRig, type FleetRig } from './fleet-rig.js';
import { stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const ROBOTS = Number(process.env.SPINAL_BENCH_STOPALL_ROBOTS ?? 3);
const TRIALS = Number(process.env.SPINAL_BENCH_STOPALL_TRIALS ?? 40);
/** Per path; discarded (connection and JIT warm-up). */
const WARMUP = 3;
/** The whole trial loop stops early (fewer trials, reported) when this is spent. */
const BUDGET_MS = 240_000;
const TRIAL_TIMEOUT_MS = 5000;

const nowEpochMs = (): number => performance.timeOrigin + performance.now();

/** Per trial: the stop's start (click handler or publish) and each robot's latch, epoch ms. */
interface Trial {
  path: 'browser' | 'peer';
  startMs: number;
  latchMs: number[];
  /** Page: PUBACK seen by the page; peer: PUBACK seen by the Node client. */
  ackMs: number;
  /** Page only: the click event's own timestamp (input event creation), epoch ms. */
  inputMs: number;
  /** Page only: the PUBLISH handed to the page's WebSocket, epoch ms. */
  wsSendMs: number;
}

/**
 * Records the click event's timestamp before the app's handler runs (capture phase on window), and
 * when the first MQTT PUBLISH after it (packet type 3 in the first byte) is handed to the browser's
 * WebSocket: that splits the page's own share from the network and broker.
 */
const INSTALL_CLICK_STAMP = `(() => {
  window.__clickAt = NaN;
  window.__wsSendAt = NaN;
  let armed = false;
  window.addEventListener('click', (ev) => {
    if (ev.target && ev.target.id === 'stop-all') { window.__clickAt = performance.timeOrigin + ev.timeStamp; window.__wsSendAt = NaN; armed = true; }
  }, { capture: true });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (armed) {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, 1) : null;
      if (bytes && bytes[0] >> 4 === 3) { window.__wsSendAt = performance.timeOrigin + performance.now(); armed = false; }
    }
    return send.call(this, data);
  };
  return true;
})()`;

/** Smallest positive step of performance.now() seen in a 50 ms spin: the page clock's resolution. */
const PAGE_RESOLUTION = `(() => {
  let min = Infinity, last = performance.now();
  const end = last + 50;
  while (last < end) { const t = performance.now(); if (t > last) { min = Math.min(min, t - last); last = t; } }
  return min;
})()`;

/** Page clock minus Node clock (both epoch ms), from the tightest of 30 CDP round trips; ± half that round trip. */
async function clockOffset(page: Page): Promise<{ offsetMs: number; boundMs: number }> {
  let best = { offsetMs: Number.NaN, boundMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 30; i++) {
    const a = nowEpochMs();
    const p = await page.evaluate<number>('performance.timeOrigin + performance.now()');
    const b = nowEpochMs();
    if ((b - a) / 2 < best.boundMs) best = { offsetMs: p - (a + b) / 2, boundMs: (b - a) / 2 };
  }
  return best;
}

async function run(): Promise<BenchResult> {
  const load0 = loadavg();
  let rig: FleetRig | null = null;
  let browser: Browser | null = null;
  let op: MqttClient | null = null;
  try {
    rig = await startFleetRig({ robots: ROBOTS });
    const fleet = rig;
    const topic = fleetTopics(fleet.fleet).estop;
    op = await mqtt.connectAsync(fleet.broker.url, { username: fleet.operator.name, password: fleet.operator.password, clientId: 'bench-stop-all-peer', reconnectPeriod: 0 });
    const peer = op;

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(fleet.dashboard.url);
    await page.fill('#login-user', fleet.operator.name);
    await page.fill('#login-password', fleet.operator.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 15_000 });
    for (const r of fleet.robots) await page.waitForSelector(`#fleet tr[data-robot="${r.id}"][data-presence="online"]`, { timeout: 10_000 });
    await page.evaluate<boolean>(INSTALL_CLICK_STAMP);
    const resolutionMs = await page.evaluate<number>(PAGE_RESOLUTION);
    const offsetStart = await clockOffset(page);

    // One listener per robot for the whole run; a trial arms it by setting `latches`.
    let latches: number[] | null = null;
    let allLatched: (() => void) | null = null;
    fleet.robots.forEach((r, k) => {
      r.robot.on('estop', () => {
        const t = nowEpochMs();
        if (latches === null || latches[k] !== undefined) return;
        latches[k] = t;
        if (latches.filter((x) => x !== undefined).length === fleet.robots.length) allLatched?.();
      });
    });
    const armed = (what: string): Promise<number[]> => {
      latches = new Array<number>(fleet.robots.length);
      return new Promise<number[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: not every firmware latched within ${TRIAL_TIMEOUT_MS} ms (${fleet.robots.map((r) => `${r.id} ${r.robot.estopLatched ? 'latched' : 'not latched'}/${r.daemon.supervisor.state}`).join(', ')})`)), TRIAL_TIMEOUT_MS);
        allLatched = () => { clearTimeout(timer); allLatched = null; const l = latches as number[]; latches = null; resolve(l); };
      });
    };

    const clear = async (i: number): Promise<void> => {
      const release = { v: 1, kind: 'release', id: `bench-release-${i}`, operator: fleet.operator.name, at: Date.now() };
      await peer.publishAsync(topic, encodePayload(release), { qos: 1, retain: true });
      await waitFor('every robot saw the fleet latch released', () => fleet.robots.every((r) => r.daemon.mqtt?.fleetLatch === false), 5000);
      for (const r of fleet.robots) {
        if (r.daemon.supervisor.state !== 'ESTOP') continue;
        const ok = await r.daemon.supervisor.reset({ id: fleet.operator.name, role: 'operator' });
        if (!ok) throw new Error(`${r.id}: reset refused before trial ${i} (state ${r.daemon.supervisor.state})`);
      }
      await waitFor('every firmware unlatched and every supervisor IDLE', () => fleet.robots.every((r) => !r.robot.estopLatched && r.daemon.supervisor.state === 'IDLE'), 5000);
      // Settle, de-correlated from the 20 Hz telemetry and the firmware's STATE ticks.
      await sleep(150 + ((i * 17) % 50));
    };

    const browserTrial = async (i: number): Promise<Trial> => {
      const before = await page.getAttribute('#ack', 'data-sent-at');
      const latched = armed(`browser trial ${i}`);
      await page.click('#stop-all');
      const l = await latched;
      await page.waitForSelector('#ack[data-acked-at]', { timeout: TRIAL_TIMEOUT_MS });
      const ack = await page.evaluate<{ sent: number; acked: number; input: number; wsSend: number }>(`({ sent: Number(document.getElementById('ack').dataset.sentAt), acked: Number(document.getElementById('ack').dataset.ackedAt), input: window.__clickAt, wsSend: window.__wsSendAt })`);
      if (String(ack.sent) === before) throw new Error(`browser trial ${i}: #ack[data-sent-at] was not restamped by the click`);
      return { path: 'browser', startMs: ack.sent, latchMs: l, ackMs: ack.acked, inputMs: ack.input, wsSendMs: ack.wsSend };
    };

    const peerTrial = async (i: number): Promise<Trial> => {
      const latched = armed(`peer trial ${i}`);
      let ackMs = Number.NaN;
      const stop = { v: 1, kind: 'estop', id: `bench-stop-${i}`, category: 1, operator: fleet.operator.name, at: Date.now(), reason: 'STOP ALL from the benchmark peer' };
      const payload = encodePayload(stop);
      const startMs = nowEpochMs();
      peer.publish(topic, payload, { qos: 1, retain: true }, (err) => { if (!err) ackMs = nowEpochMs(); });
      const l = await latched;
      await waitFor(`peer trial ${i}: PUBACK`, () => Number.isFinite(ackMs), TRIAL_TIMEOUT_MS);
      return { path: 'peer', startMs, latchMs: l, ackMs, inputMs: Number.NaN, wsSendMs: Number.NaN };
    };

    const trials: Trial[] = [];
    const deadline = Date.now() + BUDGET_MS;
    let pairs = 0;
    for (let i = 0; i < TRIALS + WARMUP && Date.now() < deadline; i++) {
      // ABBA order: drifts in load fall on both paths alike.
      const order = i % 2 === 0 ? [browserTrial, peerTrial] : [peerTrial, browserTrial];
      for (const t of order) {
        await clear(2 * i + (t === browserTrial ? 0 : 1));
        const r = await t(i);
        if (i >= WARMUP) trials.push(r);
      }
      if (i >= WARMUP) pairs++;
    }
    const offsetEnd = await clockOffset(page);
    // Leave the fleet released (the rig is closed next anyway).
    await peer.publishAsync(topic, encodePayload({ v: 1, kind: 'release', id: 'bench-release-end', operator: fleet.operator.name, at: Date.now() }), { qos: 1, retain: true });

    const last = (t: Trial): number => Math.max(...t.latchMs) - t.startMs;
    const rows: Cell[][] = [];
    const summary: Record<string, number | string | boolean> = {};
    const of = (path: Trial['path']): Trial[] => trials.filter((t) => t.path === path);
    const sLast: Record<Trial['path'], ReturnType<typeof stats>> = { browser: stats(of('browser').map(last)), peer: stats(of('peer').map(last)) };
    for (const path of ['browser', 'peer'] as const) {
      const ts = of(path);
      const s = sLast[path];
      const ack = stats(ts.map((t) => t.ackMs - t.startMs));
      rows.push([`${path === 'browser' ? 'browser: STOP ALL click' : 'peer: Node publish (TCP)'} → last ESTOP`, s.n, s.median, s.p99, s.max, ack.median, ack.p99]);
      for (const [k, r] of fleet.robots.entries()) {
        const e = stats(ts.map((t) => (t.latchMs[k] as number) - t.startMs));
        rows.push([`  ${path} → ${r.id} (${r.profile}) ESTOP`, e.n, e.median, e.p99, e.max, '-', '-']);
      }
      summary[`${path} last-ESTOP p50 ms`] = s.median;
      summary[`${path} last-ESTOP p99 ms`] = s.p99;
    }
    const input = stats(of('browser').map((t) => t.startMs - t.inputMs).filter(Number.isFinite));
    const wsSend = stats(of('browser').map((t) => t.wsSendMs - t.startMs).filter(Number.isFinite));
    const wsToLatch = stats(of('browser').map((t) => Math.max(...t.latchMs) - t.wsSendMs).filter(Number.isFinite));
    rows.push(['  browser: click event → handler', input.n, input.median, input.p99, input.max, '-', '-']);
    rows.push(['  browser: handler → WebSocket.send(PUBLISH)', wsSend.n, wsSend.median, wsSend.p99, wsSend.max, '-', '-']);
    rows.push(['  browser: WebSocket.send → last ESTOP', wsToLatch.n, wsToLatch.median, wsToLatch.p99, wsToLatch.max, '-', '-']);
    summary['ratio browser/peer p50'] = sLast.browser.median / sLast.peer.median;
    summary['ratio browser/peer p99'] = sLast.browser.p99 / sLast.peer.p99;
    summary['trial pairs'] = pairs;
    summary['page clock − Node clock ms (start / end)'] = `${offsetStart.offsetMs.toFixed(3)} ±${offsetStart.boundMs.toFixed(3)} / ${offsetEnd.offsetMs.toFixed(3)} ±${offsetEnd.boundMs.toFixed(3)}`;
    summary['page performance.now() resolution ms'] = resolutionMs;
    const loadEnd = loadavg();
    return {
      scenario: 'stop-all-latency',
      title: `STOP ALL: click in Chromium → ESTOP at every virtual firmware, ${ROBOTS} robots, ${pairs} interleaved trial pairs (loopback)`,
      columns: ['path', 'n', 'p50 ms', 'p99 ms', 'max ms', 'PUBACK p50 ms', 'PUBACK p99 ms'],
      rows,
      summary,
      notes: [
        'browser start = #ack[data-sent-at], stamped in the click handler (page clock); latches stamped in Node when each VirtualRobot emits \'estop\'; PUBACK = broker acknowledged the retained QoS 1 publish at the sender',
        'the difference browser − peer is the page (its MQTT client in the renderer) and MQTT over WebSocket; the rest (broker, robot clients, supervisors, serial link, PTY, firmware loop) is shared',
        `every robot runs a full edge daemon (250 Hz STATE, 100 Hz control, 20 Hz telemetry, brain link) in this one Node process; the page receives that telemetry while it is measured; ${WARMUP} warm-up trials per path discarded`,
        `1-minute load average: start ${load0[0]?.toFixed(2)}, end ${loadEnd[0]?.toFixed(2)} on ${cpus().length} CPUs (Chromium, broker, ${ROBOTS} daemons and firmware share them)`,
      ],
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await op?.endAsync(true).catch(() => undefined);
    await rig?.close().catch(() => undefined);
  }
}

export const scenario: Scenario = {
  name: 'stop-all-latency',
  description: `dashboard STOP ALL click → ESTOP at every virtual firmware (${ROBOTS} robots, SPINAL_BENCH_STOPALL_ROBOTS), vs a Node MQTT publish, ${TRIALS} interleaved trials (SPINAL_BENCH_STOPALL_TRIALS)`,
  run,
};
