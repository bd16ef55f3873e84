/**
 * The firmware image under QEMU (firmware-shim/c/ports/mps2-an386) against the virtual firmware
 * (the same C core as WebAssembly), side by side in one run, through the edge's SerialLink:
 * - STATE rate achieved when CONFIG asks for 200 Hz, over 10 s;
 * - COMMAND → STATE round trip: a COMMAND toggles the motors (DISABLE ↔ HOLD), timed to the first
 *   STATE that shows it (includes the wait for the next STATE, up to 5 ms at 200 Hz);
 * - e-stop latency through the whole daemon: an operator's MQTT publish to the moment the ESTOP is
 *   latched in the firmware (QEMU: the probe block in the emulated RAM, polled over QMP; virtual:
 *   the core's stop event, in process).
 *
 * Both firmwares get the same settings, chosen for QEMU's UART (10-26 kB/s host → MCU): STATE at
 * 200 Hz, the daemon's COMMAND stream at 20 Hz, and a 1.5 s firmware watchdog (QEMU's PTY backend
 * holds host bytes for up to about a second now and then). Needs qemu-system-arm and the image
 * from `npm run firmware`; without them only the virtual firmware's column is measured.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon } from '../../edge/daemon.js';
import { spawnProgram } from '../../edge/process/tethered-child.js';
import { SerialLink } from '../../edge/serial/serial-link.js';
import { qemuImageFor, QemuRobot, qemuUnavailable } from '../../firmware-shim/qemu/index.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { getProfile } from '../../hardware/index.js';
import { robotTopics } from '../../proto/mqtt/index.js';
import { CommandMode, newCommand, ResetWhat, Status } from '../../proto/wire/index.js';
import { nowNs, stats, type BenchResult, type Cell, type Scenario } from './harness.js';
import { sleep } from './rig.js';

const PROFILE = 'arm6-gripper';
const STATE_HZ = 200;
const COMMAND_HZ = 20;
const WATCHDOG_MS = 1500;
const RATE_WINDOW_MS = 10_000;
const TRIPS = 200;
const ESTOPS = 20;

type Kind = 'qemu' | 'virtual';

interface Firmware {
  kind: Kind;
  start(linkPath: string): Promise<void>;
  /** Resolves when the firmware has latched a stop since `since` was taken. */
  latched(since: number): Promise<void>;
  stopCount(): Promise<number>;
  stop(): Promise<void>;
}

function makeFirmware(kind: Kind): Firmware {
  if (kind === 'qemu') {
    let robot: QemuRobot | null = null;
    return {
      kind,
      async start(linkPath) {
        robot = new QemuRobot({ image: qemuImageFor(PROFILE), spawn: spawnProgram, linkPath });
        await robot.start();
      },
      async latched(since) {
        const r = robot;
        if (!r) throw new Error('not started');
        for (;;) {
          const p = await r.readProbe(); // one QMP round trip per poll (about a millisecond)
          if ((p.status & Status.ESTOP_LATCHED) !== 0 && p.stops > since) return;
        }
      },
      async stopCount() { return robot ? (await robot.readProbe()).stops : 0; },
      async stop() { await robot?.stop(); },
    };
  }
  let robot: VirtualRobot | null = null;
  let stops = 0;
  return {
    kind,
    async start(linkPath) {
      robot = new VirtualRobot({ profile: PROFILE, linkPath });
      robot.on('estop', () => { stops++; });
      await robot.start();
    },
    latched(since) {
      return new Promise<void>((resolve) => {
        if (stops > since) return resolve();
        robot?.once('estop', () => resolve());
      });
    },
    stopCount() { return Promise.resolve(stops); },
    async stop() { await robot?.stop(); },
  };
}

async function waitUntil(what: string, pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** STATE rate and round trips through a bare SerialLink (no control loop sending its own COMMANDs). */
async function linkFigures(kind: Kind, dir: string): Promise<{ rateHz: number; rtt: number[]; timeouts: number }> {
  const fw = makeFirmware(kind);
  const path = join(dir, `${kind}-link.tty`);
  await fw.start(path);
  const link = new SerialLink({
    path, profile: getProfile(PROFILE), software: { major: 0, minor: 1, patch: 0 },
    backoff: { initialMs: 20, maxMs: 200, jitter: 0.2 }, stateRateHz: STATE_HZ, watchdogMs: WATCHDOG_MS,
  });
  link.start();
  try {
    await waitUntil(`${kind}: serial READY`, () => link.state === 'READY', 20_000);
    let states = 0;
    let want = -1;
    let sentAt = 0;
    let done: (() => void) | null = null;
    const rtt: number[] = [];
    link.on('state', (ev) => {
      states++;
      if (want < 0 || done === null) return;
      if (((ev.msg.status & Status.MOTORS_ENABLED) !== 0) === (want === 1)) {
        rtt.push((nowNs() - sentAt) / 1e6);
        want = -1;
        const d = done;
        done = null;
        d();
      }
    });
    await sleep(1000); // past the start-up burst
    const s0 = states;
    const t0 = nowNs();
    await sleep(RATE_WINDOW_MS);
    const rateHz = ((states - s0) * 1e9) / (nowNs() - t0);

    const cmd = newCommand();
    cmd.jointCount = link.profile.joints.length;
    let timeouts = 0;
    for (let i = 0; i < TRIPS + 10; i++) {
      const enable = i % 2 === 0;
      cmd.mode = enable ? CommandMode.HOLD : CommandMode.DISABLE;
      const ok = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => { done = null; want = -1; resolve(false); }, 3000);
        done = () => { clearTimeout(t); resolve(true); };
        want = enable ? 1 : 0;
        sentAt = nowNs();
        if (!link.sendCommand(cmd)) { clearTimeout(t); done = null; want = -1; resolve(false); }
      });
      if (!ok) timeouts++;
      await sleep(2 + (i % 3));
    }
    return { rateHz, rtt: rtt.slice(10), timeouts };
  } finally {
    await link.stop();
    await fw.stop();
  }
}

/** Operator MQTT publish → ESTOP latched in the firmware, through a whole edge daemon. */
async function estopLatency(kind: Kind, dir: string): Promise<number[]> {
  const fw = makeFirmware(kind);
  const path = join(dir, `${kind}-daemon.tty`);
  await fw.start(path);
  const accounts = { fleet: 'lab', robots: [{ id: 'r1', password: 'robot-secret' }], operators: [{ name: 'alice', password: 'op-secret' }], viewers: [] };
  writeFileSync(join(dir, 'accounts.json'), JSON.stringify(accounts));
  writeFileSync(join(dir, 'mqtt-password'), 'robot-secret\n');
  const d = await startEdgeDaemon(parseEdgeConfig({
    robot: { id: 'r1', profile: PROFILE },
    serial: { path, stateRateHz: STATE_HZ, watchdogMs: WATCHDOG_MS },
    control: { rateHz: COMMAND_HZ, mainStallBoundMs: 2000 },
    mqtt: { fleet: 'lab', passwordFile: join(dir, 'mqtt-password'), embedded: { port: 0, accountsFile: join(dir, 'accounts.json') } },
  }, 'bench'), pino({ level: 'silent' }));
  let op: mqtt.MqttClient | null = null;
  const samples: number[] = [];
  try {
    await waitUntil(`${kind}: daemon READY`, () => d.link.state === 'READY', 20_000);
    op = await mqtt.connectAsync(d.broker?.url ?? 'mqtt://missing', { username: 'alice', password: 'op-secret', clientId: `alice-${kind}` });
    const topic = robotTopics('lab', 'r1').estop;
    for (let i = 0; i < ESTOPS; i++) {
      const before = await fw.stopCount();
      const latched = fw.latched(before);
      const t0 = nowNs();
      await op.publishAsync(topic, JSON.stringify({ v: 1, kind: 'estop', id: `e-${kind}-${i}`, category: 1, operator: 'alice', at: Date.now() }), { qos: 1 });
      await latched;
      samples.push((nowNs() - t0) / 1e6);
      // Clear the firmware's latch for the next round (the daemon's own safety state stays ESTOP;
      // an e-stop publish is still forwarded to the wire).
      await d.link.sendReset(ResetWhat.ESTOP | ResetWhat.WATCHDOG, i + 1).catch(() => null);
      await sleep(300);
    }
  } finally {
    await op?.endAsync();
    await d.close();
    await fw.stop();
  }
  return samples;
}

export const scenario: Scenario = {
  name: 'qemu-firmware',
  description: 'STATE rate, COMMAND → STATE round trip and MQTT e-stop latency: QEMU firmware image vs the WebAssembly virtual firmware',
  async run(): Promise<BenchResult> {
    const why = qemuUnavailable(qemuImageFor(PROFILE));
    const kinds: Kind[] = why === null ? ['qemu', 'virtual'] : ['virtual'];
    const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-qemu-'));
    const rows: Cell[][] = [];
    const summary: Record<string, number | string> = {};
    try {
      const link: Partial<Record<Kind, Awaited<ReturnType<typeof linkFigures>>>> = {};
      const estop: Partial<Record<Kind, number[]>> = {};
      for (const k of kinds) link[k] = await linkFigures(k, dir);
      for (const k of kinds) estop[k] = await estopLatency(k, dir);
      for (const k of kinds) {
        const l = link[k];
        const e = estop[k];
        if (!l || !e) continue;
        const r = stats(l.rtt);
        const s = stats(e);
        rows.push([k, l.rateHz, r.n, r.median, r.p99, r.max, l.timeouts, s.n, s.median, s.p99, s.max]);
        summary[`${k} STATE Hz (asked ${STATE_HZ})`] = l.rateHz;
        summary[`${k} round trip p50 ms`] = r.median;
        summary[`${k} round trip p99 ms`] = r.p99;
        summary[`${k} e-stop p50 ms`] = s.median;
        summary[`${k} e-stop p99 ms`] = s.p99;
      }
      const q = link.qemu;
      const v = link.virtual;
      if (q && v) {
        summary['round trip p50 ratio qemu/virtual'] = stats(q.rtt).median / stats(v.rtt).median;
        summary['round trip p99 ratio qemu/virtual'] = stats(q.rtt).p99 / stats(v.rtt).p99;
        summary['STATE rate ratio qemu/virtual'] = q.rateHz / v.rateHz;
      }
      if (estop.qemu && estop.virtual) summary['e-stop p50 ratio qemu/virtual'] = stats(estop.qemu).median / stats(estop.virtual).median;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      scenario: 'qemu-firmware',
      title: `QEMU mps2-an386 image vs virtual (WebAssembly) firmware, ${PROFILE}, STATE asked at ${STATE_HZ} Hz`,
      columns: ['firmware', 'STATE Hz', 'trips', 'rtt p50 ms', 'rtt p99 ms', 'rtt max ms', 'rtt timeouts', 'e-stops', 'estop p50 ms', 'estop p99 ms', 'estop max ms'],
      rows,
      summary,
      notes: [
        ...(why === null ? [] : [`QEMU not measured: ${why}`]),
        'round trip includes the wait for the next STATE (up to 5 ms at 200 Hz); a timeout is a trip with no answering STATE within 3 s',
        'QEMU e-stop: latched = the probe block in emulated RAM shows ESTOP_LATCHED, polled over QMP (about 1 ms a poll); virtual: the core\'s stop event in process',
        'same settings for both: COMMAND 20 Hz from the daemon, firmware watchdog 1.5 s (for QEMU\'s UART, see the file comment)',
      ],
    };
  },
};
