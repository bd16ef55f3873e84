/**
 * Where the brain is and how the link may talk to it. TLS with a client certificate is the rule;
 * plaintext is allowed only to a loopback address (the embedded single-machine default), and a
 * plaintext target anywhere else is refused before anything is sent.
 */
import * as grpc from '@grpc/grpc-js';

export interface CloudTls {
  /** PEM: the CA that signed the brain's certificate. */
  ca: Buffer;
  /** PEM: this robot's certificate (its identity: the brain checks the robot id against it). */
  cert: Buffer;
  /** PEM: this robot's private key. */
  key: Buffer;
  /** Name expected in the brain's certificate when it differs from the target host. */
  serverName?: string;
}

export class CloudLinkConfigError extends Error {
  override readonly name = 'CloudLinkConfigError';
}

export interface ParsedTarget {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port". Throws CloudLinkConfigError naming the target when malformed. */
export function parseTarget(target: string): ParsedTarget {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2]) : undefined;
  if (host === undefined || !(port > 0 && port < 65536)) {
    throw new CloudLinkConfigError(`brain target "${target}" is not host:port (IPv6 as [addr]:port)`);
  }
  return { host, port };
}

/** 127.0.0.0/8, ::1 (and its IPv4-mapped forms) or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return m !== null && m[1] === '127' && m.slice(2).every((o) => Number(o) <= 255);
}

/** The channel credentials for `target`; refuses plaintext to a non-loopback host. */
export function channelCredentials(target: string, tls: CloudTls | undefined): grpc.ChannelCredentials {
  const { host } = parseTarget(target);
  if (tls) return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
  if (!isLoopbackHost(host)) {
    throw new CloudLinkConfigError(
      `refusing plaintext to the brain at ${target}: ${host} is not a loopback address. ` +
        'Configure tls { ca, cert, key } (plaintext is allowed only to 127.0.0.0/8, ::1 or localhost).',
    );
  }
  return grpc.credentials.createInsecure();
}
