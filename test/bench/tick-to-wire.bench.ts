/**
 * Tick-to-wire lateness at 500 Hz: from each tick's absolute deadline to the moment its COMMAND's
 * last byte was handed to the kernel (fs.writeSync returned). Three control loops run side by side
 * in the same process and the same run, each writing to its own line:
 * - "tick thread owns the wire": the tick worker gates and writes the COMMAND itself (SharedWire);
 * - the same with the hybrid wait: the tick thread sleeps until SPINAL_BENCH_TICK_SPIN_US (default
 *   300) before each deadline and polls the clock from there; its thread's CPU is reported beside;
 * - "today's path": the tick worker publishes the target, the main thread (Atomics.waitAsync)
 *   gates it and writes it (the same FrameWriter and writeSync, so only the hand-off differs).
 * Load, as in control-lateness: dit-m decoding back to back in a WorkerDecoder (1 ORT thread), a
 * 50 Hz telemetry stand-in (JSON to a Unix socket) and a 1 kHz observation feed on the main thread.
 * Then the same again with a CPU hog: one busy-looping process per core, started and stopped here.
 * The line is a file (page cache) in the OS temp folder: what is measured is the path to the
 * kernel, not a UART. SPINAL_BENCH_QUICK=1 runs 10 s per phase instead of 60 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../edge/clock.js';
import { ControlLoop } from '../../edge/control/control-loop.js';
import { FakeDecoder } from '../../edge/control/testing/fake-decoder.js';
import { WorkerDecoder } from '../../edge/decoder/index.js';
import { ObservationBuffer, Slot } from '../../edge/estimation/observation-buffer.js';
import { SafetySupervisor } from '../../edge/safety/safety-supervisor.js';
import { FrameKind, FrameWriter, SharedWire, Writer } from '../../edge/serial/shared-wire.js';
import { getProfile } from '../../hardware/index.js';
import { AckResult, MsgType, type AckMsg, type CommandMsg } from '../../proto/wire/index.js';
import { benchEmitter, stepModel } from './decoder-models.js';
import { stats, type BenchResult, type Scenario, type Stats } from './harness.js';

const RATE_HZ = 500;
const ms = (us: number): number => us / 1000;

/** Whether thread `tid` of this process runs under SCHED_FIFO (field 41 of its stat). */
function realtime(tid: number): boolean {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38] === '1';
  } catch {
    return false;
  }
}

function socketPair(dir: string): Promise<{ a: Socket; close(): void }> {
  const path = join(dir, 's.sock');
  return new Promise((resolve) => {
    let a: Socket;
    const server = createServer((b) => {
      b.on('data', () => {});
      resolve({ a, close: () => { a.destroy(); b.destroy(); server.close(); } });
    });
    server.listen(path, () => { a = createConnection(path); });
  });
}

/** One busy-looping process per core; they die with this process (stdin closes) or on stop(). */
function startHogs(n: number): { stop(): Promise<void> } {
  const code = "process.stdin.on('close',()=>process.exit(0));process.stdin.resume();setImmediate(function spin(){const e=Date.now()+50;while(Date.now()<e){}setImmediate(spin);});";
  const kids: ChildProcess[] = [];
  for (let i = 0; i < n; i++) kids.push(spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'ignore', 'ignore'] }));
  return {
    async stop() {
      await Promise.all(kids.map((k) => new Promise<void>((resolve) => {
        if (k.exitCode !== null || k.signalCode !== null) return resolve();
        k.once('exit', () => resolve());
        k.kill('SIGKILL');
      })));
    },
  };
}

interface Line { wire: SharedWire; fd: number }

const CLK_TCK = 100;
/** CPU seconds (user + system) of one thread of this process, from /proc; NaN when unknown. */
function threadCpuS(tid: number | null): number {
  if (tid === null) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}
function openLine(dir: string, name: string): Line {
  const fd = openSync(join(dir, name), 'w');
  const wire = SharedWire.create();
  wire.setFd(fd);
  wire.setReady(true);
  return { wire, fd };
}

async function makeLoop(owner: 'tick' | 'main', line: Line, obs: ObservationBuffer, seconds: number, spinUs = 0): Promise<{ loop: ControlLoop; sup: SafetySupervisor }> {
  const profile = getProfile('arm6-gripper');
  const n = profile.joints.length;
  const writer = new FrameWriter(line.wire, Writer.MAIN, () => systemClock.nowUs());
  const sink = {
    sendCommand: (c: CommandMsg): boolean => writer.write(MsgType.COMMAND, c, FrameKind.MOTION) >= 0,
    sendEstop: (): boolean => true,
    sendReset: (): Promise<AckMsg> => Promise.resolve({ result: AckResult.OK } as AckMsg),
  };
  const sup = new SafetySupervisor(sink, systemClock);
  const chunks = new FakeDecoder(systemClock, 16, n, 20, (_r, h, j) => 0.002 * (h + 1) * ((j % 3) - 1));
  const loop = new ControlLoop({
    profile, rateHz: RATE_HZ, decoder: chunks, observation: obs, link: sink, supervisor: sup, latent: () => new Float32Array(n + 1),
    scheduler: { horizon: 16, stepUs: 20_000, policy: 'crossfade' }, latenessCapacity: 2 * seconds * RATE_HZ + 5000,
    // The bench measures lateness; a loaded main thread must not put the tick-owned loop in HOLD.
    ...(owner === 'tick' ? { wire: line.wire, mainStallBoundMs: 10_000, tickSpinUs: spinUs } : {}),
  });
  await loop.start();
  sup.linkReady();
  sup.planReceived(systemClock.nowUs() + (4 * seconds + 60) * 1e6);
  return { loop, sup };
}

export const scenario: Scenario = {
  name: 'tick-to-wire',
  description: 'tick deadline → COMMAND written at 500 Hz: tick thread owns the wire vs today\'s main-thread hand-off, with dit-m decoding and 50 Hz telemetry, then with a CPU hog on every core',
  async run(): Promise<BenchResult> {
    const seconds = process.env.SPINAL_BENCH_QUICK === '1' ? 10 : 60;
    const dir = mkdtempSync(join(tmpdir(), 'spinal-t2w-'));
    const n = getProfile('arm6-gripper').joints.length;
    const threads = Number(process.env.SPINAL_BENCH_DECODER_THREADS ?? 1);
    const dit = await WorkerDecoder.load({ bytes: stepModel(benchEmitter('dit-m', { horizon: 16, actionDim: 7 })), ...(threads > 0 ? { intraOpThreads: threads } : {}) });
    let decoding = true, decodes = 0;
    const latent = new Float32Array(dit.info.spec.latentDim), state = new Float32Array(dit.info.spec.stateDim);
    const decodeLoop = (async () => { while (decoding) { const o = await dit.decode({ latent, state }, { supersede: false }).outcome; if (o.status === 'done') decodes++; } })();
    const pair = await socketPair(dir);
    const obs = ObservationBuffer.create(n);
    let published = 0;
    const publisher = setInterval(() => {
      pair.a.write(JSON.stringify({ t: Date.now(), q: Array.from(obs.position), v: Array.from(obs.velocity), state: 'ACTIVE', seq: published++ }));
    }, 20);
    const feed = setInterval(() => {
      obs.beginWrite();
      obs.slots[Slot.SAMPLE_COUNT] = (obs.slots[Slot.SAMPLE_COUNT] ?? 0) + 1;
      obs.slots[Slot.HOST_TIME_US] = systemClock.nowUs();
      obs.endWrite();
    }, 1);
    const spinUs = Number(process.env.SPINAL_BENCH_TICK_SPIN_US ?? 300);
    const tickLine = openLine(dir, 'tick.bin'), spinLine = openLine(dir, 'spin.bin'), mainLine = openLine(dir, 'main.bin');
    const a = await makeLoop('tick', tickLine, obs, seconds);
    const c = await makeLoop('tick', spinLine, obs, seconds, spinUs);
    const b = await makeLoop('main', mainLine, obs, seconds);
    await new Promise((r) => setTimeout(r, 300));
    for (const l of [a, b, c]) l.sup.resume({ id: 'bench', role: 'operator' });

    interface Phase { tick: Stats; spin: Stats; main: Stats; late: Stats; spinLate: Stats; tickCpu: number; spinCpu: number; mainTickCpu: number }
    const phase = async (): Promise<Phase> => {
      const skipA = a.loop.stats().wire.length, skipB = b.loop.stats().wire.length, skipC = c.loop.stats().wire.length;
      const skipL = a.loop.stats().lateness.length, skipLC = c.loop.stats().lateness.length;
      const cpu0 = [a, c, b].map((l) => threadCpuS(l.loop.tickThreadId)), t0 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const secs = (performance.now() - t0) / 1000;
      const cpu = [a, c, b].map((l, i) => ((threadCpuS(l.loop.tickThreadId) - (cpu0[i] as number)) / secs) * 100);
      return {
        tick: stats(a.loop.stats().wire.subarray(skipA)), spin: stats(c.loop.stats().wire.subarray(skipC)), main: stats(b.loop.stats().wire.subarray(skipB)),
        late: stats(a.loop.stats().lateness.subarray(skipL)), spinLate: stats(c.loop.stats().lateness.subarray(skipLC)),
        tickCpu: cpu[0] as number, spinCpu: cpu[1] as number, mainTickCpu: cpu[2] as number,
      };
    };
    const quiet = await phase();
    const cores = cpus().length;
    const hogs = startHogs(cores);
    const hogged = await phase();
    await hogs.stop();
    const states = `${a.sup.state}/${c.sup.state}/${b.sup.state}`;
    const rt = a.loop.tickThreadId !== null && realtime(a.loop.tickThreadId);
    await a.loop.stop();
    await b.loop.stop();
    await c.loop.stop();
    clearInterval(publisher); clearInterval(feed);
    decoding = false;
    await decodeLoop;
    await dit.close();
    pair.close();
    closeSync(tickLine.fd); closeSync(spinLine.fd); closeSync(mainLine.fd);
    rmSync(dir, { recursive: true, force: true });

    const row = (name: string, s: Stats, cpu?: number): (string | number)[] => [name, s.n, ms(s.median), ms(s.p99), ms(s.max), cpu ?? ''];
    return {
      scenario: 'tick-to-wire',
      title: `${RATE_HZ} Hz, ${seconds} s per phase, dit-m decoding (${decodes} decodes, ${threads || 'default'} ORT threads), 50 Hz telemetry (${published} messages); hog: ${cores} busy processes`,
      columns: ['path (deadline → COMMAND written)', 'commands', 'p50 ms', 'p99 ms', 'max ms', 'tick thread CPU %'],
      rows: [
        row('tick thread owns the wire', quiet.tick, quiet.tickCpu), row(`tick thread, hybrid wait (poll the last ${spinUs} µs)`, quiet.spin, quiet.spinCpu),
        row("today's path (main-thread hand-off)", quiet.main, quiet.mainTickCpu),
        row('  tick wake lateness (for reference)', quiet.late), row('  hybrid wait: wake lateness', quiet.spinLate),
        row('CPU hog: tick thread owns the wire', hogged.tick, hogged.tickCpu), row(`CPU hog: hybrid wait (${spinUs} µs)`, hogged.spin, hogged.spinCpu),
        row("CPU hog: today's path", hogged.main, hogged.mainTickCpu),
        row('CPU hog: tick wake lateness', hogged.late), row('CPU hog: hybrid wait: wake lateness', hogged.spinLate),
      ],
      summary: {
        tick_p99_ms: ms(quiet.tick.p99), main_p99_ms: ms(quiet.main.p99), p99_ratio_main_over_tick: quiet.main.p99 / quiet.tick.p99,
        tick_p50_ms: ms(quiet.tick.median), main_p50_ms: ms(quiet.main.median),
        hog_tick_p99_ms: ms(hogged.tick.p99), hog_main_p99_ms: ms(hogged.main.p99), hog_p99_ratio_main_over_tick: hogged.main.p99 / hogged.tick.p99,
        goal_tick_p99_le_0_3ms: ms(quiet.tick.p99) <= 0.3, goal_hog_tick_p99_le_0_3ms: ms(hogged.tick.p99) <= 0.3,
        spin_us: spinUs, spin_p99_ms: ms(quiet.spin.p99), hog_spin_p99_ms: ms(hogged.spin.p99),
        tick_cpu_pct: quiet.tickCpu, spin_cpu_pct: quiet.spinCpu, hog_tick_cpu_pct: hogged.tickCpu, hog_spin_cpu_pct: hogged.spinCpu,
        tick_threads_sched_fifo: rt,
        final_states: states,
      },
      notes: [
        'the machine is shared with other work while this runs: compare the paths within the run, not across runs',
        `the three loops run at once, each with its own tick thread (SCHED_FIFO when permitted: ${String(rt)}); tick thread CPU is % of one core from /proc/self/task`,
      ],
    };
  },
};
