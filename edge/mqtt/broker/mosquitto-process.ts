/**
 * Runs a Mosquitto broker as a child process on a generated configuration (tests, benchmarks and
 * `spinal cloud` when configured to manage one). Resolves once the listener accepts connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { writeMosquittoConfig, type MosquittoConfigOptions } from './mosquitto-config.js';

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

export class MosquittoProcess {
  private exited = false;
  private constructor(private readonly child: ChildProcess, readonly host: string, readonly port: number, private readonly stderr: string[]) {
    child.once('exit', () => { this.exited = true; });
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  get log(): string {
    return this.stderr.join('');
  }

  /** Writes the configuration into `dir` (port: a free one unless given) and starts mosquitto. */
  static async start(opts: Omit<MosquittoConfigOptions, 'port'> & { port?: number; timeoutMs?: number }): Promise<MosquittoProcess> {
    const bin = findMosquitto();
    if (!bin) throw new Error(`mosquitto not found at ${MOSQUITTO_PATHS.join(', ')}: apt-get install mosquitto`);
    const host = opts.host ?? '127.0.0.1';
    const port = opts.port ?? (await freePort(host));
    const runAsUser = opts.runAsUser ?? (process.getuid?.() === 0 ? 'root' : undefined);
    const files = writeMosquittoConfig({ ...opts, host, port, ...(runAsUser !== undefined ? { runAsUser } : {}) });
    const stderr: string[] = [];
    const child = spawn(bin, ['-c', files.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => stderr.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const proc = new MosquittoProcess(child, host, port, stderr);
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    while (!(await canConnect(host, port))) {
      if (proc.exited || Date.now() > deadline) {
        await proc.stop();
        throw new Error(`mosquitto on ${host}:${port} did not come up: ${stderr.join('').trim() || '(no output)'}`);
      }
      await new Promise((r) => setTimeout(r, 20));
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
