/**
 * Safety events while the broker is unreachable: the robot holds at most `outboxCapacity` of them
 * (stop events kept first), and on reconnect publishes one `events-dropped` event that says how
 * many it lost, then the events it kept, in order.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { robotTopics, SafetyEventSchema } from '../../proto/mqtt/index.js';
import { RobotMqtt } from '../../edge/mqtt/index.js';
import { connectUser, dropUser, FLEET, PASSWORDS, RecordingSupervisor, startBroker, watch, type TestBroker } from './mqtt-harness.js';
import { waitFor } from './link-harness.js';

/** A TCP relay that refuses every connection while closed (the broker "away"), relays while open. */
async function gate(targetPort: number): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  let open = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (down) => {
    if (!open) { down.resetAndDestroy(); return; }
    const up = createConnection({ host: '127.0.0.1', port: targetPort, noDelay: true });
    for (const s of [down, up]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); }
    down.pipe(up); up.pipe(down);
    down.on('close', () => up.destroy()); up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    open: () => { open = true; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

describe('safety events while the broker is away: a bounded outbox, drops reported', () => {
  let broker: TestBroker | null = null;
  let viewer: MqttClient | null = null;
  let robot: RobotMqtt | null = null;
  let relay: Awaited<ReturnType<typeof gate>> | null = null;
  afterEach(async () => {
    await robot?.stop();
    if (viewer) dropUser(viewer);
    await relay?.close();
    await broker?.stop();
    broker = null; viewer = null; robot = null; relay = null;
  });

  it('keeps the stop events and the newest routine ones, reports the number lost first, then sends the rest in order', async () => {
    broker = await startBroker('embedded');
    viewer = await connectUser(broker.url, 'vic');
    const seen = await watch(viewer, robotTopics(FLEET, 'r1').event);
    relay = await gate(broker.port);
    const sup = new RecordingSupervisor();
    robot = new RobotMqtt({
      url: relay.url, fleet: FLEET, robot: 'r1', username: 'r1', password: PASSWORDS.r1 ?? '',
      wire: { sendEstop: () => true }, estop: sup, reset: sup, reconnectPeriodMs: 50, outboxCapacity: 4,
    });
    robot.start();
    // Offline: 2 stop events among 8 routine ones; the outbox holds 4.
    robot.publishEvent({ kind: 'estop-received', scope: 'robot', category: 1, malformed: false, wireSent: true, operator: 'alice' });
    for (let i = 0; i < 6; i++) robot.publishEvent({ kind: 'reset-refused', reason: `try ${i}` });
    robot.publishEvent({ kind: 'fleet-latch', asserted: true, operator: 'alice' });
    for (let i = 6; i < 8; i++) robot.publishEvent({ kind: 'reset-refused', reason: `try ${i}` });
    expect(robot.eventsDropped).toBe(6);
    relay.open();
    await waitFor('5 events at the viewer', () => seen.length >= 5, 10_000);
    const events = seen.map((m) => SafetyEventSchema.parse(JSON.parse(m.payload.toString('utf8'))));
    expect(events.map((e) => (e.kind === 'reset-refused' ? `${e.kind}:${e.reason}` : e.kind))).toEqual([
      'events-dropped', 'estop-received', 'fleet-latch', 'reset-refused:try 6', 'reset-refused:try 7',
    ]);
    expect(events[0]).toMatchObject({ kind: 'events-dropped', dropped: 6, droppedStop: 0, kinds: { 'reset-refused': 6 } });
    expect(robot.connected).toBe(true);
  });
});
