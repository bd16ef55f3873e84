import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { BrainServer } from '../brain/brain-server.js';
import { ScriptedBackend } from '../testing/scripted-backend.js';
import { TestSession, brainClient, operatorClient, setTask, testHello, testObservation } from '../testing/brain-test-client.js';
import { CertsError, runCerts } from './dev-certs.js';
import { identityFromCertificate } from './peer-identity.js';
import { readTlsFiles, SecurityError } from './server-credentials.js';
import { isLoopbackHost } from './loopback.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spinal-certs-'));
  await runCerts({ out: dir, robots: ['r1', 'r2', 'r9'], operators: ['ops'] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: BrainServer[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const pem = (name: string): Buffer => readFileSync(join(dir, name));

async function tlsServer(): Promise<string> {
  const tls = readTlsFiles({ certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem'), caFile: join(dir, 'ca.pem') });
  const s = await BrainServer.start({ host: '127.0.0.1', port: 0, tls, robots: ['r1', 'r2'], backend: new ScriptedBackend(), drainTimeoutMs: 1000 });
  servers.push(s);
  return `127.0.0.1:${s.port}`;
}

function clientAs(who: string | null): grpc.ChannelCredentials {
  return who === null ? grpc.credentials.createSsl(pem('ca.pem')) : grpc.credentials.createSsl(pem('ca.pem'), pem(`${who}-key.pem`), pem(`${who}.pem`));
}

/** The server certificate names localhost too: verify that name (TLS SNI may not be an IP address). */
const SNI = { 'grpc.ssl_target_name_override': 'localhost' };

function sessionAs(address: string, who: string | null): TestSession {
  const c = brainClient(address, clientAs(who), SNI);
  clients.push(c);
  return new TestSession(c);
}

describe('spinal certs', () => {
  it('writes a CA, a server and per-robot/operator certificates; keys are 0600', () => {
    for (const f of ['ca.pem', 'server.pem', 'robot-r1.pem', 'operator-ops.pem']) expect(pem(f).toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    for (const f of ['ca-key.pem', 'server-key.pem', 'robot-r1-key.pem']) {
      expect(pem(f).toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
  });

  it('refuses to overwrite without force, naming the files', async () => {
    await expect(runCerts({ out: dir, robots: ['r1'] })).rejects.toThrow(CertsError);
    await expect(runCerts({ out: dir, robots: ['r1'] })).rejects.toThrow(/robot-r1\.pem.*--force/);
    await expect(runCerts({ out: dir, robots: ['bad/id'] })).rejects.toThrow(/not a usable id/);
  });

  it('reads identities from a SAN URI first, else the CN', () => {
    expect(identityFromCertificate({ subject: { CN: 'x' } as never, subjectaltname: 'URI:spiffe://spinal/robot/r7' })).toEqual({ kind: 'robot', id: 'r7', from: 'san-uri' });
    expect(identityFromCertificate({ subject: { CN: 'operator:ann' } as never, subjectaltname: '' })).toEqual({ kind: 'operator', id: 'ann', from: 'cn' });
    expect(identityFromCertificate({ subject: {} as never, subjectaltname: 'DNS:a' })).toBeNull();
  });
});

describe('mutual TLS', () => {
  it('accepts a robot whose certificate names it', async () => {
    const address = await tlsServer();
    const s = sessionAs(address, 'robot-r1');
    s.hello(testHello('r1'));
    await s.next('welcome');
    s.observe(testObservation(1));
    expect((await s.next('plan')).plan.observationSeq).toBe(1);
  });

  it('refuses a hello whose robot id differs from the certificate (IDENTITY_MISMATCH)', async () => {
    const address = await tlsServer();
    const s = sessionAs(address, 'robot-r2');
    s.hello(testHello('r1'));
    const { error } = await s.next('error');
    expect(error.code).toBe('IDENTITY_MISMATCH');
    expect(error.message).toMatch(/"r1" does not match the client certificate \(robot "r2"\)/);
    await s.closed();
  });

  it('refuses a robot with a valid certificate that is not in the fleet (UNKNOWN_ROBOT)', async () => {
    const address = await tlsServer();
    const s = sessionAs(address, 'robot-r9');
    s.hello(testHello('r9'));
    expect((await s.next('error')).error.code).toBe('UNKNOWN_ROBOT');
  });

  it('refuses a client without a certificate at the TLS handshake', async () => {
    const address = await tlsServer();
    const s = sessionAs(address, null);
    s.hello(testHello('r1'));
    await s.closed();
    expect(s.received).toHaveLength(0);
    expect(s.streamError?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('lets only operator certificates use the Operator service', async () => {
    const address = await tlsServer();
    const asRobot = operatorClient(address, clientAs('robot-r1'), SNI);
    const asOperator = operatorClient(address, clientAs('operator-ops'), SNI);
    clients.push(asRobot, asOperator);
    await expect(setTask(asRobot, 'r2', 'wave')).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    await expect(setTask(asOperator, 'r2', 'wave')).resolves.toMatch(/-\d+$/);
  });
});

describe('plaintext', () => {
  it('is refused on a non-loopback address, with a message that says why', async () => {
    await expect(BrainServer.start({ host: '0.0.0.0', port: 0, tls: null, robots: [], backend: new ScriptedBackend() }))
      .rejects.toThrow(SecurityError);
    await expect(BrainServer.start({ host: '0.0.0.0', port: 0, tls: null, robots: [], backend: new ScriptedBackend() }))
      .rejects.toThrow(/plaintext is allowed only on a loopback address/);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'brain.example.com', '::ffff:10.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });
});
