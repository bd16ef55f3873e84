import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMAS, Topic } from '../../proto/recording/channels.js';
import { LiveViewConfigError, LiveViewServer } from './live-view-server.js';
import { waitFor } from '../cloud-link/testing/link-fixture.js';
import { FoxgloveTestClient } from './testing/foxglove-test-client.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function server(opts: Partial<Parameters<typeof LiveViewServer.start>[0]> = {}): Promise<LiveViewServer> {
  const s = await LiveViewServer.start({ port: 0, name: 'spinal test', ...opts });
  open.push(s);
  return s;
}

async function client(s: LiveViewServer): Promise<FoxgloveTestClient> {
  const c = await FoxgloveTestClient.connect(s.url);
  open.push(c);
  await waitFor(() => c.channels.has(Topic.state), 'the channels advertised');
  return c;
}

describe('live view server', () => {
  it('advertises the recording channels with their JSON schemas', async () => {
    const s = await server();
    const c = await client(s);
    expect(c.serverName).toBe('spinal test');
    expect([...c.channels.keys()].sort()).toEqual(Object.values(Topic).sort());
    const state = c.channels.get(Topic.state);
    expect(state).toMatchObject({ encoding: 'json', schemaEncoding: 'jsonschema', schemaName: 'spinal.State' });
    expect(JSON.parse(state?.schema ?? '{}')).toEqual(SCHEMAS[Topic.state]?.schema);
  });

  it('sends a subscribed channel only, with its log time, and nothing after unsubscribing', async () => {
    const s = await server();
    const c = await client(s);
    const sub = c.subscribe(Topic.state);
    await waitFor(() => s.wants(Topic.state), 'the subscription seen by the server');
    expect(s.wants(Topic.command)).toBe(false);
    for (let i = 0; i < 50; i++) {
      s.publish(Topic.command, 1000n + BigInt(i), { seq: i });
      s.publish(Topic.state, 2000n + BigInt(i), { seq: i });
    }
    await waitFor(() => c.count(Topic.state) === 50, '50 states');
    expect(c.count(Topic.command)).toBe(0);
    expect(c.received.map((m) => m.message.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(c.received[7]?.logTimeNs).toBe(2007n);

    c.unsubscribe(sub);
    await waitFor(() => !s.wants(Topic.state), 'the unsubscription seen by the server');
    s.publish(Topic.state, 1n, { seq: 999 });
    // A marker on another channel, sent after: once it is here, the state (if any) would be too.
    c.subscribe(Topic.safety);
    await waitFor(() => s.wants(Topic.safety), 'the safety subscription');
    s.publish(Topic.safety, 2n, { marker: true });
    await waitFor(() => c.count(Topic.safety) === 1, 'the marker');
    expect(c.count(Topic.state)).toBe(50);
    expect(s.stats()).toMatchObject({ clients: 1, sent: 51, dropped: 0 });
  });

  it('advertises a topic first published later (a camera) so a client can subscribe to it', async () => {
    const s = await server();
    const c = await client(s);
    s.publish('/spinal/camera/front', 1n, { format: 'jpeg' });
    await waitFor(() => c.channels.has('/spinal/camera/front'), 'the camera channel');
    expect(c.channels.get('/spinal/camera/front')?.schemaName).toBe('foxglove.CompressedImage');
  });

  it('drops, and counts, messages for a client that does not read, without holding the caller', async () => {
    const s = await server({ maxBufferedBytes: 64 * 1024 });
    const slow = await client(s);
    slow.subscribe(Topic.state);
    await waitFor(() => s.wants(Topic.state), 'the subscription');
    // The slow client stops reading: its kernel buffers fill, then its queue in the daemon.
    const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const big = { blob: 'x'.repeat(32 * 1024) };
    let published = 0;
    // Bounded: 64 MiB at most (kernel socket buffers on loopback hold a few MiB).
    while (s.stats().dropped === 0 && published < 2048) {
      for (let i = 0; i < 16; i++) s.publish(Topic.state, BigInt(published++), big);
      await new Promise((r) => setImmediate(r));
    }
    const st = s.stats();
    expect(st.dropped).toBeGreaterThan(0);
    expect(st.sent + st.dropped).toBe(published);
    raw.resume();
  });

  it('never throws on the caller: a message JSON cannot encode is counted and skipped', async () => {
    const s = await server();
    const c = await client(s);
    c.subscribe(Topic.state);
    await waitFor(() => s.wants(Topic.state), 'the subscription');
    expect(() => s.publish(Topic.state, 1n, { big: 1n })).not.toThrow();
    s.publish(Topic.state, 2n, { seq: 1 });
    await waitFor(() => c.count(Topic.state) === 1, 'the next message');
    expect(s.stats()).toMatchObject({ encodeErrors: 1, sent: 1 });
    await s.close();
    expect(() => s.publish(Topic.state, 3n, { seq: 2 })).not.toThrow();
  });

  it('closes a client beyond maxClients with the reason, and one without the Foxglove subprotocol', async () => {
    const s = await server({ maxClients: 1 });
    await client(s);
    const extra = await FoxgloveTestClient.connect(s.url);
    open.push(extra);
    await waitFor(() => extra.closed !== null, 'the extra client closed');
    expect(extra.closed).toEqual({ code: 1013, reason: 'live view full: at most 1 clients' });
    const plain = new WebSocket(s.url);
    const failed = await new Promise<string>((resolve) => {
      plain.once('error', (e) => resolve(e.message));
      plain.once('close', (code) => resolve(`closed ${code}`));
    });
    expect(failed).toMatch(/closed 1002|subprotocol/i);
    expect(s.stats().refused).toBe(2);
  });

  it('refuses a host that is not loopback unless allowed, naming the host', async () => {
    await expect(LiveViewServer.start({ host: '0.0.0.0', port: 0, name: 'x' })).rejects.toThrow(LiveViewConfigError);
    await expect(LiveViewServer.start({ host: '192.0.2.7', port: 0, name: 'x' })).rejects.toThrow(/liveView\.host "192\.0\.2\.7" is not a loopback address.*allowNonLoopback/);
    const s = await server({ host: '0.0.0.0', allowNonLoopback: true });
    expect(s.port).toBeGreaterThan(0);
  });
});
