/**
 * The flight recorder's cost. (1) Per STATE message on the daemon's thread: building the record
 * from a STATE frame and publishing it through the RecordingBus into the FlightRecorder (JSON and
 * batching; the writer thread does the rest), at 1 kHz, and the same with no sink attached. (2)
 * Disk use per robot: one minute of STATE at 1 kHz and COMMAND at 200 Hz (7 joints) written by the
 * writer, zstd and uncompressed. (3) In one run, the composed daemon against the virtual robot
 * (STATE at 1 kHz) with and without full recording: control tick lateness p99 and the e-stop
 * latency (supervisor remote e-stop → ESTOP latched by the virtual firmware) p99, each e-stop also
 * cutting a black box when the recorder runs.
 * SPINAL_BENCH_QUICK=1 shortens every part.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon } from '../../edge/daemon.js';
import { listRecordings } from '../../edge/recording/disk-quota.js';
import { stateRecord } from '../../edge/recording/daemon-taps.js';
import { FlightRecorder } from '../../edge/recording/flight-recorder.js';
import { recordingConfig } from '../../edge/recording/recording-config.js';
import { RecordingBus } from '../../edge/recording/recording-bus.js';
import { RecordingWriter } from '../../edge/recording/recording-writer.js';
import type { StateEvent } from '../../edge/serial/serial-link-types.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { getProfile } from '../../hardware/index.js';
import { RECORDING_SCHEMA_VERSION, Topic, type RecordingMetadata } from '../../proto/recording/channels.js';
import { newState } from '../../proto/wire/messages.js';
import { sleep, waitFor } from '../e2e/link-harness.js';
import { nowNs, stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const QUICK = process.env.SPINAL_BENCH_QUICK === '1';
const PROFILE = getProfile('arm6-gripper');
const N = PROFILE.joints.length;
const META: RecordingMetadata = {
  schemaVersion: RECORDING_SCHEMA_VERSION, robotId: 'bench', profile: PROFILE.id, jointNames: PROFILE.joints.map((j) => j.name),
  stateRateHz: 1000, controlRateHz: 200, cameraIds: [], edgeVersion: 'bench',
};

function stateEvent(i: number): StateEvent {
  const msg = newState();
  msg.jointCount = N;
  for (let j = 0; j < N; j++) {
    msg.position[j] = Math.round(1000 * Math.sin(i / 300 + j));
    msg.velocity[j] = 50 * Math.cos(i / 300 + j);
    msg.current[j] = 0.3 + 0.01 * j;
  }
  return { msg, seq: i & 0xffff, mcuTimeUs: i * 1000, hostTimeUs: performance.now() * 1000, synced: true };
}

/** µs per STATE on the publishing thread, with the recorder attached or not. */
async function perMessage(dir: string, seconds: number): Promise<{ on: number[]; off: number[]; dropped: number }> {
  const rec = await FlightRecorder.start(recordingConfig({ dir, enabled: true }), META);
  const bus = new RecordingBus();
  const on: number[] = [];
  const off: number[] = [];
  const t0ns = BigInt(Date.now()) * 1_000_000n;
  let i = 0;
  const run = async (into: number[]): Promise<void> => {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      // 1 kHz in bursts of 10 per 10 ms (timers are coarser than 1 ms on a loaded machine).
      for (let k = 0; k < 10; k++) {
        const ev = stateEvent(i++);
        const a = nowNs();
        if (bus.active) bus.publish(Topic.state, t0ns + BigInt(i) * 1_000_000n, stateRecord(ev, PROFILE.joints));
        into.push(Number(nowNs() - a) / 1000);
      }
      await sleep(10);
    }
  };
  await run(off);
  const detach = bus.attach(rec);
  await run(on);
  detach();
  const dropped = rec.status().dropped;
  await rec.close();
  return { on, off, dropped };
}

/** Bytes for one minute of STATE at 1 kHz and COMMAND at 200 Hz. */
async function bytesPerMinute(dir: string, compression: 'zstd' | 'none'): Promise<number> {
  const w = new RecordingWriter(recordingConfig({ dir, enabled: true, compression, minFreeBytes: 0 }), META);
  await w.init();
  w.channel(0, Topic.state);
  w.channel(1, Topic.command);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < 60_000; i++) {
    const ev = stateEvent(i);
    ev.hostTimeUs = i * 1000;
    await w.add(0, t0 + BigInt(i) * 1_000_000n, JSON.stringify(stateRecord(ev, PROFILE.joints)));
    if (i % 5 === 0) {
      const target = Array.from({ length: N }, (_, j) => 0.5 * Math.sin(i / 300 + j));
      await w.add(1, t0 + BigInt(i) * 1_000_000n + 1n, JSON.stringify({ hostUs: i * 1000, seq: i / 5, mode: 1, target, velocity: target.map((v) => v / 10) }));
    }
  }
  await w.close();
  return listRecordings(dir).reduce((s, f) => s + f.bytes, 0);
}

/** The daemon, recording or not: tick lateness over `seconds` and `trials` e-stops (ms). */
async function daemonRun(dir: string, name: string, recording: boolean, seconds: number, trials: number): Promise<{ lateness: number[]; estop: number[]; blackBoxes: number; dropped: number }> {
  const tty = join(dir, `${name}.tty`);
  const robot = new VirtualRobot({ profile: PROFILE.id, stateRateHz: 1000, linkPath: tty });
  await robot.start();
  const config = parseEdgeConfig({
    robot: { id: name, profile: PROFILE.id }, serial: { path: tty, stateRateHz: 1000, watchdogMs: 1000 },
    control: { rateHz: 200, mainStallBoundMs: 2000 },
    ...(recording ? { recording: { enabled: true, dir: join(dir, `rec-${name}`) } } : {}),
  }, 'bench');
  const d = await startEdgeDaemon(config, pino({ level: 'silent' }));
  try {
    await waitFor('serial READY and safety IDLE', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE' && d.supervisor.mcuLatch !== 'unknown', 20_000);
    const skip = d.loop.stats().lateness.length;
    await sleep(seconds * 1000);
    const lateness = Array.from(d.loop.stats().lateness.subarray(skip), (us) => us / 1000);
    const estop: number[] = [];
    let latched: (() => void) | null = null;
    robot.on('estop', () => { const f = latched; latched = null; f?.(); });
    // On a loaded machine the link may lose the MCU for a moment, or its watchdog trip: reset until IDLE.
    const ensureIdle = async (): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (d.supervisor.state !== 'IDLE' || d.link.state !== 'READY') {
        if (Date.now() > deadline) throw new Error(`not IDLE within 30 s: safety ${d.supervisor.state}, link ${d.link.state}`);
        if ((d.supervisor.state === 'ESTOP' || d.supervisor.state === 'FAULT') && d.link.state === 'READY' && d.supervisor.mcuLatch !== 'unknown') await d.supervisor.reset({ id: 'bench', role: 'operator' }).catch(() => false);
        await sleep(20);
      }
    };
    for (let i = 0; i < trials; i++) {
      await ensureIdle();
      await sleep(20 + (i % 7));
      const t = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`trial ${i}: no ESTOP at the firmware within 2 s`)), 2000);
        const t0 = nowNs();
        latched = () => { clearTimeout(timer); resolve(Number(nowNs() - t0) / 1e6); };
        d.supervisor.remoteEstop({ scope: 'robot', category: 1, operator: 'bench', malformed: false });
      });
      estop.push(t);
      await waitFor('MCU latch seen', () => d.supervisor.mcuLatch === 'latched', 5000);
    }
    if (recording) await d.recording.recorder?.drained();
    const st = d.recorder.status();
    return { lateness, estop, blackBoxes: st?.blackBoxSaves ?? 0, dropped: st?.dropped ?? 0 };
  } finally {
    await d.close();
    await robot.stop();
  }
}

export const scenario: Scenario = {
  name: 'recorder-cost',
  description: 'flight recorder: µs per STATE on the daemon thread, MB/min per robot (zstd, none), tick lateness and e-stop latency with recording on vs off',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-rec-'));
    const load = loadavg()[0] ?? Number.NaN;
    try {
      const per = await perMessage(join(dir, 'per'), QUICK ? 3 : 5);
      const on = stats(per.on), off = stats(per.off);
      const zstdBytes = await bytesPerMinute(join(dir, 'zstd'), 'zstd');
      const rawBytes = await bytesPerMinute(join(dir, 'none'), 'none');
      const seconds = QUICK ? 5 : 10;
      const trials = QUICK ? 20 : 50;
      // Order alternates with SPINAL_BENCH_RECORDER_ON_FIRST=1, to tell the recorder from the order.
      const onFirst = process.env.SPINAL_BENCH_RECORDER_ON_FIRST === '1';
      const b0 = onFirst ? await daemonRun(dir, 'on', true, seconds, trials) : null;
      const a = await daemonRun(dir, 'off', false, seconds, trials);
      const b = b0 ?? await daemonRun(dir, 'on', true, seconds, trials);
      const la = stats(a.lateness), lb = stats(b.lateness), ea = stats(a.estop), eb = stats(b.estop);
      const MB = 1024 * 1024;
      const rows: Cell[][] = [
        ['publish STATE, recorder attached (µs)', on.n, on.median, on.p99, on.max],
        ['publish STATE, no sink (µs)', off.n, off.median, off.p99, off.max],
        ['daemon, recording off: tick lateness (ms)', la.n, la.median, la.p99, la.max],
        ['daemon, recording on: tick lateness (ms)', lb.n, lb.median, lb.p99, lb.max],
        ['daemon, recording off: e-stop → firmware (ms)', ea.n, ea.median, ea.p99, ea.max],
        ['daemon, recording on: e-stop → firmware (ms)', eb.n, eb.median, eb.p99, eb.max],
      ];
      return {
        scenario: 'recorder-cost',
        title: `flight recorder cost, ${PROFILE.id} (${N} joints), STATE at 1 kHz`,
        columns: ['what', 'n', 'p50', 'p99', 'max'],
        rows,
        summary: {
          'publish p50 us': on.median, 'publish p99 us': on.p99, 'dropped': per.dropped,
          'MB/min zstd': zstdBytes / MB, 'MB/min none': rawBytes / MB,
          'lateness p99 ms off': la.p99, 'lateness p99 ms on': lb.p99,
          'estop p99 ms off': ea.p99, 'estop p99 ms on': eb.p99,
          'black boxes cut (on)': b.blackBoxes, 'daemon dropped (on)': b.dropped,
        },
        notes: [
          'MB/min: one minute of STATE at 1 kHz and COMMAND at 200 Hz, JSON messages, 256 KiB chunks; the other channels add little (estimate 50 Hz, link 10 Hz, events)',
          'e-stop trials with recording on each cut a black box (the last 10 s of every channel) on the writer thread',
          `daemon runs in the order ${onFirst ? 'recording on, then off' : 'recording off, then on'}`,
          `1-minute load average at the start: ${load.toFixed(2)} on ${cpus().length} CPUs (shared machine)`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
