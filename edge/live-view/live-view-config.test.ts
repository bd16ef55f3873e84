import { describe, expect, it } from 'vitest';
import { ConfigError, parseEdgeConfig } from '../config.js';
import { liveViewHostRefusal } from './live-view-server.js';

const base = { robot: { id: 'r1', profile: 'arm6-gripper' }, serial: { path: '/dev/null' } };

describe('liveView configuration', () => {
  it('is off unless configured, and loopback on 8765 with bounded clients and queues by default', () => {
    expect(parseEdgeConfig(base, 't').liveView).toBeUndefined();
    expect(parseEdgeConfig({ ...base, liveView: {} }, 't').liveView).toEqual({ host: '127.0.0.1', port: 8765, maxClients: 4, maxBufferedBytes: 1024 * 1024, allowNonLoopback: false });
  });

  it('names the offending key', () => {
    expect(() => parseEdgeConfig({ ...base, liveView: { port: 70_000 } }, 't')).toThrow(ConfigError);
    expect(() => parseEdgeConfig({ ...base, liveView: { port: 70_000 } }, 't')).toThrow(/liveView\.port/);
    expect(() => parseEdgeConfig({ ...base, liveView: { maxClients: 0 } }, 't')).toThrow(/liveView\.maxClients/);
    expect(() => parseEdgeConfig({ ...base, liveView: { hots: 'x' } }, 't')).toThrow(/liveView/);
  });

  it('accepts loopback hosts, and another only when explicitly allowed', () => {
    for (const h of ['127.0.0.1', '::1', 'localhost', '127.0.0.2']) expect(liveViewHostRefusal(h, false)).toBeNull();
    expect(liveViewHostRefusal('0.0.0.0', false)).toMatch(/^liveView\.host "0\.0\.0\.0" is not a loopback address/);
    expect(liveViewHostRefusal('robot.local', false)).toMatch(/"robot\.local".*ssh tunnel.*allowNonLoopback/);
    expect(liveViewHostRefusal('0.0.0.0', true)).toBeNull();
  });
});
