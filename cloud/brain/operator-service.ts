/**
 * The Operator service: SetTask stores a robot's instruction and pushes a TaskChange to its open
 * session (if any), answering only once the task store holds it (UNAVAILABLE, naming the store,
 * when it cannot); ListSessions reports the open sessions. Under TLS only a certificate naming an
 * operator (URI spiffe://spinal/operator/<name> or CN operator:<name>) may call it; on a plaintext
 * loopback listener anyone local may.
 */
import * as grpc from '@grpc/grpc-js';
import type {
  ListSessionsRequest, ListSessionsResponse, SessionInfo, SetTaskRequest, SetTaskResponse,
} from '../../proto/brain/index.js';
import type { Task } from '../backends/backend.js';
import type { PeerIdentity } from '../security/peer-identity.js';
import { TaskStoreUnavailable } from './task-store.js';

export interface OperatorHost {
  readonly robots: ReadonlySet<string>;
  /** Stores the task and pushes it to the robot's session; resolves with the stored task, rejects with TaskStoreUnavailable. */
  setTask(robotId: string, instruction: string): Promise<Task>;
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
    host.setTask(robotId, text).then(
      (task) => callback(null, { taskId: task.taskId }),
      (e: unknown) => callback(e instanceof TaskStoreUnavailable
        ? status(grpc.status.UNAVAILABLE, e.message)
        : status(grpc.status.INTERNAL, `task not stored: ${e instanceof Error ? e.message : String(e)}`)),
    );
  };
  const listSessions: grpc.handleUnaryCall<ListSessionsRequest, ListSessionsResponse> = (call, callback) => {
    const refusal = denied(host, call);
    if (refusal !== null) { callback(refusal); return; }
    callback(null, { sessions: host.sessions() });
  };
  return { SetTask: setTask, ListSessions: listSessions } as grpc.UntypedServiceImplementation;
}
