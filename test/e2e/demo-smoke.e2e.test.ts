/**
 * `npm start` smoke test: the demo (compiled dist/, as `npm start` runs it; see spinal-cli.ts) brings up its
 * brain, broker, virtual robots and edge daemons; every robot goes ACTIVE and sends motion within a
 * bounded time; the dashboard it prints answers and its operator login works; the live view it
 * prints for a robot streams STATE to a Foxglove client; SIGINT stops
 * everything cleanly and leaves no process behind.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { FoxgloveTestClient } from '../../edge/live-view/testing/foxglove-test-client.js';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import { Topic } from '../../proto/recording/channels.js';
import { waitFor } from './link-harness.js';
import { ROOT, spinalArgv } from './spinal-cli.js';


let demo: ChildProcess | null = null;
afterAll(() => {
  if (demo && demo.exitCode === null) demo.kill('SIGKILL');
});

/** Processes whose command line mentions `needle` (this demo's temporary folder). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) pids.push(Number(e));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

describe('npm start (spinal demo)', () => {
  it('runs a fleet whose robots all go ACTIVE and move, and stops cleanly on SIGINT', async () => {
    const dropped = new Set(['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'NODE_OPTIONS']);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped.has(k)));
    demo = spawnNodeChild(spinalArgv('demo', '--robots', '2'), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    let all = '';
    demo.stdout?.on('data', (d: Buffer) => {
      const s = d.toString('utf8');
      all += s;
      const frame = s.lastIndexOf('\x1b[2J');
      screen = frame >= 0 ? s.slice(frame) : screen + s;
    });
    demo.stderr?.on('data', (d: Buffer) => { all += d.toString('utf8'); });
    const d = demo;
    const rows = (): string[] => screen.split('\n').filter((l) => /^robot\d/.test(l));
    await waitFor('both robots ACTIVE and sending', () => {
      if (d.exitCode !== null) throw new Error(`the demo exited with code ${d.exitCode}`);
      const r = rows();
      return r.length === 2 && r.every((l) => /ACTIVE\s+READY/.test(l) && !l.includes('nothing sent'));
    }, 100_000).catch((e: Error) => { throw new Error(`${e.message}\n--- demo output ---\n${all.slice(-3000)}`); });
    const logs = /logs: (\S+)/.exec(screen)?.[1];
    expect(logs).toBeDefined();
    expect(processesMentioning(logs as string).length).toBeGreaterThanOrEqual(5); // brain + 2 sims + 2 edges

    // The dashboard URL and logins it printed work: the page loads and the operator logs in.
    const dash = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/) — log in as operator \/ (\w+) \(commands\) or viewer \/ (\w+)/.exec(all);
    expect(dash, all.slice(-2000)).not.toBeNull();
    const [, url, opPassword] = dash as RegExpExecArray;
    expect((await fetch(url as string)).status).toBe(200);
    const login = await fetch(`${url as string}api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'operator', password: opPassword }) });
    expect(await login.json()).toMatchObject({ user: 'operator', role: 'operator', fleet: 'demo', robots: ['robot1', 'robot2'], mqttUrl: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/) });

    // The live view it printed for robot1 serves its STATE to a Foxglove client.
    const lvUrl = /robot1 (ws:\/\/127\.0\.0\.1:\d+)/.exec(screen)?.[1];
    expect(lvUrl, screen).toBeDefined();
    const fox = await FoxgloveTestClient.connect(lvUrl as string);
    await waitFor('live view channels', () => fox.channels.has(Topic.state));
    fox.subscribe(Topic.state);
    await waitFor('STATE records from robot1\'s live view', () => fox.count(Topic.state) >= 10, 10_000);
    await fox.close();

    d.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => d.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(all).toContain('spinal demo: stopped');
    expect(processesMentioning(logs as string)).toEqual([]);
  }, 150_000);
});
