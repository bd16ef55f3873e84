/**
 * Runs a Mosquitto broker as a child process on a generated configuration (tests, benchmarks and
 * `spinal cloud` when configured to manage one). Resolves once every listener accepts connections.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { spawnProgram } from '../../process/tethered-child.js';
import { writeMosquittoConfig, type MosquittoConfigOptions } from './mosquitto-config.js';
import { wsUrlOf } from './ws-listener.js';

export const MOSQUITTO_PATHS = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

export function findMosquitto(): string | null {
  return MOSQUITTO_PATHS.find((p) => existsSync(p)) ?? null;
}

/** A free TCP port on the loopback (closed again before returning; a tiny race, retried by start). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(0, host, () => resolve()); });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export interface MosquittoStartOptions extends Omit<MosquittoConfigOptions, 'port' | 'websockets'> {
  /** Default: a free port. */
  port?: number;
  /** MQTT over WebSocket as well; port default: a free one, host default: `host`. */
  websockets?: { port?: number; host?: string };
  /** How long to wait for the listeners to accept, in ms. Default 5000. */
  timeoutMs?: number;
}

export class MosquittoProcess {
  private exited = false;
  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly port: number,
    private readonly ws: { host: string; port: number } | null,
    private readonly stderr: string[],
    private readonly tls: boolean,
  ) {
    child.once('exit', () => { this.exited = true; });
  }

  get url(): string {
    return `${this.secure ? 'mqtts' : 'mqtt'}://${this.host}:${this.port}`;
  }

  /** The broker's process id (setpriv execs into mosquitto: the same process); null if it never started. */
  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** True when the listeners speak TLS (started with `tls`). */
  get secure(): boolean {
    return this.tls;
  }

  /** The WebSocket listener's port; null when started without `websockets`. */
  get wsPort(): number | null {
    return this.ws?.port ?? null;
  }

  /** `ws://host:port/mqtt` (Mosquitto serves MQTT on any path; '/mqtt' is the clients' convention). */
  get wsUrl(): string | null {
    return this.ws ? wsUrlOf(this.ws.host, this.ws.port, '/mqtt', this.tls) : null;
  }

  get log(): string {
    return this.stderr.join('');
  }

  /** Writes the configuration into `dir` (ports: free ones unless given) and starts mosquitto. */
  static async start(opts: MosquittoStartOptions): Promise<MosquittoProcess> {
    const bin = findMosquitto();
    if (!bin) throw new Error(`mosquitto not found at ${MOSQUITTO_PATHS.join(', ')}: apt-get install mosquitto`);
    const host = opts.host ?? '127.0.0.1';
    const port = opts.port ?? (await freePort(host));
    let ws: { host: string; port: number } | null = null;
    if (opts.websockets) {
      const wsHost = opts.websockets.host ?? host;
      let wsPort = opts.websockets.port ?? (await freePort(wsHost));
      while (wsPort === port) wsPort = await freePort(wsHost);
      ws = { host: wsHost, port: wsPort };
    }
    const runAsUser = opts.runAsUser ?? (process.getuid?.() === 0 ? 'root' : undefined);
    const { websockets: _asGiven, timeoutMs, ...config } = opts;
    const files = writeMosquittoConfig({
      ...config, host, port,
      ...(runAsUser !== undefined ? { runAsUser } : {}),
      ...(ws ? { websockets: ws } : {}),
    });
    const stderr: string[] = [];
    // Under a parent-death signal: a broker left running by a killed test or bench would hold its ports.
    const child = spawnProgram(bin, ['-c', files.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => stderr.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const proc = new MosquittoProcess(child, host, port, ws, stderr, opts.tls !== undefined);
    const deadline = Date.now() + (timeoutMs ?? 5000);
    // Mosquitto may start with a listener missing (a websockets one it could not bind): wait for each.
    for (const l of [{ host, port }, ...(ws ? [ws] : [])]) {
      while (!(await canConnect(l.host, l.port))) {
        if (proc.exited || Date.now() > deadline) {
          await proc.stop();
          throw new Error(`mosquitto on ${l.host}:${l.port} did not come up: ${stderr.join('').trim() || '(no output)'}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return proc;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}
