import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { brainServerHarness } from '../testing/brain-server-harness.js';
import { testObservation } from '../testing/brain-test-client.js';
import { parseCloudConfig } from '../config.js';
import { startHealthEndpoint } from './health-http.js';

const { start, opened, track } = brainServerHarness({ robots: ['r1', 'r2'], drainTimeoutMs: 2000 });

async function get(port: number, path = '/healthz', method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

type HealthClient = grpc.Client & { check(r: object, cb: (e: Error | null, r?: { status: string }) => void): void };

async function grpcHealth(address: string): Promise<string> {
  const { service } = await import('grpc-health-check');
  const Health = grpc.makeClientConstructor(service as grpc.ServiceDefinition, 'Health');
  const h = track(new Health(address, grpc.credentials.createInsecure()) as unknown as HealthClient);
  const r = await new Promise<{ status: string } | undefined>((resolve, reject) => h.check({ service: '' }, (e, v) => (e !== null ? reject(e) : resolve(v))));
  return r?.status ?? '';
}

describe('HTTP health endpoint', () => {
  it('answers 200 "serving", 503 "not ready" and 503 "draining"; other paths and methods are 404', async () => {
    const hc = await startHealthEndpoint('127.0.0.1', 0);
    try {
      expect(await get(hc.port)).toEqual({ status: 503, body: 'not ready\n' });
      hc.state = 'serving';
      expect(await get(hc.port)).toEqual({ status: 200, body: 'serving\n' });
      expect((await get(hc.port, '/healthz', 'HEAD')).status).toBe(200);
      expect((await get(hc.port, '/metrics')).status).toBe(404);
      expect((await get(hc.port, '/healthz', 'POST')).status).toBe(404);
      hc.state = 'draining';
      const seen = hc.drainingSeen(2);
      expect(await get(hc.port)).toEqual({ status: 503, body: 'draining\n' });
      expect(hc.drainingAnswers).toBe(1);
      await get(hc.port);
      await seen;
      expect(hc.drainingAnswers).toBe(2);
    } finally {
      await hc.close();
    }
  });

  it('a brain drains in order: 503 and NOT_SERVING first, robots sent away only after the balancer saw enough 503s', async () => {
    const { server, address } = await start({ health: { host: '127.0.0.1', port: 0, downAfterChecks: 2, noticeTimeoutMs: 60_000 } });
    const port = server.healthPort as number;
    expect(await get(port)).toEqual({ status: 200, body: 'serving\n' });
    expect(await grpcHealth(address)).toBe('SERVING');
    const s = await opened(address, 'r1');
    const stopped = server.stop();
    expect(await get(port)).toEqual({ status: 503, body: 'draining\n' });
    expect(await grpcHealth(address)).toBe('NOT_SERVING');
    // One 503 seen: the balancer has not marked the replica down yet, so the robot keeps its session.
    s.observe(testObservation(1));
    expect((await s.next()).msg).toBe('plan');
    await get(port);
    await stopped;
    expect(await s.next()).toMatchObject({ msg: 'error', error: { message: expect.stringContaining('shutting down') } });
    await s.closed();
  });

  it('without enough checks the drain sends the robots away after noticeTimeoutMs, and names the replica in session ids', async () => {
    const { server, address } = await start({ replicaId: 'brain-b', health: { host: '127.0.0.1', port: 0, downAfterChecks: 3, noticeTimeoutMs: 50 } });
    const s = await opened(address, 'r2');
    expect(server.sessions()[0]?.sessionId).toBe('brain-b-s1');
    await server.stop();
    expect((await s.next('error')).error.message).toContain('shutting down');
  });

  it('the cloud config\'s health section and replicaId: defaults, and errors that name the key', () => {
    const c = parseCloudConfig({ robots: ['r1'], health: { port: 8081 }, replicaId: 'brain-a' }, 'test');
    expect(c.health).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(c.replicaId).toBe('brain-a');
    expect(() => parseCloudConfig({ robots: ['r1'], health: { port: 'x' } }, 'test')).toThrow(/health\.port/);
    expect(() => parseCloudConfig({ robots: ['r1'], health: { port: 1, downAfterChecks: 0 } }, 'test')).toThrow(/health\.downAfterChecks/);
    expect(() => parseCloudConfig({ robots: ['r1'], replicaId: 'a b' }, 'test')).toThrow(/replicaId/);
  });
});
