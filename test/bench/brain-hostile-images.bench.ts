/**
 * Brain plan latency for 100 robots sending camera frames at 10 Hz to an image policy (ONNX
 * backend), without and with one robot sending hostile frames, measured in the same run, each
 * phase against a fresh brain in its own process. The hostile robot cycles through a 40 MP frame
 * (header), a JPEG bomb (a tiny file declaring 65535 x 65535), a truncated JPEG, and the costliest
 * frame the limits let through (a 1920 x 1080 noise JPEG under 1 MiB, which jpeg-js needs hundreds
 * of milliseconds for). Latency: observation written by the robot to plan received, for the 99
 * honest robots only (the hostile robot's own answers are counted separately).
 *
 * The peer is the same fleet without the hostile robot: the figure is the ratio of the p99s.
 * SPINAL_BENCH_ROBOTS (100), SPINAL_BENCH_RATE_HZ (10) and SPINAL_BENCH_MEASURE_MS (8000) change
 * the load; the hostile robot sends at the same rate as the others.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { BrainMessage, CameraFrame } from '../../proto/brain/index.js';
import { brainClient, testHello } from '../../cloud/testing/brain-test-client.js';
import { grayJpeg, noiseJpeg, withDeclaredSize } from '../../cloud/testing/test-jpegs.js';
import { IMAGES_LATENT_DIM, IMAGES_LATENT_SPACE, type FromImagesChild, type ToImagesChild } from './brain-images-protocol.js';
import { stats, type BenchResult, type Scenario } from './harness.js';

const ROBOTS = Number(process.env['SPINAL_BENCH_ROBOTS'] ?? '100');
const RATE_HZ = Number(process.env['SPINAL_BENCH_RATE_HZ'] ?? '10');
const WARMUP_MS = 2000;
const MEASURE_MS = Number(process.env['SPINAL_BENCH_MEASURE_MS'] ?? '8000');
const CHANNELS = 4;
const TICK_MS = 5;

function childCommand(): { path: string; execArgv: string[] } {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.js')) return { path: fileURLToPath(new URL('./brain-images-child.js', here)), execArgv: [] };
  const hooks = new URL('../../edge/decoder/worker-ts-hooks.mjs', here);
  if (!existsSync(fileURLToPath(hooks))) throw new Error('TypeScript hooks not found; run the benchmark from dist/');
  const boot = `import { register } from 'node:module'; register(${JSON.stringify(hooks.href)});`;
  return { path: fileURLToPath(new URL('./brain-images-child.ts', here)), execArgv: ['--import', `data:text/javascript,${encodeURIComponent(boot)}`] };
}

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

interface Phase {
  name: string;
  p50: number;
  p99: number;
  plans: number;
  sent: number;
  honestErrors: number;
  hostileErrors: number;
  brainCpu: number;
  rejected: Record<string, number>;
  dropped: Record<string, number>;
}

async function phase(name: string, hostile: CameraFrame[] | null): Promise<Phase> {
  const brain = await Brain.start(ROBOTS);
  const address = `127.0.0.1:${brain.port}`;
  const clients = Array.from({ length: CHANNELS }, (_, c) => brainClient(address, grpc.credentials.createInsecure(), { 'spinal.bench.channel': c }));
  const honestFrame = frame(noiseJpeg(32, 24, 75, 7));
  const sentAt: Float64Array[] = [];
  const latencies: number[] = [];
  let measuring = false;
  let plans = 0;
  let honestErrors = 0;
  let hostileErrors = 0;
  const HOSTILE = hostile !== null ? 0 : -1;
  const streams = await Promise.all(Array.from({ length: ROBOTS }, (_, i) => new Promise<grpc.ClientDuplexStream<unknown, BrainMessage>>((resolve, reject) => {
    const call = (clients[i % CHANNELS] as ReturnType<typeof brainClient>).Session();
    const times = new Float64Array(64);
    sentAt.push(times);
    call.on('data', (m: BrainMessage) => {
      if (m.msg === 'welcome') resolve(call as never);
      else if (m.msg === 'plan') {
        if (!measuring || i === HOSTILE) return;
        plans++;
        latencies.push(performance.now() - (times[m.plan.observationSeq % 64] as number));
      } else if (m.msg === 'error') {
        if (measuring) { if (i === HOSTILE) hostileErrors++; else honestErrors++; }
        if (m.error.code === 'UNKNOWN_ROBOT' || m.error.code === 'INCOMPATIBLE') reject(new Error(m.error.message));
      }
    });
    call.on('error', () => undefined);
    call.write({ msg: 'hello', hello: testHello(`b${i}`, { latentSpace: IMAGES_LATENT_SPACE, latentDim: IMAGES_LATENT_DIM }) });
  })));
  const seqs = new Uint32Array(ROBOTS);
  const slots = Math.round(1000 / RATE_HZ / TICK_MS);
  const state = [0.1, 0.2, -0.3];
  let sent = 0;
  const start = performance.now();
  let nextSlot = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const due = Math.floor((now - start) / TICK_MS);
    const us = Math.round((performance.timeOrigin + now) * 1000);
    for (; nextSlot <= due; nextSlot++) {
      for (let i = nextSlot % slots; i < ROBOTS; i += slots) {
        const seq = (seqs[i] as number) + 1;
        seqs[i] = seq;
        (sentAt[i] as Float64Array)[seq % 64] = now;
        const f = i === HOSTILE && hostile !== null ? (hostile[seq % hostile.length] as CameraFrame) : honestFrame;
        if (measuring && i !== HOSTILE) sent++;
        (streams[i] as grpc.ClientDuplexStream<unknown, BrainMessage>).write({ msg: 'observation', observation: { seq, captureTimeUs: us, sendTimeUs: us, state, frames: [f], taskId: '' } });
      }
    }
  }, TICK_MS);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const before = await brain.stats();
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const after = await brain.stats();
  clearInterval(timer);
  for (const s of streams) s.end();
  for (const c of clients) c.close();
  await brain.stop();
  const s = stats(latencies);
  const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
  return {
    name, p50: s.median, p99: s.p99, plans, sent, honestErrors, hostileErrors,
    brainCpu: (after.cpuUs - before.cpuUs) / 1e6 / seconds,
    rejected: diff(after.rejected, before.rejected), dropped: diff(after.dropped, before.dropped),
  };
}

export const scenario: Scenario = {
  name: 'brain-hostile-images',
  description: `brain plan latency p50/p99 for ${ROBOTS} robots sending camera frames, without and with one robot sending hostile JPEGs`,
  async run(): Promise<BenchResult> {
    const costly = costliestAllowed();
    const hostile = [
      frame(withDeclaredSize(grayJpeg(0, 16, 16), 8000, 5000)), // 40 MP
      frame(withDeclaredSize(grayJpeg(0, 8, 8), 65535, 65535)), // bomb
      frame(noiseJpeg(640, 480, 75, 3).subarray(0, 20_000)), // truncated
      frame(costly), // the costliest allowed
    ];
    // Alternate the two conditions so that drift in the machine's other load falls on both.
    const ROUNDS = Number(process.env['SPINAL_BENCH_ROUNDS'] ?? '3');
    const honest: Phase[] = [];
    const attacked: Phase[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      honest.push(await phase(`honest fleet #${r}`, null));
      attacked.push(await phase(`one robot hostile #${r}`, hostile));
    }
    const med = (xs: number[]): number => stats(xs).median;
    const p99Honest = med(honest.map((p) => p.p99));
    const p99Hostile = med(attacked.map((p) => p.p99));
    const p50Honest = med(honest.map((p) => p.p50));
    const p50Hostile = med(attacked.map((p) => p.p50));
    const answered = (ps: Phase[]): number => med(ps.map((p) => p.plans / Math.max(1, p.sent)));
    const fmt = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    const rows = honest.flatMap((h, i) => [h, attacked[i] as Phase]);
    return {
      scenario: 'brain-hostile-images',
      title: `${ROBOTS} robots at ${RATE_HZ} Hz with a 32 x 24 JPEG each, ONNX image policy (16 x 16), ${MEASURE_MS / 1000} s measured per phase after ${WARMUP_MS / 1000} s; a fresh brain process per phase; ${ROUNDS} alternating rounds`,
      columns: ['phase', 'honest plans', 'plans/obs', 'p50 ms', 'p99 ms', 'honest errors', 'hostile errors', 'brain CPU cores', 'refused (reason n)', 'dropped (kind n)'],
      rows: rows.map((p) => [p.name, p.plans, p.plans / Math.max(1, p.sent), p.p50, p.p99, p.honestErrors, p.hostileErrors, p.brainCpu, fmt(p.rejected), fmt(p.dropped)]),
      summary: {
        'p50 ms, honest fleet (median of rounds)': p50Honest,
        'p50 ms, one robot hostile (median of rounds)': p50Hostile,
        'p99 ms, honest fleet (median of rounds)': p99Honest,
        'p99 ms, one robot hostile (median of rounds)': p99Hostile,
        'p99 ratio hostile / honest': p99Hostile / p99Honest,
        'p50 ratio hostile / honest': p50Hostile / p50Honest,
        'plans/obs honest / hostile phases': `${answered(honest).toFixed(3)} / ${answered(attacked).toFixed(3)}`,
        'costliest allowed frame (bytes)': costly.length,
      },
      notes: [
        'latency: observation write on the robot side to plan receipt there, loopback, honest robots only; the robots\' process shares the machine with the brain',
        'the hostile robot cycles 40 MP header / 65535 x 65535 bomb / truncated / 1920 x 1080 noise under 1 MiB; the first three are refused from the header, the last is decoded (or stopped at the 1000 ms deadline) on one of the two decoder workers',
        'the conditions alternate over the rounds so that drift in the machine\'s other load falls on both; the machine is shared with other work, so quote the ratio with its conditions',
      ],
    };
  },
};
