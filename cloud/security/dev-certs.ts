/**
 * `spinal certs`: a development certificate authority and the certificates a fleet needs, as PEM
 * files, with ECDSA P-256 keys (@peculiar/x509 over Node's WebCrypto):
 *
 *   ca.pem, ca-key.pem                    the CA (keep ca-key.pem off robots)
 *   server.pem, server-key.pem            the brain: SAN DNS/IP for each --server-name
 *   robot-<id>.pem, robot-<id>-key.pem    per robot: CN=<id>, SAN URI spiffe://spinal/robot/<id>
 *   operator-<n>.pem, operator-<n>-key.pem an operator tool: CN=operator:<n>, URI spiffe://spinal/operator/<n>
 *
 * Private keys are written with mode 0600. Existing files are never overwritten without `force`:
 * the whole run is refused, naming them, before anything is written.
 */
import { webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import './reflect-metadata.js'; // before @peculiar/x509: its tsyringe needs Reflect metadata at load
import * as x509 from '@peculiar/x509';
import { OPERATOR_CN_PREFIX, OPERATOR_URI_PREFIX, ROBOT_URI_PREFIX } from './peer-identity.js';

export interface CertsOptions {
  /** Output folder (created when missing). */
  out: string;
  robots: readonly string[];
  operators?: readonly string[];
  /** DNS names or IP addresses the brain is reached at (default: localhost, 127.0.0.1, ::1). */
  serverNames?: readonly string[];
  /** Validity in days (default 365). */
  days?: number;
  force?: boolean;
  /** Injected for tests. */
  now?: Date;
}

export interface CertsResult {
  files: string[];
}

export class CertsError extends Error {
  override readonly name = 'CertsError';
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** The WebCrypto types as @peculiar/x509 declares them (the DOM's; this project compiles without the DOM lib). */
type XCrypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
type XKeyPair = x509.X509CertificateCreateSelfSignedParams['keys'];
type XKey = XKeyPair['privateKey'];
const crypto = webcrypto as unknown as XCrypto;

function serial(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[0] = (b[0] as number) & 0x7f; // positive
  return Buffer.from(b).toString('hex');
}

async function keyPair(): Promise<XKeyPair> {
  return crypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<XKeyPair>;
}

async function keyPem(k: XKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', k), 'PRIVATE KEY');
}

interface Leaf {
  base: string;
  cn: string;
  san: x509.JsonGeneralName[];
  usage: x509.ExtendedKeyUsageType[];
}

export async function runCerts(o: CertsOptions): Promise<CertsResult> {
  const operators = o.operators ?? [];
  for (const id of [...o.robots, ...operators]) {
    if (!ID_PATTERN.test(id)) throw new CertsError(`"${id}" is not a usable id: letters, digits, ".", "_", "-" (at most 63, starting with a letter or digit)`);
  }
  if (o.robots.length === 0 && operators.length === 0) throw new CertsError('name at least one robot (or operator)');
  const days = o.days ?? 365;
  if (!(Number.isInteger(days) && days > 0)) throw new CertsError(`days must be a positive integer, got ${days}`);
  const serverNames = o.serverNames ?? ['localhost', '127.0.0.1', '::1'];
  const leaves: Leaf[] = [
    { base: 'server', cn: serverNames[0] ?? 'spinal-brain', san: serverNames.map((n) => (isIP(n) !== 0 ? { type: 'ip', value: n } : { type: 'dns', value: n })), usage: [x509.ExtendedKeyUsage.serverAuth] },
    ...o.robots.map((id): Leaf => ({ base: `robot-${id}`, cn: id, san: [{ type: 'url', value: `${ROBOT_URI_PREFIX}${id}` }], usage: [x509.ExtendedKeyUsage.clientAuth] })),
    ...operators.map((n): Leaf => ({ base: `operator-${n}`, cn: `${OPERATOR_CN_PREFIX}${n}`, san: [{ type: 'url', value: `${OPERATOR_URI_PREFIX}${n}` }], usage: [x509.ExtendedKeyUsage.clientAuth] })),
  ];
  const names = ['ca', ...leaves.map((l) => l.base)].flatMap((b) => [`${b}.pem`, `${b}-key.pem`]);
  const existing = names.map((n) => join(o.out, n)).filter((p) => existsSync(p));
  if (existing.length > 0 && o.force !== true) {
    throw new CertsError(`refusing to overwrite ${existing.join(', ')} (use --force to replace them)`);
  }

  const notBefore = new Date((o.now ?? new Date()).getTime() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: 'CN=Spinal development CA', notBefore, notAfter, keys: caKeys, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  }, crypto);

  const out = new Map<string, { text: string; secret: boolean }>();
  out.set('ca.pem', { text: ca.toString('pem'), secret: false });
  out.set('ca-key.pem', { text: await keyPem(caKeys.privateKey), secret: true });
  for (const l of leaves) {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject: `CN=${l.cn}`, issuer: ca.subject, notBefore, notAfter,
      publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(l.usage, false),
        new x509.SubjectAlternativeNameExtension(l.san, false),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    }, crypto);
    out.set(`${l.base}.pem`, { text: cert.toString('pem') + '\n', secret: false });
    out.set(`${l.base}-key.pem`, { text: await keyPem(keys.privateKey), secret: true });
  }

  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  const files: string[] = [];
  for (const [name, { text, secret }] of out) {
    const path = join(o.out, name);
    writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`, { mode: secret ? 0o600 : 0o644 });
    chmodSync(path, secret ? 0o600 : 0o644); // an overwritten file keeps its old mode otherwise
    files.push(path);
  }
  return { files };
}
