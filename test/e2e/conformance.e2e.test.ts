/**
 * `spinal conformance` against the virtual firmware (the C core through WebAssembly on a PTY):
 * every check passes against the firmware that ships, and each seeded firmware bug fails the check
 * that exists to catch it, naming the figure it measured. The passing run is two CLI processes, as
 * a firmware author runs them; the seeded faults run in this process with only the checks concerned.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runConformance, type CheckId, type ConformanceReport } from '../../edge/conformance/run-conformance.js';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import type { SeededFault } from '../../firmware-shim/virtual/seeded-faults.js';
import { getProfile } from '../../hardware/index.js';
import { ROOT, spinalArgv } from './spinal-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-conformance-'));
const children: ChildProcess[] = [];
let robot: VirtualRobot | null = null;

afterEach(async () => {
  await robot?.stop();
  robot = null;
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): { child: ChildProcess; out: string[]; exited: Promise<number | null> } {
  const child = spawnNodeChild(spinalArgv(...args), { cwd: ROOT, stdio: [stdin, 'pipe', 'pipe'] });
  children.push(child);
  const out: string[] = [];
  const keep = (d: Buffer): void => { out.push(...d.toString('utf8').split('\n').filter((l) => l.length > 0)); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exited };
}

/** Resolves with the first stdout line of `spinal sim` (the tty path). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`spinal sim exited (${code}) before printing its tty`)));
  });
}

describe('spinal conformance', () => {
  it('passes every check against `spinal sim` (the C core via WebAssembly), with its figures in the JSON report', async () => {
    const sim = start(['sim', '--profile', 'arm6-gripper']);
    const tty = await firstLine(sim.child);
    const json = join(dir, 'report.json');
    const run = start(['conformance', '--port', tty, '--profile', 'arm6-gripper', '--yes', '--json', json]);
    const code = await run.exited;
    expect(run.out.join('\n')).toContain('14 passed, 0 failed, 0 skipped');
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as ConformanceReport;
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      'handshake', 'version-refusal', 'config', 'state-rate', 'time-sync', 'line-errors', 'reset-token',
      'estop-cat0', 'estop-cat1', 'estop-cat2', 'malformed-estop', 'clamping', 'watchdog', 'faults',
    ].map((id) => [id, 'pass']));
    const fig = (id: string): Record<string, unknown> => report.checks.find((c) => c.id === id)?.figures ?? {};
    expect(fig('handshake')).toMatchObject({ protocol: '1.1' });
    expect(fig('state-rate')).toMatchObject({ configuredHz: getProfile('arm6-gripper').serial.stateRateHz, lostFrames: 0 });
    expect(fig('watchdog')).toMatchObject({ watchdogMs: getProfile('arm6-gripper').serial.watchdogMs, reason: 1, category: 1 });
    expect(fig('reset-token')).toMatchObject({ tokenSent: '0x5ec01234', detail: '0x5ec01234' });
    // What it was about to do was said before it did it.
    expect(run.out.findIndex((l) => l.includes('will:'))).toBeLessThan(run.out.findIndex((l) => l.includes('PASS')));
  }, 120_000); // two CLI processes start on a shared machine: tens of seconds under load

  it('without --yes and no terminal to ask on, it refuses before sending anything', async () => {
    const run = start(['conformance', '--port', join(dir, 'no-such-tty'), '--profile', 'arm6-gripper']);
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.out.join('\n')).toMatch(/pass --yes/);
    expect(run.out.join('\n')).toMatch(/move every joint at most 0\.05 rad/);
  }, 60_000);

  it('sends nothing when the operator does not confirm', async () => {
    robot = new VirtualRobot({ profile: 'arm6-gripper' });
    const { ttyPath } = await robot.start();
    await expect(runConformance({ port: ttyPath, profile: getProfile('arm6-gripper'), confirm: async () => false, out: () => undefined })).rejects.toThrow(/not confirmed/);
    expect(robot.mcu.counters.received).toEqual({});
  });

  const seeded: [SeededFault, CheckId, RegExp][] = [
    ['crc-polynomial', 'handshake', /no HELLO within 1000 ms; all \d+ segments received failed the CRC-32C check/],
    ['no-watchdog', 'watchdog', /no watchdog ESTOP within \d+ ms of host silence \(watchdog_ms \d+\)/],
    ['estop-not-latched', 'estop-cat1', /latch/i],
    ['reset-token-ignored', 'reset-token', /ACK detail 0x0, token sent 0x5ec01234/],
    ['limits-not-clamped', 'clamping', /joint \d+ reached -?\d+ counts, \d+ beyond its CONFIG limit/],
    ['state-rate-short', 'state-rate', /STATE at \d+\.\d Hz by the MCU clock, CONFIG asked \d+ Hz \(-(19|20)\.\d %\)/],
  ];
  it.each(seeded)('a firmware with seeded fault %s fails check %s, naming the figure', async (fault, check, detail) => {
    robot = new VirtualRobot({ profile: 'arm6-gripper', seededFault: fault });
    const { ttyPath } = await robot.start();
    const report = await runConformance({ port: ttyPath, profile: getProfile('arm6-gripper'), only: [check], confirm: async () => true, out: () => undefined });
    const r = report.checks.find((c) => c.id === check);
    expect(r?.status, JSON.stringify(report.checks)).toBe('fail');
    expect(r?.detail).toMatch(detail);
    // Only that check: the others that ran passed (or were skipped because the handshake failed).
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([check]);
  });
});
