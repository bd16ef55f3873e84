/**
 * The flight recorder in the composed daemon against the virtual robot and the reference brain:
 * a recorded session read back holds every STATE the estimator consumed and every COMMAND the tick
 * thread put on the wire, in order; episodes follow the brain's tasks and end on an e-stop; and with
 * full recording off, an e-stop still saves the black box.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import { newObservation } from '../../edge/estimation/observation.js';
import { listRecordings } from '../../edge/recording/disk-quota.js';
import { readAllMessages, type ReadMessage } from '../../edge/recording/read-recording.js';
import { Topic, type EpisodeRecord } from '../../proto/recording/channels.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { waitFor } from './link-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-recorder-'));
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function startRobot(name: string): Promise<{ robot: VirtualRobot; tty: string }> {
  const tty = join(dir, `${name}.tty`);
  const robot = new VirtualRobot({ profile: 'arm6-gripper', stateRateHz: 500, linkPath: tty });
  await robot.start();
  cleanups.push(() => robot.stop());
  return { robot, tty };
}

async function readDir(recDir: string, blackBox: boolean): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  // In write order (each file's sequence numbers): the indexed reader sorts by log time, the host
  // time of each message, which may step back a little when time sync corrects its estimate.
  for (const f of listRecordings(recDir).filter((x) => x.name.includes('-blackbox-') === blackBox)) {
    out.push(...(await readAllMessages(join(recDir, f.name))).messages.sort((a, b) => a.sequence - b.sequence));
  }
  return out;
}

describe('flight recorder in the daemon', () => {
  it('records every STATE and COMMAND in order, episodes split by task change and ended by an e-stop', async () => {
    const { robot, tty } = await startRobot('a');
    const brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: new ReferenceBackend(), planValidityMs: 800, drainTimeoutMs: 200 });
    cleanups.push(() => brain.stop());
    const recDir = join(dir, 'rec-a');
    const config = parseEdgeConfig({
      robot: { id: 'r1', profile: 'arm6-gripper' },
      serial: { path: tty },
      control: { rateHz: 200, policy: 'crossfade', stepMs: 20, mainStallBoundMs: 2000 },
      cloud: { target: `127.0.0.1:${brain.port}`, observationRateHz: 10 },
      recording: { enabled: true, dir: recDir, chunkBytes: 64 * 1024 },
    }, 'test');
    const d: EdgeDaemon = await startEdgeDaemon(config, pino({ level: 'silent' }));
    let closed = false;
    cleanups.push(() => (closed ? Promise.resolve() : d.close()));
    await waitFor('serial READY and safety IDLE', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE' && d.supervisor.mcuLatch !== 'unknown', 10_000);
    await waitFor('cloud session ACTIVE', () => d.cloud?.linkState === 'ACTIVE', 10_000);
    const start = Array.from(robot.plant.truth.q);
    const goal = start.slice();
    goal[0] = 0.3;
    brain.setTask('r1', `joints ${goal.map((q) => q.toFixed(3)).join(' ')}`);
    await waitFor('a plan for the task', () => (d.cloud?.currentPlan()?.taskId ?? '') !== '', 5000);
    expect(d.supervisor.resume({ id: 'alice', role: 'operator' })).toBe(true);
    await waitFor('commands flowing', () => d.loop.stats().sent > 100, 10_000);
    expect(d.recorder.mark({ outcome: 'intervention', end: false, operator: 'alice', note: 'nudged' })).toEqual({ accepted: true, episode: 1 });
    brain.setTask('r1', `joints ${start.map((q) => q.toFixed(3)).join(' ')}`);
    await waitFor('episode 2 open', () => d.recording.episodes.current === 2, 5000);
    const sentBefore = d.loop.stats().sent;
    await waitFor('more commands', () => d.loop.stats().sent > sentBefore + 100, 10_000);
    const blackBox = new Promise<{ path: string | null }>((resolve) => d.recording.recorder?.once('blackbox', resolve));
    d.supervisor.remoteEstop({ scope: 'robot', category: 1, operator: 'alice', malformed: false });
    await waitFor('safety ESTOP', () => d.supervisor.state === 'ESTOP', 2000);
    expect((await blackBox).path).toMatch(/blackbox-ESTOP-remote-estop\.mcap$/);
    expect(d.recorder.status()).toMatchObject({ recording: true, episode: null, blackBoxSaves: 1, dropped: 0, error: null });

    closed = true;
    await d.close();
    const snap = newObservation(d.estimator.jointCount);
    d.estimator.read(snap);
    const commandsSent = d.link.health().commandsSent;

    const msgs = await readDir(recDir, false);
    const states = msgs.filter((m) => m.topic === Topic.state);
    const commands = msgs.filter((m) => m.topic === Topic.command);
    // Every STATE the estimator consumed, each once, in the MCU's order.
    expect(states.length).toBe(snap.sampleCount);
    expect(states.length).toBe(d.recording.taps.states);
    for (let i = 1; i < states.length; i++) expect(states[i]?.message.mcuUs as number).toBeGreaterThan(states[i - 1]?.message.mcuUs as number);
    // Every COMMAND on the wire, each once, in wire order.
    expect(d.recording.taps.commands.lost).toBe(0);
    expect(commands.length).toBe(commandsSent);
    for (let i = 1; i < commands.length; i++) expect(commands[i]?.message.seq as number).toBeGreaterThan(commands[i - 1]?.message.seq as number);
    expect((commands[0]?.message.target as number[]).length).toBe(d.estimator.jointCount);
    // The other channels are there.
    const topics = new Set(msgs.map((m) => m.topic));
    for (const t of [Topic.estimate, Topic.observation, Topic.plan, Topic.safety, Topic.link, Topic.episode]) expect(topics).toContain(t);
    expect(msgs.some((m) => m.topic === Topic.chunk || m.topic === Topic.plan)).toBe(true);
    const episodes = msgs.filter((m) => m.topic === Topic.episode).map((m) => m.message as unknown as EpisodeRecord);
    expect(episodes.map((e) => [e.kind, e.index, e.outcome ?? null, e.source])).toEqual([
      ['start', 1, null, 'task'],
      ['mark', 1, 'intervention', 'alice'],
      ['end', 1, 'intervention', 'task'],
      ['start', 2, null, 'task'],
      ['end', 2, 'estop', 'safety'],
    ]);
    // The transition to ESTOP is recorded before the episode's end.
    const estopAt = msgs.findIndex((m) => m.topic === Topic.safety && m.message.event === 'transition' && m.message.to === 'ESTOP');
    expect(estopAt).toBeGreaterThan(-1);
    expect((msgs[estopAt] as ReadMessage).logTimeNs).toBeLessThanOrEqual(msgs.filter((m) => m.topic === Topic.episode).pop()?.logTimeNs ?? 0n);
  }, 90_000);

  it('with full recording off, an e-stop saves the black box: the last seconds of STATE and the stop itself', async () => {
    const { tty } = await startRobot('b');
    const recDir = join(dir, 'rec-b');
    const config = parseEdgeConfig({
      robot: { id: 'r2', profile: 'arm6-gripper' },
      serial: { path: tty },
      control: { rateHz: 200, mainStallBoundMs: 2000 },
      recording: { enabled: false, dir: recDir, blackBoxSeconds: 1 },
    }, 'test');
    const d = await startEdgeDaemon(config, pino({ level: 'silent' }));
    cleanups.push(() => d.close());
    await waitFor('serial READY and safety IDLE', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE' && d.supervisor.mcuLatch !== 'unknown', 10_000);
    await waitFor('two seconds of STATE', () => d.recording.taps.states > 1000, 10_000);
    expect(listRecordings(recDir)).toEqual([]);
    const saved = new Promise<{ path: string | null; problem: string | null }>((resolve) => d.recording.recorder?.once('blackbox', resolve));
    d.supervisor.remoteEstop({ scope: 'robot', category: 1, operator: 'bob', malformed: false });
    const s = await saved;
    expect(s.problem).toBeNull();
    expect(listRecordings(recDir).map((f) => f.name)).toEqual([expect.stringMatching(/-r2-blackbox-ESTOP-remote-estop\.mcap$/) as unknown as string]);
    const msgs = (await readAllMessages(s.path as string)).messages;
    const states = msgs.filter((m) => m.topic === Topic.state);
    // About one second at 500 Hz: the ring's window, not the whole run.
    expect(states.length).toBeGreaterThan(100);
    expect(states.length).toBeLessThan(d.recording.taps.states);
    const span = Number((states[states.length - 1] as ReadMessage).logTimeNs - (states[0] as ReadMessage).logTimeNs) / 1e9;
    expect(span).toBeLessThanOrEqual(1);
    expect(msgs.some((m) => m.topic === Topic.safety && m.message.event === 'transition' && m.message.to === 'ESTOP')).toBe(true);
    expect(d.recorder.status()).toMatchObject({ recording: false, blackBoxSaves: 1, files: 1, error: null });
  }, 60_000);
});
