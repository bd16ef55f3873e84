import { describe, expect, it } from 'vitest';
import { MqttConfigSchema } from './mqtt-config.js';

describe('mqtt config section', () => {
  it('fills defaults', () => {
    expect(MqttConfigSchema.parse({ fleet: 'f' })).toMatchObject({ url: 'mqtt://127.0.0.1:1883', telemetryHz: 20, operators: [], resetMaxAgeMs: 30_000, linkLossTimeoutMs: 500, linkLossCategory: 2 });
  });
  it('names every offending key', () => {
    const r = MqttConfigSchema.safeParse({ fleet: 'f/x', url: 'http://x', telemetryHz: 200, resetMaxAgeMs: -1, linkLossTimeoutMs: 0, linkLossCategory: 3 });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['url', 'fleet', 'telemetryHz', 'linkLossTimeoutMs', 'linkLossCategory', 'resetMaxAgeMs']);
  });
  it('refuses plaintext to a broker off loopback unless allowed, naming the key; mqtts:// with tls is fine', () => {
    const bad = MqttConfigSchema.safeParse({ fleet: 'f', url: 'mqtt://10.0.0.5:1883' });
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['url', expect.stringMatching(/plaintext to a broker off loopback: use mqtts:\/\/ with mqtt.tls, or set mqtt.allowPlaintext/)]]);
    expect(MqttConfigSchema.safeParse({ fleet: 'f', url: 'mqtt://10.0.0.5:1883', allowPlaintext: true }).success).toBe(true);
    expect(MqttConfigSchema.safeParse({ fleet: 'f', url: 'mqtts://broker.example.org:8883', tls: { caFile: 'ca.pem', certFile: 'r.pem', keyFile: 'r-key.pem' } }).success).toBe(true);
    expect(MqttConfigSchema.safeParse({ fleet: 'f', url: 'mqtt://[::1]:1883' }).success).toBe(true);
    expect(MqttConfigSchema.safeParse({ fleet: 'f', url: 'mqtts://b:8883', tls: { caFile: 'ca.pem', certFile: 'r.pem' } }).error?.issues[0]?.path).toEqual(['tls']);
    const embedded = MqttConfigSchema.safeParse({ fleet: 'f', embedded: { host: '0.0.0.0', accountsFile: 'a.json' } });
    expect(embedded.error?.issues.map((i) => i.path.join('.'))).toEqual(['embedded.host']);
  });
  it('has no dead-man key of its own (the dead-man is safety.deadmanTimeoutMs)', () => {
    expect(MqttConfigSchema.safeParse({ fleet: 'f', deadman: { timeoutMs: 500 } }).success).toBe(false);
  });
});
