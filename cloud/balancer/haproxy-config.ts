/**
 * `spinal haproxy`: an HAProxy (2.6+) configuration that spreads robots over brain replicas.
 *
 * What it must keep true, and how:
 * - The brain reads the robot's identity from the client certificate, so TLS passes through:
 *   `mode tcp`, and the robot's TLS session ends in the brain.
 * - A robot's session is one long HTTP/2 connection: `balance leastconn` spreads connections,
 *   not requests, and nothing else pins a robot (the connection does).
 * - Health comes from each replica's plain HTTP /healthz (`option httpchk GET /healthz` on the
 *   health port: the gRPC port wants a client certificate); `fall` 503s or failed checks mark a
 *   replica down, `rise` good ones bring it back.
 * - `on-marked-down shutdown-sessions`: when a replica is marked down (it died, or it drains and
 *   answers 503), HAProxy cuts its robots' connections at once instead of leaving them half-open,
 *   so every robot reconnects, and the new connection goes to a replica that is up.
 * - `option redispatch` with `retries`: a connection attempt to a replica that died but is not
 *   marked down yet is retried on another one.
 * - Timeouts exceed the gRPC keepalive (10 s ping, 5 s answer) so an idle-but-alive session is
 *   never cut by HAProxy; a dead one is found by the keepalive on both ends.
 * - The stats socket (`level admin`) is how an operator drains a replica (`set server ... state
 *   drain`) and reads `show servers state`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Replica {
  /** HAProxy's server name: brain1, brain2, ... in the order given. */
  name: string;
  host: string;
  grpcPort: number;
  healthPort: number;
}

export interface HaproxyOptions {
  replicas: readonly Replica[];
  /** host:port robots connect to. */
  listen: string;
  /** Admin stats socket path. */
  statsSocket: string;
  /** Health check interval (ms). */
  interMs: number;
  /** Failed checks before a replica is marked down. */
  fall: number;
  /** Good checks before a replica is marked up again. */
  rise: number;
  /** How long one health check may take (ms). Generous on purpose: a busy replica that answers
   * late must not be marked down, which would cut all its robots at once. A dead one refuses
   * the connection at once whatever this is. */
  checkTimeoutMs: number;
  /** Connect timeout to a replica (ms). */
  connectTimeoutMs: number;
  /** Inactivity timeout of a robot's connection (ms); must exceed the gRPC keepalive. */
  idleTimeoutMs: number;
  /** Robot connections at once; HAProxy needs two file descriptors each (raise LimitNOFILE to match). */
  maxconn: number;
}

export const HAPROXY_BACKEND = 'spinal_brains';
export const HAPROXY_FRONTEND = 'spinal_robots';

export const HAPROXY_DEFAULTS: Omit<HaproxyOptions, 'replicas'> = {
  listen: '0.0.0.0:50051',
  statsSocket: '/run/haproxy/spinal-admin.sock',
  interMs: 1000,
  fall: 2,
  rise: 2,
  checkTimeoutMs: 2000,
  connectTimeoutMs: 2000,
  idleTimeoutMs: 60_000,
  maxconn: 4096,
};

export class HaproxyConfigError extends Error {
  override readonly name = 'HaproxyConfigError';
}

function port(text: string, what: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new HaproxyConfigError(`${what} ${JSON.stringify(text)} in ${JSON.stringify(whole)} is not a port number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new HaproxyConfigError(`${what} ${n} in ${JSON.stringify(whole)} is outside 1..65535`);
  return n;
}

/** "host:grpcPort:healthPort,..." (an IPv6 host in brackets) -> replicas named brain1, brain2, ... */
export function parseReplicas(spec: string): Replica[] {
  const parts = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new HaproxyConfigError('--replicas is empty: give host:grpcPort:healthPort for each replica, separated by commas');
  const seen = new Set<string>();
  return parts.map((p, i) => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([^:]*):([^:]*)$/.exec(p);
    if (m === null) throw new HaproxyConfigError(`replica ${JSON.stringify(p)} is not host:grpcPort:healthPort`);
    const host = m[1] as string;
    const grpcPort = port(m[2] as string, 'gRPC port', p);
    const healthPort = port(m[3] as string, 'health port', p);
    const key = `${host}:${grpcPort}`;
    if (seen.has(key)) throw new HaproxyConfigError(`replica ${key} is listed twice`);
    seen.add(key);
    return { name: `brain${i + 1}`, host, grpcPort, healthPort };
  });
}

/** "host:port" or "port" (all interfaces) for the listener. */
export function parseListen(spec: string): string {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+|\*):)?([^:]+)$/.exec(spec);
  if (m === null) throw new HaproxyConfigError(`--listen ${JSON.stringify(spec)} is not host:port`);
  const host = m[1] ?? '0.0.0.0';
  return `${host}:${port(m[2] as string, 'listen port', spec)}`;
}

function checkOptions(o: HaproxyOptions): void {
  if (o.replicas.length === 0) throw new HaproxyConfigError('no replicas');
  const ints: [keyof HaproxyOptions, number][] = [['interMs', 50], ['fall', 1], ['rise', 1], ['checkTimeoutMs', 100], ['connectTimeoutMs', 100], ['idleTimeoutMs', 20_000], ['maxconn', 1]];
  for (const [k, min] of ints) {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < min) throw new HaproxyConfigError(`${k} must be an integer >= ${min}, got ${v}`);
  }
  if (!o.statsSocket.startsWith('/') || /\s/.test(o.statsSocket)) throw new HaproxyConfigError(`statsSocket ${JSON.stringify(o.statsSocket)} must be an absolute path without spaces`);
}

/** The configuration text. */
export function renderHaproxyConfig(o: HaproxyOptions): string {
  checkOptions(o);
  const l: string[] = [
    '# Spinal brain replicas behind HAProxy (written by `spinal haproxy`).',
    '# TCP mode: the robots\' TLS passes through, so each brain still reads the robot\'s client certificate.',
    'global',
    `    maxconn ${o.maxconn}`,
    `    stats socket ${o.statsSocket} mode 600 level admin`,
    '    stats timeout 30s',
    '',
    'defaults',
    '    mode tcp',
    `    timeout connect ${o.connectTimeoutMs}ms`,
    // Above the gRPC keepalive on both ends (10 s + 5 s): only a dead connection goes quiet this long.
    `    timeout client ${o.idleTimeoutMs}ms`,
    `    timeout server ${o.idleTimeoutMs}ms`,
    `    timeout check ${o.checkTimeoutMs}ms`,
    '    retries 2',
    '    option redispatch',
    '',
    `frontend ${HAPROXY_FRONTEND}`,
    `    bind ${o.listen}`,
    `    default_backend ${HAPROXY_BACKEND}`,
    '',
    `backend ${HAPROXY_BACKEND}`,
    '    balance leastconn',
    // The health port speaks plain HTTP; the gRPC port would ask the checker for a certificate.
    '    option httpchk GET /healthz',
    '    http-check expect status 200',
    `    default-server inter ${o.interMs}ms fall ${o.fall} rise ${o.rise} on-marked-down shutdown-sessions`,
  ];
  for (const r of o.replicas) l.push(`    server ${r.name} ${r.host}:${r.grpcPort} check port ${r.healthPort}`);
  return `${l.join('\n')}\n`;
}

/** Writes `<dir>/haproxy.cfg`; returns its path. */
export function writeHaproxyConfig(dir: string, o: HaproxyOptions): string {
  const text = renderHaproxyConfig(o);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, text);
  return file;
}
