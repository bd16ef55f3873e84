import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAPROXY_DEFAULTS, parseListen, parseReplicas, renderHaproxyConfig, writeHaproxyConfig } from './haproxy-config.js';

/** Debian's haproxy, as `.ci/run` installs it; absent here, the config is checked as text only. */
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => { try { accessSync(p, constants.X_OK); return true; } catch { return false; } }) ?? null;
if (HAPROXY === null && process.env.CI) throw new Error('CI must have haproxy (see .ci/run)');

describe('spinal haproxy: the configuration', () => {
  it('parses replicas host:grpcPort:healthPort, IPv6 in brackets, and names them in order', () => {
    expect(parseReplicas('10.0.0.5:50051:8081, [fd00::2]:50051:8081')).toEqual([
      { name: 'brain1', host: '10.0.0.5', grpcPort: 50051, healthPort: 8081 },
      { name: 'brain2', host: '[fd00::2]', grpcPort: 50051, healthPort: 8081 },
    ]);
    expect(parseListen('50051')).toBe('0.0.0.0:50051');
    expect(parseListen('127.0.0.1:6000')).toBe('127.0.0.1:6000');
  });

  it('names the offending value of a bad replica or listener', () => {
    expect(() => parseReplicas('')).toThrow(/--replicas is empty/);
    expect(() => parseReplicas('brain-a:50051')).toThrow(/"brain-a:50051" is not host:grpcPort:healthPort/);
    expect(() => parseReplicas('brain-a:50051:http')).toThrow(/health port "http" in "brain-a:50051:http" is not a port number/);
    expect(() => parseReplicas('brain-a:70000:8081')).toThrow(/gRPC port 70000 .* outside 1..65535/);
    expect(() => parseReplicas('a:1:2,a:1:3')).toThrow(/a:1 is listed twice/);
    expect(() => parseListen('x:y:z')).toThrow(/--listen "x:y:z"/);
    expect(() => renderHaproxyConfig({ ...HAPROXY_DEFAULTS, fall: 0, replicas: parseReplicas('a:1:2') })).toThrow(/fall must be an integer >= 1, got 0/);
    expect(() => renderHaproxyConfig({ ...HAPROXY_DEFAULTS, statsSocket: 'rel.sock', replicas: parseReplicas('a:1:2') })).toThrow(/statsSocket "rel.sock"/);
  });

  it('passes TLS through, checks /healthz on the health port and cuts a downed replica\'s sessions', () => {
    const text = renderHaproxyConfig({ ...HAPROXY_DEFAULTS, interMs: 500, fall: 3, rise: 2, replicas: parseReplicas('10.0.0.5:50051:8081,10.0.0.6:50052:8082') });
    const lines = text.split('\n').map((s) => s.trim());
    expect(lines).toContain('mode tcp');
    expect(lines.some((s) => s.startsWith('mode http'))).toBe(false);
    expect(lines.some((s) => /\bssl\b/.test(s))).toBe(false); // no TLS termination anywhere
    expect(lines).toContain('option httpchk GET /healthz');
    expect(lines).toContain('balance leastconn');
    expect(lines).toContain('option redispatch');
    expect(lines).toContain('default-server inter 500ms fall 3 rise 2 on-marked-down shutdown-sessions');
    expect(lines).toContain('server brain1 10.0.0.5:50051 check port 8081');
    expect(lines).toContain('server brain2 10.0.0.6:50052 check port 8082');
    expect(lines).toContain(`stats socket ${HAPROXY_DEFAULTS.statsSocket} mode 600 level admin`);
    expect(lines).toContain('bind 0.0.0.0:50051');
  });

  it.runIf(HAPROXY !== null)('is a configuration HAProxy accepts (haproxy -c)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spinal-haproxy-'));
    try {
      const file = writeHaproxyConfig(dir, {
        ...HAPROXY_DEFAULTS, listen: '127.0.0.1:50051', statsSocket: join(dir, 'admin.sock'),
        replicas: parseReplicas('127.0.0.1:50061:8081,[::1]:50062:8082'),
      });
      expect(readFileSync(file, 'utf8')).toContain('server brain2 [::1]:50062 check port 8082');
      const out = execFileSync(HAPROXY as string, ['-c', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toMatch(/Configuration file is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
