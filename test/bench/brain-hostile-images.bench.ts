/**
 * Brain plan latency for 100 robots sending camera frames to an image policy (ONNX backend),
 * without and with one robot sending hostile frames, in the same run against the same brain, which
 * runs in a process of its own (the robots are this process).
 *
 * The two conditions alternate in windows (honest, hostile, hostile, honest, ...): the hostile robot
 * sends its frames only in the hostile windows, and each window begins with a guard second that is
 * not counted (a decode started in the previous window finishes or hits its deadline). An
 * observation counts for the window it was sent in, its plan whenever it comes. Alternating within
 * one brain lets drift in the machine's other load fall on both conditions alike.
 *
 * The honest load is sized so that the brain keeps up with it: a figure taken while the brain (or
 * the machine under it) cannot answer every observation measures queueing, not the hostile
 * robot's effect. Before the run a short honest probe, on a fresh brain, runs at the asked rate;
 * while fewer than 95 % of observations get a plan, or their median exceeds 100 ms, the rate is
 * halved (down to 0.25 Hz). The hostile robot is not held to that rate: it sends at its own
 * (10 Hz), cycling a 40 MP frame (header), a JPEG bomb (a tiny file declaring 65535 x 65535), a
 * truncated JPEG, and the costliest frame the limits let through (1920 x 1080 noise under 1 MiB,
 * which jpeg-js needs hundreds of milliseconds for). Latency: observation written by a robot to
 * its plan received, honest robots only.
 *
 * SPINAL_BENCH_ROBOTS (100), SPINAL_BENCH_RATE_HZ (2, where the sizing starts),
 * SPINAL_BENCH_HOSTILE_HZ (10), SPINAL_BENCH_WINDOW_MS (3000, counted per window) and
 * SPINAL_BENCH_ROUNDS (4, each one honest and one hostile window) change the load.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import type { BrainMessage, CameraFrame } from '../../proto/brain/index.js';
import { brainClient, testHello } from '../../cloud/testing/brain-test-client.js';
import { grayJpeg, noiseJpeg, withDeclaredSize } from '../../cloud/testing/test-jpegs.js';
import { IMAGES_LATENT_DIM, IMAGES_LATENT_SPACE, type FromImagesChild, type ToImagesChild } from './brain-images-protocol.js';
import { stats, type BenchResult, type Scenario } from './harness.js';
import { benchChildEntry } from './child-entry.js';

const ROBOTS = Number(process.env['SPINAL_BENCH_ROBOTS'] ?? '100');
const ASKED_RATE_HZ = Number(process.env['SPINAL_BENCH_RATE_HZ'] ?? '2');
const HOSTILE_HZ = Number(process.env['SPINAL_BENCH_HOSTILE_HZ'] ?? '10');
const MIN_RATE_HZ = 0.25;
const WARMUP_MS = 3000;
const GUARD_MS = 1000;
const DRAIN_MS = 2000;
const WINDOW_MS = Number(process.env['SPINAL_BENCH_WINDOW_MS'] ?? '3000');
const ROUNDS = Number(process.env['SPINAL_BENCH_ROUNDS'] ?? '4');
const CHANNELS = 4;
const TICK_MS = 5;

const childCommand = (): { path: string; execArgv: string[] } => benchChildEntry('brain-images-child');

class Brain {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  static start(robots: number): Promise<Brain> {
    const { path, execArgv } = childCommand();
    const child = fork(path, [], { execArgv, env: { ...process.env, SPINAL_BENCH_ROBOTS: String(robots) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`brain child exited with code ${code} before it was ready`)));
      child.once('message', (m: FromImagesChild) => { if (m.type === 'ready') resolve(new Brain(child, m.port)); });
    });
  }

  stats(): Promise<Extract<FromImagesChild, { type: 'stats' }>> {
    return new Promise((resolve) => {
      const on = (m: FromImagesChild): void => { if (m.type === 'stats') { this.child.off('message', on); resolve(m); } };
      this.child.on('message', on);
      this.child.send({ type: 'stats' } satisfies ToImagesChild);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => { clearTimeout(t); resolve(); });
      this.child.send({ type: 'stop' } satisfies ToImagesChild);
    });
  }
}

const frame = (data: Uint8Array): CameraFrame => ({ cameraId: 'wrist', encoding: 'jpeg', data: Buffer.from(data), width: 0, height: 0, captureTimeUs: 0 });

/** The costliest frame within the default limits: 1920 x 1080 noise, at the highest quality under 1 MiB. */
function costliestAllowed(): Uint8Array {
  for (let q = 40; q >= 5; q -= 5) {
    const j = noiseJpeg(1920, 1080, q);
    if (j.length <= 1024 * 1024) return j;
  }
  throw new Error('no 1920 x 1080 noise JPEG fits in 1 MiB');
}

type Condition = 'honest' | 'hostile';
const CONDITIONS: readonly Condition[] = ['honest', 'hostile'];

/** What one condition's counted windows add up to. */
interface Tally {
  latencies: number[];
  sent: number;
  plans: number;
  honestErrors: number;
  hostileErrors: number;
  brainCpuUs: number;
  robotsCpuUs: number;
  seconds: number;
  loads: number[];
  rejected: Record<string, number>;
  dropped: Record<string, number>;
}

const newTally = (): Tally => ({ latencies: [], sent: 0, plans: 0, honestErrors: 0, hostileErrors: 0, brainCpuUs: 0, robotsCpuUs: 0, seconds: 0, loads: [], rejected: {}, dropped: {} });
const addDiff = (into: Record<string, number>, a: Record<string, number>, b: Record<string, number>): void => {
  for (const [k, v] of Object.entries(a)) { const d = v - (b[k] ?? 0); if (d > 0) into[k] = (into[k] ?? 0) + d; }
};
const answered = (t: Tally): number => t.plans / Math.max(1, t.sent);
const keepsUp = (t: Tally): boolean => answered(t) >= 0.95 && stats(t.latencies).median <= 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One brain, `windows` run in order; the hostile robot (b0) sends `hostile` frames in hostile windows. */
async function run(rateHz: number, windows: readonly Condition[], hostile: CameraFrame[], windowMs: number): Promise<Record<Condition, Tally>> {
  const brain = await Brain.start(ROBOTS);
  const address = `127.0.0.1:${brain.port}`;
  const clients = Array.from({ length: CHANNELS }, (_, c) => brainClient(address, grpc.credentials.createInsecure(), { 'spinal.bench.channel': c }));
  const honestFrame = frame(noiseJpeg(32, 24, 75, 7));
  const tallies: Record<Condition, Tally> = { honest: newTally(), hostile: newTally() };
  const HOSTILE = 0;
  /** Per robot, by seq % 64: when each observation was sent, and the counted condition it was sent in (-1: none). */
  const sentAt: Float64Array[] = [];
  const sentIn: Int8Array[] = [];
  /** The counted window's condition index, or -1 (warm-up, guard, drain). */
  let counting = -1;
  let hostileOn = false;
  const streams = await Promise.all(Array.from({ length: ROBOTS }, (_, i) => new Promise<grpc.ClientDuplexStream<unknown, BrainMessage>>((resolve, reject) => {
    const call = (clients[i % CHANNELS] as ReturnType<typeof brainClient>).Session();
    const times = new Float64Array(64);
    const tags = new Int8Array(64).fill(-1);
    sentAt.push(times);
    sentIn.push(tags);
    call.on('data', (m: BrainMessage) => {
      if (m.msg === 'welcome') resolve(call as never);
      else if (m.msg === 'plan') {
        const slot = m.plan.observationSeq % 64;
        const tag = tags[slot] as number;
        if (i === HOSTILE || tag < 0) return;
        tags[slot] = -1;
        const t = tallies[CONDITIONS[tag] as Condition];
        t.plans++;
        t.latencies.push(performance.now() - (times[slot] as number));
      } else if (m.msg === 'error') {
        if (counting >= 0) { const t = tallies[CONDITIONS[counting] as Condition]; if (i === HOSTILE) t.hostileErrors++; else t.honestErrors++; }
        if (m.error.code === 'UNKNOWN_ROBOT' || m.error.code === 'INCOMPATIBLE') reject(new Error(m.error.message));
      }
    });
    call.on('error', () => undefined);
    call.write({ msg: 'hello', hello: testHello(`b${i}`, { latentSpace: IMAGES_LATENT_SPACE, latentDim: IMAGES_LATENT_DIM }) });
  })));
  const seqs = new Uint32Array(ROBOTS);
  const slots = Math.max(1, Math.round(1000 / rateHz / TICK_MS));
  // Robots spread evenly over the period (not bunched into its first slots when slots > ROBOTS).
  const bySlot: number[][] = Array.from({ length: slots }, () => []);
  for (let i = 0; i < ROBOTS; i++) (bySlot[Math.floor((i * slots) / ROBOTS)] as number[]).push(i);
  const hostileSlots = Math.max(1, Math.round(1000 / HOSTILE_HZ / TICK_MS));
  const state = [0.1, 0.2, -0.3];
  const send = (i: number, f: CameraFrame, now: number, us: number): void => {
    const seq = (seqs[i] as number) + 1;
    seqs[i] = seq;
    (sentAt[i] as Float64Array)[seq % 64] = now;
    (sentIn[i] as Int8Array)[seq % 64] = i === HOSTILE ? -1 : counting;
    if (counting >= 0 && i !== HOSTILE) tallies[CONDITIONS[counting] as Condition].sent++;
    (streams[i] as grpc.ClientDuplexStream<unknown, BrainMessage>).write({ msg: 'observation', observation: { seq, captureTimeUs: us, sendTimeUs: us, state, frames: [f], taskId: '' } });
  };
  const start = performance.now();
  let nextSlot = 0;
  let sending = true;
  const timer = setInterval(() => {
    if (!sending) return;
    const now = performance.now();
    const due = Math.floor((now - start) / TICK_MS);
    const us = Math.round((performance.timeOrigin + now) * 1000);
    for (; nextSlot <= due; nextSlot++) {
      for (const i of bySlot[nextSlot % slots] as number[]) if (!(i === HOSTILE && hostileOn)) send(i, honestFrame, now, us);
      if (hostileOn && nextSlot % hostileSlots === 0) send(HOSTILE, hostile[Math.floor(nextSlot / hostileSlots) % hostile.length] as CameraFrame, now, us);
    }
  }, TICK_MS);
  await sleep(WARMUP_MS);
  for (const w of windows) {
    hostileOn = w === 'hostile';
    await sleep(GUARD_MS);
    const before = await brain.stats();
    const robotsBefore = process.cpuUsage();
    const t0 = performance.now();
    counting = CONDITIONS.indexOf(w);
    await sleep(windowMs);
    counting = -1;
    const t = tallies[w];
    t.seconds += (performance.now() - t0) / 1000;
    const robots = process.cpuUsage(robotsBefore);
    t.robotsCpuUs += robots.user + robots.system;
    t.loads.push(loadavg()[0] as number);
    const after = await brain.stats();
    t.brainCpuUs += after.cpuUs - before.cpuUs;
    addDiff(t.rejected, after.rejected, before.rejected);
    addDiff(t.dropped, after.dropped, before.dropped);
  }
  // Plans for the last counted observations may still be on their way.
  sending = false;
  hostileOn = false;
  await sleep(DRAIN_MS);
  clearInterval(timer);
  for (const s of streams) s.end();
  for (const c of clients) c.close();
  await brain.stop();
  return tallies;
}

/** The highest rate from the asked one down, halving, at which an honest fleet gets its plans. */
async function sizeHonestLoad(): Promise<{ rateHz: number; probes: { rateHz: number; t: Tally }[] }> {
  const probes: { rateHz: number; t: Tally }[] = [];
  for (let rate = ASKED_RATE_HZ; ; rate /= 2) {
    const t = (await run(rate, ['honest'], [], WINDOW_MS)).honest;
    probes.push({ rateHz: rate, t });
    if (keepsUp(t) || rate / 2 < MIN_RATE_HZ) return { rateHz: rate, probes };
  }
}

export const scenario: Scenario = {
  name: 'brain-hostile-images',
  description: `brain plan latency p50/p99 for ${ROBOTS} robots sending camera frames, without and with one robot sending hostile JPEGs`,
  async run(): Promise<BenchResult> {
    const { rateHz, probes } = await sizeHonestLoad();
    const costly = costliestAllowed();
    const hostile = [
      frame(withDeclaredSize(grayJpeg(0, 16, 16), 8000, 5000)), // 40 MP
      frame(withDeclaredSize(grayJpeg(0, 8, 8), 65535, 65535)), // bomb
      frame(noiseJpeg(640, 480, 75, 3).subarray(0, 20_000)), // truncated
      frame(costly), // the costliest allowed
    ];
    // ABBA: each condition equally often first and second, so a trend in the load falls on both.
    const windows = Array.from({ length: ROUNDS }, (_, r): Condition[] => (r % 2 === 0 ? ['honest', 'hostile'] : ['hostile', 'honest'])).flat();
    const t = await run(rateHz, windows, hostile, WINDOW_MS);
    const fmt = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    const row = (name: string, x: Tally): (string | number)[] => {
      const s = stats(x.latencies);
      return [name, x.sent, x.plans, answered(x), s.median, s.p99, x.honestErrors, x.hostileErrors, x.brainCpuUs / 1e6 / Math.max(1e-9, x.seconds),
        x.robotsCpuUs / 1e6 / Math.max(1e-9, x.seconds), stats(x.loads).median, fmt(x.rejected), fmt(x.dropped)];
    };
    const honest = stats(t.honest.latencies);
    const attacked = stats(t.hostile.latencies);
    return {
      scenario: 'brain-hostile-images',
      title: `${ROBOTS} robots at ${rateHz} Hz (${ROBOTS * rateHz} observations/s; sizing began at ${ASKED_RATE_HZ} Hz) with a 32 x 24 JPEG each, the hostile robot at ${HOSTILE_HZ} Hz; ONNX image policy (16 x 16); one brain process; ${ROUNDS} honest and ${ROUNDS} hostile windows of ${WINDOW_MS / 1000} s, alternating ABBA; ${cpus().length} CPU cores`,
      columns: ['condition', 'honest obs', 'honest plans', 'plans/obs', 'p50 ms', 'p99 ms', 'honest errors', 'hostile errors', 'brain CPU cores', 'robots CPU cores', 'load avg 1 min', 'refused (reason n)', 'dropped (kind n)'],
      rows: [...probes.map((p) => row(`probe: honest at ${p.rateHz} Hz (fresh brain)`, p.t)), row('honest fleet', t.honest), row('one robot hostile', t.hostile)],
      summary: {
        'honest rate per robot (Hz)': rateHz,
        'honest windows kept up (>= 95 % answered, p50 <= 100 ms)': keepsUp(t.honest) ? 'yes' : 'no: the figures measure queueing',
        'machine: CPU cores, load avg 1 min (median of windows)': `${cpus().length}, ${stats([...t.honest.loads, ...t.hostile.loads]).median.toFixed(1)}`,
        'p50 ms honest / hostile': `${honest.median.toFixed(1)} / ${attacked.median.toFixed(1)}`,
        'p99 ms honest / hostile': `${honest.p99.toFixed(1)} / ${attacked.p99.toFixed(1)}`,
        'p50 ratio hostile / honest': attacked.median / honest.median,
        'p99 ratio hostile / honest': attacked.p99 / honest.p99,
        'costliest allowed frame (bytes)': costly.length,
      },
      notes: [
        'latency: observation write on the robot side to plan receipt there, loopback, honest robots only; an observation counts for the window it was sent in; the robots\' process shares the machine with the brain',
        'the hostile robot cycles 40 MP header / 65535 x 65535 bomb / truncated / 1920 x 1080 noise under 1 MiB; the first three are refused from the header, the last is decoded (or stopped at the 1000 ms deadline) on one of the two decoder workers, within the robot\'s decode budget',
        'load sizing: probes at the asked rate on a fresh brain, halved while an honest fleet gets fewer than 95 % plans or a median above 100 ms; the load average column says how busy the machine was besides',
      ],
    };
  }
};
