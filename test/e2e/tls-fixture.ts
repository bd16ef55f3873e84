/**
 * Certificates for the TLS tests and benchmarks, made by `spinal certs`' own code into a temporary
 * folder: a CA, a server certificate for 127.0.0.1/localhost (the brokers and the dashboard use it),
 * robot client certificates r1 and r2 (CN and SAN name the robot) and an operator certificate.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCerts } from '../../cloud/security/dev-certs.js';

export interface TestCerts {
  dir: string;
  /** Paths, for Mosquitto's configuration. */
  files: { ca: string; cert: string; key: string; robot(id: string): { cert: string; key: string } };
  /** PEM contents, for Node clients and the embedded broker. */
  ca: Buffer;
  server: { cert: Buffer; key: Buffer };
  robot(id: string): { cert: Buffer; key: Buffer };
  dispose(): void;
}

export async function makeTestCerts(robots: readonly string[] = ['r1', 'r2']): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-certs-'));
  await runCerts({ out: dir, robots, operators: ['alice'], serverNames: ['127.0.0.1', 'localhost', '::1'] });
  const robotFiles = (id: string): { cert: string; key: string } => ({ cert: join(dir, `robot-${id}.pem`), key: join(dir, `robot-${id}-key.pem`) });
  return {
    dir,
    files: { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem'), robot: robotFiles },
    ca: readFileSync(join(dir, 'ca.pem')),
    server: { cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server-key.pem')) },
    robot: (id) => { const f = robotFiles(id); return { cert: readFileSync(f.cert), key: readFileSync(f.key) }; },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
