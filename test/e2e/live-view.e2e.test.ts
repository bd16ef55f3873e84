/**
 * The live view and the operator's episode marks on a composed daemon: virtual firmware on a PTY,
 * the embedded broker, `liveView` configured. A Foxglove client subscribed to `/spinal/state`
 * receives every STATE frame the serial link receives (counted against the link's own frames over
 * the same window, so at the STATE rate whatever the machine's speed) and nothing of a channel it
 * did not subscribe to; a safety transition reaches `/spinal/safety`. Over MQTT: the state summary
 * carries `recording` (null: no recorder), an operator's mark is answered "recording is off", a bad
 * outcome is refused naming it, and a viewer may not mark at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import { FoxgloveTestClient } from '../../edge/live-view/testing/foxglove-test-client.js';
import { SafetyEventSchema, StateSummarySchema, robotTopics, type SafetyEvent } from '../../proto/mqtt/index.js';
import { Topic } from '../../proto/recording/channels.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { waitFor } from './link-harness.js';
import { connectUser, watch } from './mqtt-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-live-view-'));
let robot: VirtualRobot | null = null;
let daemon: EdgeDaemon | null = null;
let fox: FoxgloveTestClient | null = null;
const users: MqttClient[] = [];
afterAll(async () => {
  for (const u of users) u.end(true);
  await fox?.close();
  await daemon?.close();
  await robot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('live view on the composed daemon', () => {
  it('streams STATE at the link\'s rate to a Foxglove client, only what it subscribed to; episode marks and the recording field over MQTT', async () => {
    const ttyPath = join(dir, 'robot.tty');
    robot = new VirtualRobot({ profile: 'arm6-gripper', stateRateHz: 500, linkPath: ttyPath });
    await robot.start();
    const accounts = { fleet: 'lab', robots: [{ id: 'r1', password: 'robot-secret' }], operators: [{ name: 'alice', password: 'alice-secret' }], viewers: [{ name: 'vic', password: 'vic-secret' }] };
    writeFileSync(join(dir, 'accounts.json'), JSON.stringify(accounts));
    writeFileSync(join(dir, 'mqtt-password'), 'robot-secret\n');
    const config = parseEdgeConfig({
      robot: { id: 'r1', profile: 'arm6-gripper' },
      serial: { path: ttyPath },
      control: { rateHz: 200, mainStallBoundMs: 2000 },
      mqtt: { fleet: 'lab', passwordFile: join(dir, 'mqtt-password'), telemetryHz: 20, embedded: { port: 0, accountsFile: join(dir, 'accounts.json') } },
      liveView: { port: 0 },
    }, 'test');
    daemon = await startEdgeDaemon(config, pino({ level: 'silent' }));
    const d = daemon;
    const lv = d.liveView;
    if (!lv) throw new Error('liveView configured but not started');
    await waitFor('serial READY and safety IDLE', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE', 10_000);

    // The link's own count of STATE frames, by sequence number.
    const linkSeqs: number[] = [];
    d.link.on('state', (ev) => linkSeqs.push(ev.seq));
    fox = await FoxgloveTestClient.connect(lv.url);
    const f = fox;
    await waitFor('channels advertised', () => f.channels.has(Topic.state) && f.channels.has(Topic.safety));
    f.subscribe(Topic.state);
    await waitFor('the subscription seen by the daemon', () => lv.wants(Topic.state));
    // Two seconds of frames at 500 Hz, whatever time that takes on this machine.
    await waitFor('1000 StateRecords', () => f.count(Topic.state) >= 1000, 20_000);
    const got = f.received.filter((m) => m.topic === Topic.state).map((m) => m.message.seq as number);
    const first = got[0] as number;
    const last = got[got.length - 1] as number;
    await waitFor('the link past the window', () => (linkSeqs[linkSeqs.length - 1] ?? -1) >= last);
    const onLink = linkSeqs.filter((s) => s >= first && s <= last);
    expect(onLink.length).toBeGreaterThanOrEqual(999);
    // Every frame of the window reached the client, in order, none dropped.
    expect(got.filter((s) => s >= first && s <= last)).toEqual(onLink);
    expect(lv.stats().dropped).toBe(0);
    const rec = f.received[0]?.message as { position: number[]; velocity: number[]; current: number[]; hostUs: number; mcuUs: number; status: number };
    expect(rec.position).toHaveLength(config.profileData.joints.length);
    expect(rec.position.every(Number.isFinite) && rec.velocity.every(Number.isFinite) && rec.current.every(Number.isFinite)).toBe(true);
    expect(rec.hostUs).toBeGreaterThan(0);
    // Nothing of a channel nobody subscribed to.
    expect(lv.wants(Topic.command)).toBe(false);
    expect(f.received.every((m) => m.topic === Topic.state)).toBe(true);

    // MQTT: the summary's recording field, episode marks.
    const topics = robotTopics('lab', 'r1');
    const brokerUrl = d.broker?.url ?? 'mqtt://embedded-broker-missing';
    const alice = await connectUser(brokerUrl, 'alice', 'alice-secret');
    users.push(alice);
    const states = await watch(alice, topics.state);
    await waitFor('a state summary', () => states.length > 0);
    const summary = StateSummarySchema.parse(JSON.parse((states[0]?.payload ?? Buffer.alloc(0)).toString('utf8')));
    expect(summary.recording).toBeNull();

    const seen = await watch(alice, topics.event);
    const events = (): SafetyEvent[] => seen.map((e) => SafetyEventSchema.parse(JSON.parse(e.payload.toString('utf8'))));
    const mark = (id: string, outcome: string, operator = 'alice'): string => JSON.stringify({ v: 1, kind: 'episode', id, operator, at: Date.now(), outcome, end: true });
    // A viewer may not mark: the broker refuses the publish and closes the viewer's connection.
    const vic = await connectUser(brokerUrl, 'vic', 'vic-secret');
    users.push(vic);
    const vicClosed = new Promise<void>((resolve) => vic.once('close', () => resolve()));
    vic.publish(topics.episodeBy('vic'), mark('m-vic', 'success', 'vic'), { qos: 1 });
    await vicClosed;
    await alice.publishAsync(topics.episodeBy('alice'), mark('m-bad', 'great'), { qos: 1 });
    await alice.publishAsync(topics.episodeBy('alice'), mark('m-1', 'success'), { qos: 1 });
    await waitFor('both marks answered', () => events().filter((e) => e.kind === 'episode-refused').length >= 2);
    const refused = events().flatMap((e) => (e.kind === 'episode-refused' ? [e] : []));
    expect(refused[0]?.reason).toMatch(/outcome "great" is not one of "success", "failure", "intervention"/);
    expect(refused[1]).toMatchObject({ id: 'm-1', operator: 'alice', reason: expect.stringMatching(/recording is off/) });
    expect(events().some((e) => 'operator' in e && e.operator === 'vic')).toBe(false);

    // A safety transition reaches the live view.
    f.subscribe(Topic.safety);
    await waitFor('the safety subscription', () => lv.wants(Topic.safety));
    await alice.publishAsync(topics.estop, JSON.stringify({ v: 1, kind: 'estop', id: 'e-1', category: 1, operator: 'alice', at: Date.now() }), { qos: 1 });
    await waitFor('an ESTOP transition on /spinal/safety', () => f.received.some((m) => m.topic === Topic.safety && m.message.to === 'ESTOP'), 5000);
  }, 60_000);
});
