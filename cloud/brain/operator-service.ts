/**
 * The Operator service: SetTask stores a robot's instruction and pushes a TaskChange to its open
 * session (if any); ListSessions reports the open sessions. Under TLS only a certificate naming an
 * operator (URI spiffe://spinal/operator/<name> or CN operator:<name>) may call it; on a plaintext
 * loopback listener anyone local may.
 */
import * as grpc from '@grpc/grpc-js';
import type {
  ListSessionsRequest, ListSessionsResponse, SessionInfo, SetTaskRequest, SetTaskResponse,
} from '../../proto/brain/index.js';
import type { Task } from '../backends/backend.js';
import type { PeerIdentity } from '../security/peer-identity.js';

export interface OperatorHost {
  readonly robots: ReadonlySet<string>;
  /** Stores the task and pushes it to the robot's session; returns the stored task. */
  setTask(robotId: string, instruction: string): Task;
  sessions(): SessionInfo[];
  /** 'plaintext', or the identity of the caller's certificate (null: none recognised). */
  peerOf(call: grpc.ServerUnaryCall<unknown, unknown>): PeerIdentity | null | 'plaintext';
}

export const MAX_INSTRUCTION_CHARS = 2000;

function status(code: grpc.status, details: string): Partial<grpc.StatusObject> {
  return { code, details };
}

function denied(host: OperatorHost, call: grpc.ServerUnaryCall<unknown, unknown>): Partial<grpc.StatusObject> | null {
  const peer = host.peerOf(call);
  if (peer === 'plaintext' || peer?.kind === 'operator') return null;
  return status(grpc.status.PERMISSION_DENIED, `the Operator service needs an operator certificate; the caller is ${peer === null ? 'unidentified' : `${peer.kind} "${peer.id}"`}`);
}

export function operatorHandlers(host: OperatorHost): grpc.UntypedServiceImplementation {
  const setTask: grpc.handleUnaryCall<SetTaskRequest, SetTaskResponse> = (call, callback) => {
    const refusal = denied(host, call);
    if (refusal !== null) { callback(refusal); return; }
    const { robotId, instruction } = call.request;
    if (!host.robots.has(robotId)) { callback(status(grpc.status.NOT_FOUND, `robot "${robotId}" is not in this brain's fleet`)); return; }
    const text = instruction.trim();
    if (text === '') { callback(status(grpc.status.INVALID_ARGUMENT, 'instruction is empty')); return; }
    if (text.length > MAX_INSTRUCTION_CHARS) {
      callback(status(grpc.status.INVALID_ARGUMENT, `instruction has ${text.length} characters, the limit is ${MAX_INSTRUCTION_CHARS}`));
      return;
    }
    callback(null, { taskId: host.setTask(robotId, text).taskId });
  };
  const listSessions: grpc.handleUnaryCall<ListSessionsRequest, ListSessionsResponse> = (call, callback) => {
    const refusal = denied(host, call);
    if (refusal !== null) { callback(refusal); return; }
    callback(null, { sessions: host.sessions() });
  };
  return { SetTask: setTask, ListSessions: listSessions } as grpc.UntypedServiceImplementation;
}
