import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CloudConfigError, loadCloudConfig, parseCloudConfig } from './config.js';
import { startCloud } from './main.js';
import { SecurityError } from './security/server-credentials.js';
import { TestSession, brainClient, testHello, testObservation } from './testing/brain-test-client.js';

describe('cloud config', () => {
  it('fills defaults: loopback listener, the reference backend', () => {
    const c = parseCloudConfig({ robots: ['r1'] }, 'x.json');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 50051 });
    expect(c.backend).toEqual({ kind: 'reference' });
  });

  it('names the offending key in every error', () => {
    expect(() => parseCloudConfig({ robots: [] }, 'x.json')).toThrow(/config x\.json: robots: /);
    expect(() => parseCloudConfig({ robots: ['r1'], listen: { port: 70000 } }, 'x.json')).toThrow(/listen\.port: .*\(got 70000\)/);
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'triton', address: 'h:1', model: 'm' } }, 'x.json')).toThrow(/backend\.latentSpace/);
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'gpt' } }, 'x.json')).toThrow(/backend\.kind/);
    expect(() => parseCloudConfig({ robots: ['r1'], colour: 'red' }, 'x.json')).toThrow(/colour: unknown key/);
    expect(() => parseCloudConfig({ robots: ['r1', 'r1'] }, 'x.json')).toThrow(/"r1" is listed twice/);
  });

  it('tasks: memory by default; an mqtt store resolves its files and needs MQTT-safe robot ids', () => {
    expect(parseCloudConfig({ robots: ['r1'] }, 'x.json').tasks).toEqual({ store: 'memory' });
    const c = parseCloudConfig({ robots: ['r1'], tasks: { store: 'mqtt', url: 'mqtt://broker:1883', fleet: 'demo', username: 'brain', passwordFile: 'brain.pw' } }, 'x.json', '/etc/spinal');
    expect(c.tasks).toMatchObject({ store: 'mqtt', passwordFile: '/etc/spinal/brain.pw' });
    expect(() => parseCloudConfig({ robots: ['r1'], tasks: { store: 'mqtt', url: 'http://b', fleet: 'demo', username: 'brain', passwordFile: 'p' } }, 'x.json')).toThrow(/tasks\.url: must be an mqtt:\/\//);
    expect(() => parseCloudConfig({ robots: ['r.1'], tasks: { store: 'mqtt', url: 'mqtt://b:1', fleet: 'demo', username: 'brain', passwordFile: 'p' } }, 'x.json')).toThrow(/robots: "r\.1" cannot name an MQTT task topic/);
    expect(() => parseCloudConfig({ robots: ['r1'], tasks: { store: 'redis' } }, 'x.json')).toThrow(/tasks\.store/);
  });

  it('takes an openpi backend section and names its bad fields', () => {
    const c = parseCloudConfig({ robots: ['r1'], backend: { kind: 'openpi', url: 'ws://gpu:8000', actionHz: 50, images: { 'observation/image': 'front' }, imageSize: { width: 224, height: 224 } } }, 'x.json');
    expect(c.backend).toMatchObject({ kind: 'openpi', url: 'ws://gpu:8000', actionHz: 50 });
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'openpi', url: 'http://gpu:8000', actionHz: 50 } }, 'x.json')).toThrow(/backend\.url: must be a ws:\/\/ or wss:\/\/ URL/);
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'openpi', url: 'ws://gpu:8000' } }, 'x.json')).toThrow(/backend\.actionHz/);
    const g = parseCloudConfig({ robots: ['r1'], backend: { kind: 'gr00t', address: 'tcp://gpu:5555', actionHz: 30, actions: { single_arm: [0, 1, 2, 3, 4], gripper: [5] } } }, 'x.json');
    expect(g.backend).toMatchObject({ kind: 'gr00t', address: 'tcp://gpu:5555' });
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'gr00t', address: 'gpu:5555', actionHz: 30, actions: {} } }, 'x.json')).toThrow(/backend\.address: must be tcp:\/\/host:port/);
  });

  it('resolves relative files against the config file and reports unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spinal-cfg-'));
    try {
      const file = join(dir, 'cloud.json');
      writeFileSync(file, JSON.stringify({ robots: ['r1'], tls: { certFile: 's.pem', keyFile: 'k.pem', caFile: '/abs/ca.pem' }, backend: { kind: 'onnx', model: 'm.onnx' } }));
      const c = loadCloudConfig(file);
      expect(c.tls).toEqual({ certFile: join(dir, 's.pem'), keyFile: join(dir, 'k.pem'), caFile: '/abs/ca.pem' });
      expect(c.backend).toMatchObject({ model: join(dir, 'm.onnx') });
      writeFileSync(file, '{ nope');
      expect(() => loadCloudConfig(file)).toThrow(CloudConfigError);
      expect(() => loadCloudConfig(join(dir, 'missing.json'))).toThrow(/cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startCloud', () => {
  const logger = pino({ level: 'silent' });

  it('serves the reference brain from a config, with /metrics', async () => {
    const cloud = await startCloud(parseCloudConfig({ robots: ['r1'], listen: { port: 0 }, metrics: { port: 0 } }, 'test'), { logger });
    try {
      const client = brainClient(`127.0.0.1:${cloud.brain.port}`);
      const s = new TestSession(client);
      s.hello(testHello('r1'));
      expect((await s.next('welcome')).welcome.backend).toBe('reference');
      s.observe(testObservation(1));
      await s.next('plan');
      const text = await (await fetch(`http://127.0.0.1:${cloud.brain.metricsPort}/metrics`)).text();
      expect(text).toMatch(/spinal_brain_plans_sent_total 1/);
      expect(text).toMatch(/spinal_brain_process_resident_memory_bytes/);
      client.close();
    } finally {
      await cloud.stop();
    }
  });

  it('refuses plaintext on a non-loopback address', async () => {
    await expect(startCloud(parseCloudConfig({ robots: ['r1'], listen: { host: '0.0.0.0', port: 0 } }, 'test'), { logger })).rejects.toThrow(SecurityError);
  });
});
