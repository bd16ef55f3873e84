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
  it('has no dead-man key of its own (the dead-man is safety.deadmanTimeoutMs)', () => {
    expect(MqttConfigSchema.safeParse({ fleet: 'f', deadman: { timeoutMs: 500 } }).success).toBe(false);
  });
});
