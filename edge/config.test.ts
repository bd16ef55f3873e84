import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadEdgeConfig, parseEdgeConfig } from './config.js';

const good = { robot: { id: 'arm-01', profile: 'arm6-gripper' }, serial: { path: '/dev/ttyUSB0' } };
const dir = mkdtempSync(join(tmpdir(), 'spinal-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('edge config', () => {
  it('accepts a minimal config and fills defaults', () => {
    const c = parseEdgeConfig(good, 'test.json');
    expect(c.log.level).toBe('info');
    expect(c.profileData.id).toBe('arm6-gripper');
  });

  it.each([
    [{ ...good, robot: { id: 'arm 01', profile: 'arm6-gripper' } }, /robot\.id: must be .* \(got "arm 01"\)/],
    [{ ...good, serial: { path: 42 } }, /serial\.path: .* \(got 42\)/],
    [{ ...good, serial: { path: '/dev/x', baudRate: -5 } }, /serial\.baudRate: .* \(got -5\)/],
    [{ ...good, serial: { path: '/dev/x', watchdogMs: 1 } }, /serial\.watchdogMs: .* \(got 1\)/],
    [{ ...good, robot: { id: 'a', profile: 'hexapod' } }, /robot\.profile: unknown profile "hexapod" \(known: .*arm6-gripper/],
    [{ ...good, serial: { path: '/dev/x', parity: 'odd' } }, /serial\.parity: unknown key/],
    [{ robot: good.robot }, /serial: .* \(got nothing\)/],
    [{ ...good, log: { level: 'loud' } }, /log\.level: .* \(got "loud"\)/],
  ])('refuses %j naming the key', (raw, message) => {
    expect(() => parseEdgeConfig(raw, 'edge.json')).toThrow(ConfigError);
    expect(() => parseEdgeConfig(raw, 'edge.json')).toThrow(message);
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(() => loadEdgeConfig(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "robot": ');
    expect(() => loadEdgeConfig(bad)).toThrow(/bad\.json: not valid JSON/);
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify(good));
    expect(loadEdgeConfig(ok).robot.id).toBe('arm-01');
  });
});
