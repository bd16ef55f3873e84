/**
 * A small Brain.Session server for the cloud link's tests: a real grpc-js server on an ephemeral
 * loopback port, speaking brain.proto, whose behaviour a test chooses — welcome or refuse the
 * Hello, answer observations with plans of a chosen validity after a chosen delay (or not at all),
 * stamp with an offset clock, stop reading (a slow brain), die, and come back on the same port.
 */
import * as grpc from '@grpc/grpc-js';
import {
  brainServiceDefinitions,
  type BrainMessage, type EdgeMessage, type ErrorCode, type Hello, type Observation, type Plan,
} from '../../../proto/brain/index.js';

export interface FakeBrainOptions {
  /** µs added to the fake's clock (Unix epoch from performance.timeOrigin + now()). */
  offsetUs?: number;
  /** Refuse every Hello with this code (then close the stream). */
  refuse?: { code: ErrorCode; message: string } | null;
  /** Welcome with this protocol major; default 1. */
  protocolMajor?: number;
  /** Answer every observation with a plan; default true. */
  autoPlan?: boolean;
  /** Plan validity; default 500 ms. */
  validForMs?: number;
  /** Time between an observation's arrival and its plan; default 0. */
  delayMs?: number;
  /** Never answer the Hello (the link's hello timeout). */
  silent?: boolean;
  /** TLS: the server's key pair, and the CA that client certificates must chain to. */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** With tls: refuse with IDENTITY_MISMATCH a robot id that is not the client certificate's CN. */
  checkIdentity?: boolean;
}

export interface FakeSession {
  hello: Hello;
  observations: Observation[];
  /** The fake's clock at each observation's arrival. */
  receivedUs: number[];
  call: grpc.ServerDuplexStream<EdgeMessage, BrainMessage>;
  send(m: BrainMessage): void;
  nextPlanId: number;
}

export class FakeBrain {
  readonly opts: FakeBrainOptions;
  readonly sessions: FakeSession[] = [];
  port = 0;
  private server: grpc.Server | null = null;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(opts: FakeBrainOptions = {}) {
    this.opts = opts;
  }

  /** The fake's clock, µs since the epoch, with the injected offset. */
  nowUs(): number {
    return Math.round((performance.timeOrigin + performance.now()) * 1000) + (this.opts.offsetUs ?? 0);
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The newest session (throws when none). */
  get session(): FakeSession {
    const s = this.sessions[this.sessions.length - 1];
    if (!s) throw new Error('fake brain: no session yet');
    return s;
  }

  /** Binds (port 0 the first time: an ephemeral port; afterwards the same port again). */
  async start(): Promise<number> {
    const server = new grpc.Server();
    server.addService(brainServiceDefinitions().brain, {
      Session: (call: grpc.ServerDuplexStream<EdgeMessage, BrainMessage>) => this.onSession(call),
    });
    const creds = this.opts.tls
      ? grpc.ServerCredentials.createSsl(this.opts.tls.ca, [{ private_key: this.opts.tls.key, cert_chain: this.opts.tls.cert }], true)
      : grpc.ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.port}`, creds, (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.server = server;
    return this.port;
  }

  /** Dies: every connection is dropped at once (a killed process, seen from the client). */
  kill(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.server?.forceShutdown();
    this.server = null;
  }

  /** Stops reading every session's stream (a brain that is slow to read). */
  pauseReading(): void {
    for (const s of this.sessions) s.call.pause();
  }

  resumeReading(): void {
    for (const s of this.sessions) s.call.resume();
  }

  /** A plan answering `seq` of the newest session, with overrides. */
  plan(seq: number, over: Partial<Plan> = {}): BrainMessage {
    return this.planFor(this.session, seq, over);
  }

  private onSession(call: grpc.ServerDuplexStream<EdgeMessage, BrainMessage>): void {
    let session: FakeSession | null = null;
    call.on('error', () => {});
    call.on('data', (m: EdgeMessage) => {
      if (m.msg === 'hello') {
        if (this.opts.silent) return;
        const refusal = this.opts.refuse ?? this.identityRefusal(call, m.hello);
        if (refusal) {
          call.write({ msg: 'error', error: { code: refusal.code, message: refusal.message, observationSeq: 0 } });
          call.end();
          return;
        }
        session = {
          hello: m.hello, observations: [], receivedUs: [], call, nextPlanId: 1,
          send: (msg) => { call.write(msg); },
        };
        this.sessions.push(session);
        call.write({ msg: 'welcome', welcome: { sessionId: `s${this.sessions.length}`, backend: 'fake', protocolMajor: this.opts.protocolMajor ?? 1, taskId: '', instruction: '' } });
        return;
      }
      if (session === null) return;
      const s = session;
      const o = m.observation;
      s.observations.push(o);
      s.receivedUs.push(this.nowUs());
      if (this.opts.autoPlan === false) return;
      const answer = (): void => {
        if (!call.cancelled && call.writable) call.write(this.planFor(s, o.seq));
      };
      const delay = this.opts.delayMs ?? 0;
      if (delay <= 0) return answer();
      const t = setTimeout(() => {
        this.pending.delete(t);
        answer();
      }, delay);
      this.pending.add(t);
    });
    call.on('end', () => call.end());
  }

  private planFor(s: FakeSession, seq: number, over: Partial<Plan> = {}): BrainMessage {
    const idx = s.observations.findIndex((o) => o.seq === seq);
    return {
      msg: 'plan',
      plan: {
        planId: s.nextPlanId++, observationSeq: seq, latent: new Array<number>(s.hello.latentDim).fill(0.25),
        createdTimeUs: this.nowUs(), validForMs: this.opts.validForMs ?? 500,
        observationReceivedTimeUs: idx >= 0 ? (s.receivedUs[idx] as number) : this.nowUs(), taskId: '',
        ...over,
      },
    };
  }

  private identityRefusal(call: grpc.ServerDuplexStream<EdgeMessage, BrainMessage>, hello: Hello): { code: ErrorCode; message: string } | null {
    if (!this.opts.checkIdentity) return null;
    const cert = call.getAuthContext().sslPeerCertificate;
    const cn = cert?.subject.CN;
    if (cn === hello.robotId) return null;
    return { code: 'IDENTITY_MISMATCH', message: `hello.robot_id "${hello.robotId}" does not match the client certificate's CN "${String(cn)}"` };
  }
}
