/**
 * gRPC server credentials: mutual TLS (the client must present a certificate signed by the
 * configured CA) or, on a loopback address only, plaintext.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { plaintextRefusal } from './loopback.js';

export interface TlsFiles {
  /** PEM files: the server certificate (chain), its private key, and the CA that signs clients. */
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface TlsPem {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export class SecurityError extends Error {
  override readonly name = 'SecurityError';
}

export function readTlsFiles(files: TlsFiles): TlsPem {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new SecurityError(`tls.${what}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  return { cert: read('certFile', files.certFile), key: read('keyFile', files.keyFile), ca: read('caFile', files.caFile) };
}

/** mTLS credentials when `tls` is given; plaintext only when `host` is loopback (else throws). */
export function serverCredentials(host: string, tls: TlsPem | null): grpc.ServerCredentials {
  if (tls !== null) {
    return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
  }
  const refusal = plaintextRefusal(host);
  if (refusal !== null) throw new SecurityError(refusal);
  return grpc.ServerCredentials.createInsecure();
}
