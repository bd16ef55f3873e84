/**
 * The edge daemon's main thread blocked for 1 s (a busy loop inside the daemon, by its test hook)
 * while the robot moves. The daemon runs in this process; the virtual firmware runs as `spinal sim`
 * in a child process, so its MCU watchdog keeps real time while the daemon's event loop is stuck.
 * The tick thread owns the wire: it must bring the robot to a controlled stop and keep the MCU
 * watchdog fed; once the loop is back the supervisor holds (a transition naming the stall) until an
 * operator resumes. How long the stop took is the benchmark's business, not an assertion here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { blockMainThread } from '../../edge/control/stall-hook.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import type { TransitionEvent } from '../../edge/safety/safety-types.js';
import { Status } from '../../proto/wire/index.js';
import { sleep, waitFor } from './link-harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOKS = new URL('../../edge/decoder/worker-ts-hooks.mjs', import.meta.url).href;
const IMPORT_HOOKS = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(HOOKS)})`;

const dir = mkdtempSync(join(tmpdir(), 'spinal-stall-'));
let sim: ChildProcess | null = null;
let brain: BrainServer | null = null;
let daemon: EdgeDaemon | null = null;
const killSim = (): void => { if (sim && sim.exitCode === null && sim.signalCode === null) sim.kill('SIGKILL'); };
process.once('exit', killSim);
afterAll(async () => {
  await daemon?.close();
  await brain?.stop();
  if (sim && sim.exitCode === null && sim.signalCode === null) {
    const exited = new Promise((r) => sim?.once('exit', r));
    killSim();
    await exited;
  }
  process.off('exit', killSim);
  rmSync(dir, { recursive: true, force: true });
});

describe('edge daemon with a blocked main thread', () => {
  it('the tick thread stops the robot in a controlled way and feeds the MCU watchdog; the stall is named and the robot stays stopped until resumed', async () => {
    const ttyPath = join(dir, 'robot.tty');
    const simOut: string[] = [];
    sim = spawn(process.execPath, ['--import', IMPORT_HOOKS, join(ROOT, 'bin/spinal.ts'), 'sim', '--profile', 'arm6-gripper', '--link', ttyPath, '--rate', '500'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer): void => { simOut.push(...d.toString('utf8').split('\n').filter((l) => l.length > 0)); };
    sim.stdout?.on('data', keep);
    sim.stderr?.on('data', keep);
    await waitFor('the virtual firmware on its tty', () => simOut.length > 0, 60_000);

    brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: new ReferenceBackend(), planValidityMs: 2000 });
    const config = parseEdgeConfig({
      robot: { id: 'r1', profile: 'arm6-gripper' },
      // This machine is shared (and the sim is a process of its own): like the demo, a 300 ms MCU
      // watchdog and stall bound, so only the 1 s stall below counts; a 1 s silence on the wire
      // would still trip that watchdog three times over.
      serial: { path: ttyPath, watchdogMs: 300 },
      control: { rateHz: 200, policy: 'crossfade', stepMs: 20, mainStallBoundMs: 300 },
      cloud: { target: `127.0.0.1:${brain.port}`, observationRateHz: 10 },
    }, 'test');
    daemon = await startEdgeDaemon(config, pino({ level: 'silent' }));
    const d = daemon;
    const transitions: TransitionEvent[] = [];
    d.supervisor.on('transition', (e) => transitions.push(e));
    let watchdogSeen = false, mcuEstops = 0;
    d.link.on('state', (ev) => { if ((ev.msg.status & Status.WATCHDOG_TRIPPED) !== 0) watchdogSeen = true; });
    d.link.on('mcu-estop', () => { mcuEstops++; });
    const stalls: { stalledMs: number }[] = [];
    d.loop.on('main-stalled', (e) => stalls.push(e));
    await waitFor('serial READY and safety IDLE', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE', 20_000);
    await waitFor('cloud session ACTIVE', () => d.cloud?.linkState === 'ACTIVE', 10_000);

    // Moving: a task, a plan, a resume.
    await brain.setTask('r1', 'joints 0.8 0 -0.6 0 0 0 0');
    await waitFor('a plan for the task', () => (d.cloud?.currentPlan()?.taskId ?? '') !== '', 10_000);
    const resume = (): boolean => d.supervisor.resume({ id: 'alice', role: 'operator' });
    const refusals: string[] = [];
    d.supervisor.on('refused', (e) => refusals.push(`${e.reason}: ${e.detail}`));
    await waitFor('resumed', resume, 5000).catch((e: Error) => {
      throw new Error(`${e.message}; state ${d.supervisor.state}; refusals ${refusals.slice(-2).join(' | ')}; transitions ${transitions.map((x) => `${x.to}:${x.cause}`).join(' ')}; sim ${simOut.slice(-3).join(' | ')}`);
    });
    const sent = (): number[] => Array.from(d.loop.gate.lastSent.position);
    const start = sent();
    await waitFor('commands moving joint 0', () => Math.abs((sent()[0] as number) - (start[0] as number)) > 0.05, 10_000).catch((e: Error) => {
      throw new Error(`${e.message}; state ${d.supervisor.state}; start ${start.join(',')} now ${sent().join(',')}; transitions ${transitions.map((x) => `${x.to}:${x.cause}:${x.detail}`).join(' ')}; sim ${simOut.slice(-3).join(' | ')}`);
    });
    expect(d.supervisor.state).toBe('ACTIVE');
    const framesBefore = d.link.health().framesSent;

    // The stall: 1 s with this (the daemon's main) thread busy.
    blockMainThread(1000);
    await waitFor('the stall taken over', () => stalls.length > 0, 5000);
    expect(stalls[0]?.stalledMs).toBeGreaterThan(300);
    expect(d.supervisor.state, transitions.map((x) => `${x.to}:${x.cause}:${x.detail}`).join(' ')).toBe('HOLD');
    expect(d.supervisor.holdReason).toBe('control-stalled');
    const t = transitions.find((e) => e.cause === 'control-stalled');
    expect(t?.detail).toMatch(/main event loop stalled for \d+ ms/);
    // The tick thread kept writing during the stall: the MCU watchdog never tripped, no MCU e-stop.
    expect(d.link.health().framesSent - framesBefore).toBeGreaterThan(100);
    await sleep(300);
    expect(watchdogSeen).toBe(false);
    expect(mcuEstops).toBe(0);
    expect(simOut.some((l) => l.includes('watchdog tripped'))).toBe(false);

    // Stopped and staying so: the commands hold one position while plans keep arriving.
    const held = sent();
    const heldCount = d.loop.gate.lastSent.count;
    await sleep(500);
    // (CI once saw every joint at 0 here: the message says whether the gate was reset, e.g. by a
    // reconnection of the link, or a command really went out.)
    expect(sent(), `commands sent ${heldCount} → ${d.loop.gate.lastSent.count}, link ${d.link.state}, transitions ${transitions.map((x) => `${x.to}:${x.cause}`).join(' ')}, sim ${simOut.slice(-3).join(' | ')}`).toEqual(held);
    expect(d.supervisor.state).toBe('HOLD');
    // Until an operator resumes.
    expect(resume()).toBe(true);
    await waitFor('moving again after resume', () => sent().some((q, j) => q !== held[j]), 5000);
  }, 120_000);
});
