/**
 * Test helpers for the brain: a Hello for a small reference robot, and a session client that
 * queues what the brain sends so a test can await the next message of a kind. Used by tests and
 * the benchmark only.
 */
import * as grpc from '@grpc/grpc-js';
import { brainServiceDefinitions, type BrainMessage, type EdgeMessage, type Hello, type Observation } from '../../proto/brain/index.js';
import { REFERENCE_GOAL_LATENT_SPACE } from '../../proto/latent/reference-goal.js';

export function testHello(robotId: string, over: Partial<Hello> = {}): Hello {
  return {
    robotId, protocolMajor: 1, softwareVersion: '0.1.0', profileId: 'test-arm3', latentSpace: REFERENCE_GOAL_LATENT_SPACE,
    latentDim: 7, stateDim: 3, actionDim: 3, horizon: 16, cameraIds: [], controlHz: 100,
    joints: [
      { name: 'pan', positionMin: -3, positionMax: 3, velocityMax: 2 },
      { name: 'lift', positionMin: -2, positionMax: 2, velocityMax: 2 },
      { name: 'elbow', positionMin: -2.5, positionMax: 2.5, velocityMax: 2 },
    ],
    poses: { home: { positions: [0, 0.5, -0.5] }, ready: { positions: [1, 1, 1] } },
    ...over,
  };
}

export function testObservation(seq: number, state: number[] = [0, 0, 0], over: Partial<Observation> = {}): Observation {
  const now = Date.now() * 1000;
  return { seq, captureTimeUs: now, sendTimeUs: now, state, frames: [], taskId: '', ...over };
}

type Client = grpc.Client & {
  Session(opts?: grpc.CallOptions): grpc.ClientDuplexStream<EdgeMessage, BrainMessage>;
  SetTask(req: { robotId: string; instruction: string }, cb: (e: grpc.ServiceError | null, r?: { taskId: string }) => void): void;
  ListSessions(req: object, cb: (e: grpc.ServiceError | null, r?: { sessions: { robotId: string }[] }) => void): void;
};

const defs = brainServiceDefinitions();
const BrainClient = grpc.makeClientConstructor(defs.brain as grpc.ServiceDefinition, 'Brain');
const OperatorClient = grpc.makeClientConstructor(defs.operator as grpc.ServiceDefinition, 'Operator');

export function brainClient(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): Client {
  return new BrainClient(address, creds, options) as unknown as Client;
}

export function operatorClient(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): Client {
  return new OperatorClient(address, creds, options) as unknown as Client;
}

export function setTask(c: Client, robotId: string, instruction: string): Promise<string> {
  return new Promise((resolve, reject) => c.SetTask({ robotId, instruction }, (e, r) => (e !== null ? reject(e) : resolve(r?.taskId ?? ''))));
}

export function listSessions(c: Client): Promise<{ robotId: string }[]> {
  return new Promise((resolve, reject) => c.ListSessions({}, (e, r) => (e !== null ? reject(e) : resolve(r?.sessions ?? []))));
}

/** One Brain.Session stream with a queue of received messages. */
export class TestSession {
  readonly received: BrainMessage[] = [];
  private waiters: (() => void)[] = [];
  ended = false;
  status: grpc.StatusObject | null = null;
  streamError: grpc.ServiceError | null = null;
  readonly call: grpc.ClientDuplexStream<EdgeMessage, BrainMessage>;
  private cursor = 0;

  constructor(client: Client) {
    this.call = client.Session();
    this.call.on('data', (m: BrainMessage) => { this.received.push(m); this.wake(); });
    this.call.on('end', () => { this.ended = true; this.wake(); });
    this.call.on('status', (s: grpc.StatusObject) => { this.status = s; this.wake(); });
    this.call.on('error', (e: grpc.ServiceError) => { this.streamError = e; this.ended = true; this.wake(); });
  }

  hello(h: Hello): void {
    this.call.write({ msg: 'hello', hello: h });
  }

  observe(o: Observation): void {
    this.call.write({ msg: 'observation', observation: o });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next message not yet returned by next(), of `kind` when given (others are skipped). */
  async next<K extends BrainMessage['msg']>(kind?: K, timeoutMs = 5000): Promise<Extract<BrainMessage, { msg: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const m = this.received[this.cursor++] as BrainMessage;
        if (kind === undefined || m.msg === kind) return m as Extract<BrainMessage, { msg: K }>;
      }
      if (this.ended) throw new Error(`stream ended while waiting for ${kind ?? 'a message'}: ${this.streamError?.message ?? 'ok'}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${kind ?? 'message'} within ${timeoutMs} ms; got ${this.received.map((m) => m.msg).join(',')}`);
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  /** Resolves when the brain has ended the stream. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && this.status === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('stream not closed in time');
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  end(): void {
    this.call.end();
  }
}
