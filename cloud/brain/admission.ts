/**
 * Whether a Hello opens a session: pure checks in a fixed order, the first failure wins.
 *   1. the brain is not shutting down                      (OVERLOADED)
 *   2. the hello is well formed and speaks our major       (checkHello: UNKNOWN_ROBOT / INCOMPATIBLE)
 *   3. the robot is in the configured fleet                (UNKNOWN_ROBOT)
 *   4. with TLS: the client certificate names this robot   (IDENTITY_MISMATCH)
 *   5. an action-chunk backend needs an edge that executes chunks (INCOMPATIBLE)
 *   6. the backend can produce the latent space and dims   (INCOMPATIBLE)
 */
import { checkHello, type Hello, type Issue } from '../../proto/brain/index.js';
import type { BrainBackend } from '../backends/backend.js';
import type { PeerIdentity } from '../security/peer-identity.js';

export interface AdmissionInput {
  hello: Hello;
  /** Robots allowed to connect. */
  robots: ReadonlySet<string>;
  /** 'plaintext' on a loopback listener without TLS; else the certificate's identity (null: none). */
  peer: PeerIdentity | null | 'plaintext';
  backend: Pick<BrainBackend, 'accepts' | 'name' | 'planKind'>;
  draining: boolean;
}

export function admit(a: AdmissionInput): Issue | null {
  if (a.draining) return { code: 'OVERLOADED', reason: 'draining', message: 'the brain is shutting down; reconnect later' };
  const shape = checkHello(a.hello);
  if (shape !== null) return shape;
  const id = a.hello.robotId;
  if (!a.robots.has(id)) return { code: 'UNKNOWN_ROBOT', reason: 'unknown-robot', message: `robot "${id}" is not in this brain's fleet` };
  if (a.peer !== 'plaintext') {
    if (a.peer === null) {
      return { code: 'IDENTITY_MISMATCH', reason: 'no-identity', message: `robot "${id}": the client certificate names no robot (expected CN=${id} or URI spiffe://spinal/robot/${id})` };
    }
    if (a.peer.kind !== 'robot' || a.peer.id !== id) {
      return { code: 'IDENTITY_MISMATCH', reason: 'identity-mismatch', message: `hello.robot_id "${id}" does not match the client certificate (${a.peer.kind} "${a.peer.id}")` };
    }
  }
  if (a.backend.planKind === 'action-chunk' && a.hello.acceptsActionChunks !== true) {
    return {
      code: 'INCOMPATIBLE', reason: 'no-action-chunks',
      message: `backend "${a.backend.name}" answers with action chunks; robot "${id}" does not execute them (hello.accepts_action_chunks is false: edge protocol 1.${a.hello.protocolMinor ?? 0}, chunks need 1.1)`,
    };
  }
  const why = a.backend.accepts(a.hello);
  if (why !== null) return { code: 'INCOMPATIBLE', reason: 'backend-incompatible', message: `backend "${a.backend.name}" cannot serve robot "${id}": ${why}` };
  return null;
}
