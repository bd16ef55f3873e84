/**
 * Control-loop lateness at 500 Hz under load: the tick worker (Atomics.wait on absolute deadlines)
 * runs the full path — schedule, mailbox, CommandGate with limits on the main thread — while a
 * WorkerDecoder runs the dit-m benchmark model continuously and a 50 Hz publisher (stand-in for
 * MQTT telemetry: JSON.stringify of a state summary written to a Unix socket pair) runs on the
 * main thread. In the same run, a plain setInterval(2) loop on the main thread is measured for
 * comparison. Lateness: worker = wake time − absolute deadline; setInterval = interval − 2 ms
 * (Node re-arms an interval from when it ran, so absolute lateness would only grow).
 * Handoff: tick published → command handed to the link on the main thread.
 * SPINAL_BENCH_QUICK=1 runs 10 s instead of 60 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../edge/clock.js';
import { ControlLoop } from '../../edge/control/control-loop.js';
import { FakeDecoder } from '../../edge/control/testing/fake-decoder.js';
import { WorkerDecoder } from '../../edge/decoder/index.js';
import { ObservationBuffer, Slot } from '../../edge/estimation/observation-buffer.js';
import { SafetySupervisor } from '../../edge/safety/safety-supervisor.js';
import { getProfile } from '../../hardware/index.js';
import { AckResult, type AckMsg, type CommandMsg } from '../../proto/wire/index.js';
import { benchEmitter, stepModel } from './decoder-models.js';
import { stats, type BenchResult, type Scenario } from './harness.js';

const RATE_HZ = 500;

function socketPair(): Promise<{ a: Socket; b: Socket; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-'));
  const path = join(dir, 's.sock');
  return new Promise((resolve) => {
    const server = createServer((b) => {
      b.on('data', () => {});
      resolve({ a, b, close: () => { a.destroy(); b.destroy(); server.close(); rmSync(dir, { recursive: true, force: true }); } });
    });
    let a: Socket;
    server.listen(path, () => { a = createConnection(path); });
  });
}

const ms = (us: number): number => us / 1000;

export const scenario: Scenario = {
  name: 'control-lateness',
  description: 'control tick lateness at 500 Hz (worker + Atomics.wait) vs a setInterval loop, with dit-m decoding and a 50 Hz publisher',
  async run(): Promise<BenchResult> {
    const seconds = process.env.SPINAL_BENCH_QUICK === '1' ? 10 : 60;
    const profile = getProfile('arm6-gripper');
    const n = profile.joints.length;
    // Load: dit-m decoding back to back in its worker.
    // One onnxruntime thread: on a 2-core robot computer the decoder must leave a core to the
    // control tick (SPINAL_BENCH_DECODER_THREADS overrides; 0 = onnxruntime's default, all cores).
    const threads = Number(process.env.SPINAL_BENCH_DECODER_THREADS ?? 1);
    const dit = await WorkerDecoder.load({ bytes: stepModel(benchEmitter('dit-m', { horizon: 16, actionDim: 7 })), ...(threads > 0 ? { intraOpThreads: threads } : {}) });
    let decoding = true, decodes = 0;
    const latent = new Float32Array(dit.info.spec.latentDim), state = new Float32Array(dit.info.spec.stateDim);
    const decodeLoop = (async () => { while (decoding) { const o = await dit.decode({ latent, state }, { supersede: false }).outcome; if (o.status === 'done') decodes++; } })();
    // Load: 50 Hz telemetry stand-in.
    const pair = await socketPair();
    const obs = ObservationBuffer.create(n);
    let published = 0;
    const publisher = setInterval(() => {
      pair.a.write(JSON.stringify({ t: Date.now(), q: Array.from(obs.position), v: Array.from(obs.velocity), state: 'ACTIVE', seq: published++ }));
    }, 20);
    // Observation source at 1 kHz on the main thread (as the serial link + estimator would be).
    const feed = setInterval(() => {
      obs.beginWrite();
      obs.slots[Slot.SAMPLE_COUNT] = (obs.slots[Slot.SAMPLE_COUNT] ?? 0) + 1;
      obs.slots[Slot.HOST_TIME_US] = systemClock.nowUs();
      obs.endWrite();
    }, 1);
    let commands = 0;
    const sink = {
      sendCommand: (_c: CommandMsg): boolean => { commands++; return true; },
      sendEstop: (): boolean => true,
      sendReset: (): Promise<AckMsg> => Promise.resolve({ result: AckResult.OK } as AckMsg),
    };
    const sup = new SafetySupervisor(sink, systemClock);
    const chunks = new FakeDecoder(systemClock, 16, n, 20, (_r, h, j) => 0.002 * (h + 1) * ((j % 3) - 1));
    const loop = new ControlLoop({
      profile, rateHz: RATE_HZ, decoder: chunks, observation: obs, link: sink, supervisor: sup, latent: () => latent,
      scheduler: { horizon: 16, stepUs: 20_000, policy: 'crossfade' }, latenessCapacity: seconds * RATE_HZ + 1000,
    });
    await loop.start();
    sup.linkReady();
    sup.planReceived(systemClock.nowUs() + (seconds + 30) * 1e6);
    await new Promise((r) => setTimeout(r, 300));
    sup.resume({ id: 'bench', role: 'operator' });
    // The comparison loop, same run.
    const intervalLate: number[] = [];
    let prev = performance.now();
    const plain = setInterval(() => { const t = performance.now(); intervalLate.push((t - prev - 1000 / RATE_HZ) * 1000); prev = t; }, 1000 / RATE_HZ);
    const skip = loop.stats().lateness.length;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(plain);
    const st = loop.stats();
    await loop.stop();
    clearInterval(publisher); clearInterval(feed);
    decoding = false;
    await decodeLoop;
    await dit.close();
    pair.close();
    const w = stats(st.lateness.subarray(skip)), h = stats(st.handoff), p = stats(intervalLate);
    const row = (name: string, s: ReturnType<typeof stats>): (string | number)[] => [name, s.n, ms(s.median), ms(s.p99), ms(s.max)];
    return {
      scenario: 'control-lateness',
      title: `${RATE_HZ} Hz for ${seconds} s with dit-m decoding (${decodes} decodes, ${threads || 'default'} ORT threads) and a 50 Hz publisher (${published} messages)`,
      columns: ['loop', 'ticks', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [row('tick worker (Atomics.wait), lateness', w), row('  + handoff to the link (main thread)', h), row('setInterval(2), interval error', p)],
      summary: {
        worker_p99_ms: ms(w.p99), worker_max_ms: ms(w.max), handoff_p99_ms: ms(h.p99), setinterval_p99_ms: ms(p.p99),
        goal_p99_le_0_5ms: ms(w.p99) <= 0.5, overruns: st.overruns, commands_sent: commands, chunk_requests: st.requests,
        final_state: sup.state,
      },
    };
  },
};
