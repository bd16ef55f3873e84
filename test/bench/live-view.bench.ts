/**
 * What the live view costs the daemon: a composed daemon (virtual firmware at 1 kHz STATE on a
 * PTY, in this process, 200 Hz control) with `liveView` on, and one Foxglove client connected that
 * alternates between subscribed to every channel and subscribed to none, in the same run. Per
 * condition: the control tick's wake-up lateness (tick thread, p50/p99), this thread's event loop
 * delay (where the records are built and sent, p99), CPU time of the process, and what reached the
 * client. SPINAL_BENCH_QUICK=1: 2 × 3 s per condition instead of 2 × 8 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon } from '../../edge/daemon.js';
import { FoxgloveTestClient } from '../../edge/live-view/testing/foxglove-test-client.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { waitFor, sleep } from '../e2e/link-harness.js';
import { stats, type BenchResult, type Scenario } from './harness.js';

const STATE_HZ = 1000;

interface Phase { lateness: number[]; loopDelayMs: number[]; cpuMs: number; wallMs: number; received: number }

export const scenario: Scenario = {
  name: 'live-view',
  description: 'live view cost: tick lateness and main-loop delay with a Foxglove client subscribed to every channel vs none, same run',
  async run(): Promise<BenchResult> {
    const phaseS = process.env.SPINAL_BENCH_QUICK === '1' ? 3 : 8;
    const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-live-'));
    const tty = join(dir, 'robot.tty');
    const robot = new VirtualRobot({ profile: 'arm6-gripper', stateRateHz: STATE_HZ, linkPath: tty });
    await robot.start();
    const config = parseEdgeConfig({
      robot: { id: 'r1', profile: 'arm6-gripper' }, serial: { path: tty, stateRateHz: STATE_HZ },
      control: { rateHz: 200, mainStallBoundMs: 2000 }, liveView: { port: 0 },
    }, 'bench');
    const d = await startEdgeDaemon(config, pino({ level: 'silent' }));
    const lv = d.liveView;
    const byCondition: Record<'none' | 'all', Phase[]> = { none: [], all: [] };
    let client: FoxgloveTestClient | null = null;
    try {
      if (!lv) throw new Error('live view not started');
      await waitFor('serial READY', () => d.link.state === 'READY', 10_000);
      client = await FoxgloveTestClient.connect(lv.url);
      const c = client;
      await waitFor('channels advertised', () => c.channels.size >= 10);
      const topics = [...c.channels.keys()];
      await sleep(1000); // settle: start-up work out of the first phase
      const h = monitorEventLoopDelay({ resolution: 1 });
      for (const cond of ['none', 'all', 'none', 'all'] as const) {
        const subs = cond === 'all' ? topics.map((t) => c.subscribe(t)) : [];
        if (cond === 'all') await waitFor('subscriptions', () => topics.every((t) => lv.wants(t)));
        const late0 = d.loop.stats().lateness.length;
        const got0 = c.received.length;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        h.reset();
        h.enable();
        await sleep(phaseS * 1000);
        h.disable();
        const cpu = process.cpuUsage(cpu0);
        const wallMs = performance.now() - t0;
        const lateness = Array.from(d.loop.stats().lateness.subarray(late0));
        byCondition[cond].push({ lateness, loopDelayMs: [h.percentile(50) / 1e6, h.percentile(99) / 1e6, h.max / 1e6], cpuMs: (cpu.user + cpu.system) / 1000, wallMs, received: c.received.length - got0 });
        for (const s of subs) c.unsubscribe(s);
        if (cond === 'all') await waitFor('unsubscribed', () => topics.every((t) => !lv.wants(t)));
      }
      const st = lv.stats();
      const rows = (['none', 'all'] as const).map((cond) => {
        const ps = byCondition[cond];
        const late = stats(ps.flatMap((p) => p.lateness));
        const wall = ps.reduce((a, p) => a + p.wallMs, 0);
        return [
          cond === 'all' ? 'subscribed to all' : 'subscribed to none',
          late.median / 1000, late.p99 / 1000, Math.max(...ps.map((p) => p.loopDelayMs[1] ?? 0)),
          (100 * ps.reduce((a, p) => a + p.cpuMs, 0)) / wall, ps.reduce((a, p) => a + p.received, 0) / (wall / 1000),
        ];
      });
      const [none, all] = rows;
      return {
        scenario: 'live-view',
        title: `live view cost, ${STATE_HZ} Hz STATE, 200 Hz control, 2 × ${phaseS} s per condition, alternating`,
        columns: ['client', 'tick lateness p50 ms', 'tick lateness p99 ms', 'main loop delay p99 ms (worst phase)', 'process CPU %', 'messages/s to client'],
        rows,
        summary: {
          latenessP99NoneMs: Number(none?.[2] ?? NaN), latenessP99AllMs: Number(all?.[2] ?? NaN),
          loopDelayP99NoneMs: Number(none?.[3] ?? NaN), loopDelayP99AllMs: Number(all?.[3] ?? NaN),
          cpuPercentNone: Number(none?.[4] ?? NaN), cpuPercentAll: Number(all?.[4] ?? NaN),
          dropped: st.dropped,
        },
        notes: [
          'the virtual firmware runs in the same process (its CPU is in the figures, identical for both conditions)',
          'robot IDLE (no brain): COMMANDs on the wire are the tick thread\'s holds, if any',
        ],
      };
    } finally {
      await client?.close();
      await d.close();
      await robot.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
