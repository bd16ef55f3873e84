/**
 * Cost of one 1 kHz loop of the virtual firmware, which runs the C MCU core in WebAssembly.
 *
 * Each simulated millisecond: the host's COMMAND (200 Hz, POSITION, as the edge's control loop
 * sends them) when one is due, then `tick()`, which runs the firmware loop, steps the plant 1 ms
 * and emits a 1 kHz STATE.
 *
 * The peer is the TypeScript twin of the firmware's rules that the C core replaced: before the twin
 * was removed both ran here side by side (same profile, plant seed and byte stream, alternating
 * blocks of loops so other processes' load fell on both alike). That run's figures are kept in
 * TWIN_RUN and printed next to this run's; only their ratio is a same-run comparison.
 */
import { cpus, loadavg } from 'node:os';
import { getProfile, Plant, radToCounts, type RobotProfile } from '../../hardware/index.js';
import { Mcu, type McuOptions } from '../../firmware-shim/virtual/mcu.js';
import { CommandMode, FrameEncoder, MsgType, newMessage } from '../../proto/wire/index.js';
import { nowNs, stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const BLOCK_TICKS = 1000;
const BLOCKS = Number(process.env.SPINAL_MCU_BLOCKS ?? 30);
const WARMUP_BLOCKS = 3;
const COMMAND_EVERY_MS = 5;
const BLOCKS_RECORDED = 30;

interface Driven { boot(t: number): void; tick(t: number): void; handleBytes(b: Uint8Array, t: number): void; readonly counters: { stateSent: number; commandsObeyed: number } }
interface Impl { name: string; make(o: McuOptions): Driven }

const IMPLS: Impl[] = [{ name: 'C core (WebAssembly)', make: (o) => new Mcu(o) }];

/** The side-by-side run of 2026-12-03, 30 × 1000 loops each (load average 20 on 2 CPUs, shared):
 * p50 and p99 µs per loop. */
const TWIN_RUN: Record<string, { wasm: [number, number]; twin: [number, number] }> = {
  'arm6-gripper': { wasm: [2.405, 19.1], twin: [2.315, 18.5] },
  quadruped12: { wasm: [3.627, 21.0], twin: [3.457, 18.0] },
};

/** One MCU on a manual clock with its CONFIG accepted and motion enabled. */
function setup(impl: Impl, profile: RobotProfile): { mcu: Driven; step(): number } {
  const plant = new Plant(profile, { seed: 3 });
  let sink = 0;
  const mcu = impl.make({ profile, plant, stateRateHz: 1000, send: (b, n) => { sink += b[n - 1] as number; } });
  const host = new FrameEncoder();
  let now = 1_000_000;
  mcu.boot(now);
  const n = profile.joints.length;
  const cfg = newMessage(MsgType.CONFIG);
  cfg.jointCount = n;
  profile.joints.forEach((j, i) => {
    const a = radToCounts(j, j.limits.positionMin), b = radToCounts(j, j.limits.positionMax);
    // A single-turn arc across the encoder's wrap has no ordered pair: the whole sensor range.
    const wraps = j.encoder.singleTurn && (j.encoder.direction > 0 ? a > b : b > a);
    cfg.posMin[i] = wraps ? 0 : Math.min(a, b); cfg.posMax[i] = wraps ? j.encoder.countsPerRev - 1 : Math.max(a, b);
    cfg.velMax[i] = 1e6; cfg.currentMax[i] = 100;
  });
  mcu.handleBytes(host.encode(MsgType.CONFIG, cfg, 0), now);
  const cmd = newMessage(MsgType.COMMAND);
  cmd.jointCount = n; cmd.mode = CommandMode.POSITION;
  const home = profile.poses['home'] as number[];
  let ms = 0;
  return {
    mcu,
    /** One simulated millisecond; returns its cost in ns. */
    step(): number {
      now += 1000;
      ms++;
      // A slow sine around home: every joint moves, nothing reaches a limit.
      let frame: Uint8Array | null = null;
      if (ms % COMMAND_EVERY_MS === 0) {
        profile.joints.forEach((j, i) => { cmd.position[i] = radToCounts(j, (home[i] as number) + 0.2 * Math.sin(ms / 500 + i)); });
        frame = host.encode(MsgType.COMMAND, cmd, 0);
      }
      const t0 = nowNs();
      if (frame) mcu.handleBytes(frame, now);
      mcu.tick(now);
      const dt = nowNs() - t0;
      return dt + (sink & 0); // keep the sink alive
    },
  };
}

export const scenario: Scenario = {
  name: 'mcu-core',
  description: 'virtual firmware cost per 1 kHz loop (STATE at 1 kHz, COMMAND at 200 Hz): C core in WebAssembly, against the recorded TS twin',
  async run(): Promise<BenchResult> {
    const load = loadavg()[0] ?? Number.NaN;
    const rows: Cell[][] = [];
    const summary: Record<string, number | string | boolean> = {};
    for (const id of ['arm6-gripper', 'quadruped12']) {
      const profile = getProfile(id);
      const rigs = IMPLS.map((impl) => ({ impl, rig: setup(impl, profile), samples: [] as number[] }));
      for (let b = 0; b < BLOCKS + WARMUP_BLOCKS; b++) {
        for (const r of rigs) {
          for (let k = 0; k < BLOCK_TICKS; k++) {
            const ns = r.rig.step();
            if (b >= WARMUP_BLOCKS) r.samples.push(ns / 1000);
          }
        }
      }
      const figures = rigs.map((r) => ({ name: r.impl.name, s: stats(r.samples), c: r.rig.mcu.counters }));
      for (const f of figures) {
        if (f.c.stateSent < BLOCKS * BLOCK_TICKS || f.c.commandsObeyed === 0) throw new Error(`${f.name} on ${id}: ${f.c.stateSent} STATE, ${f.c.commandsObeyed} COMMANDs obeyed: not the workload meant`);
        rows.push([id, f.name, f.s.n, f.s.median, f.s.p99, f.s.mean, f.s.max]);
      }
      const rec = TWIN_RUN[id];
      if (rec) {
        rows.push([id, 'C core (WebAssembly), recorded', BLOCKS_RECORDED * BLOCK_TICKS, rec.wasm[0], rec.wasm[1], '-', '-']);
        rows.push([id, 'TS twin, recorded (removed)', BLOCKS_RECORDED * BLOCK_TICKS, rec.twin[0], rec.twin[1], '-', '-']);
        summary[`${id}: recorded p50 WASM / TS twin`] = rec.wasm[0] / rec.twin[0];
        summary[`${id}: recorded p99 WASM / TS twin`] = rec.wasm[1] / rec.twin[1];
      }
      const now = figures[0];
      if (now) {
        summary[`${id}: p50 µs`] = now.s.median;
        summary[`${id}: p99 µs`] = now.s.p99;
      }
    }
    return {
      scenario: 'mcu-core',
      title: `virtual firmware: µs per 1 kHz loop with STATE at 1 kHz and COMMAND at 200 Hz, ${BLOCKS} × ${BLOCK_TICKS} loops each`,
      columns: ['profile', 'firmware', 'n', 'p50 µs', 'p99 µs', 'mean µs', 'max µs'],
      rows,
      summary,
      notes: [
        'a loop = handleBytes(COMMAND) when one is due + tick(): firmware rules, 1 ms of plant physics, STATE sampled and encoded',
        '"recorded" rows: the C core and the TS twin it replaced, measured side by side in one run before the twin was removed',
        `1-minute load average at the start: ${load.toFixed(2)} on ${cpus().length} CPUs (shared machine)`,
      ],
    };
  },
};
