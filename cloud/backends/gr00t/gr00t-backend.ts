/**
 * The GR00T backend: each robot session has a ZeroMQ REQ connection (gr00t-client.ts) to an Isaac
 * GR00T policy server. Two request shapes, by `api`:
 * - "n1.5" (gr00t/eval/service.py, Isaac-GR00T commit 0a015f6; N1.5): data is the flat
 *   observation {"video.<cam>": uint8 [1, H, W, 3], "state.<part>": float64 [1, d],
 *   "<language key>": [instruction]}; the reply is {"action.<part>": [rows, d]}.
 * - "n1.6" (gr00t/policy/server_client.py, commit 38624df; N1.6/N1.7): data is
 *   {"observation": {"video": {cam: uint8 [1, 1, H, W, 3]}, "state": {part: float32 [1, 1, d]},
 *   "language": {<key>: [[instruction]]}}, "options": null}; the reply is [action, info] with
 *   action {part: [1, rows, d]}.
 * A connection is checked with "ping" when opened; "reset" is sent when the session ends (n1.6).
 * Action parts map to robot joints by configuration (`actions`: part → joint indices).
 */
import type { InferRequest, InferResult } from '../backend.js';
import type { Hello } from '../../../proto/brain/index.js';
import { float32Array, toFloat64, type NdArray } from '../policy-server/ndarray.js';
import { PeerError, PolicyServerBackend, type PolicyPeer } from '../policy-server/policy-server-backend.js';
import { chunkFromRows, imageInputs, mappingAccepts, stateInputs, type RobotMappingConfig } from '../policy-server/robot-mapping.js';
import { Gr00tConnection } from './gr00t-client.js';

export interface Gr00tOptions extends Omit<RobotMappingConfig, 'actionColumns'> {
  /** tcp://host:port of the policy server (default port 5555). */
  address: string;
  api?: 'n1.5' | 'n1.6';
  apiToken?: string;
  /** Reply action part → the robot joints its columns are, in order. */
  actions: Record<string, number[]>;
  /** The instruction's key: default "annotation.human.task_description" (n1.5) or "task" (n1.6). */
  languageKey?: string;
  connectTimeoutMs?: number;
}

const isNd = (v: unknown): v is NdArray => typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !isNd(v);

class Gr00tPeer implements PolicyPeer<Gr00tConnection> {
  readonly name = 'gr00t';
  constructor(private readonly o: Gr00tOptions) {}

  get address(): string { return this.o.address; }
  private get v16(): boolean { return (this.o.api ?? 'n1.6') === 'n1.6'; }

  async connect(timeoutMs: number): Promise<Gr00tConnection> {
    const c = new Gr00tConnection(this.o.address, this.o.apiToken);
    try {
      const pong = await c.call('ping', null, timeoutMs);
      if (!isMap(pong) || pong['status'] !== 'ok') throw new PeerError(`the gr00t server at ${this.o.address} answered ping with ${JSON.stringify(pong)}`, 'bad-reply');
      return c;
    } catch (e) {
      c.close();
      const pe = e instanceof PeerError ? e : new PeerError((e as Error).message, 'unreachable');
      // A ping that times out means nobody answers: unreachable, not a slow policy.
      throw pe.kind === 'timeout' ? new PeerError(`cannot reach the gr00t server at ${this.o.address}: no answer to ping within ${timeoutMs} ms`, 'unreachable') : pe;
    }
  }

  isOpen(c: Gr00tConnection): boolean { return c.open; }
  close(c: Gr00tConnection): void { c.close(); }

  accepts(hello: Hello): string | null {
    const m = mappingAccepts(this.o, hello, 'gr00t', this.v16 ? 'state' : 'state.joints');
    if (m !== null) return m;
    const covered = Object.values(this.o.actions).flat();
    const n = hello.joints.length;
    for (let j = 0; j < n; j++) {
      const k = covered.filter((x) => x === j).length;
      if (k !== 1) return `gr00t.actions names joint ${j} ${k} times; each of the robot's ${n} joints must come from exactly one action column`;
    }
    if (covered.length !== n) return `gr00t.actions names ${covered.length} columns; the robot has ${n} joints`;
    return null;
  }

  async health(timeoutMs: number): Promise<string | null> {
    try {
      (await this.connect(timeoutMs)).close();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  endSession(c: Gr00tConnection): void {
    if (this.v16) void c.call('reset', { options: null }, 500).catch(() => undefined);
  }

  async infer(c: Gr00tConnection, r: InferRequest, timeoutMs: number): Promise<InferResult> {
    const state = r.observation.state;
    const images = imageInputs(this.o, r.observation.frames, 'gr00t');
    if (!images.ok) return { ok: false, code: 'BAD_OBSERVATION', message: images.message };
    const lang = this.o.languageKey ?? (this.v16 ? 'task' : 'annotation.human.task_description');
    let data: unknown;
    if (this.v16) {
      const video: Record<string, NdArray> = {};
      for (const [k, a] of images.images) video[k] = { ...a, shape: [1, 1, ...a.shape] };
      const st: Record<string, NdArray> = {};
      for (const [k, v] of stateInputs(this.o, state, 'state')) st[k] = float32Array(v, [1, 1, v.length]);
      data = { observation: { video, state: st, language: { [lang]: [[r.task.instruction]] } }, options: null };
    } else {
      const obs: Record<string, unknown> = {};
      for (const [k, a] of images.images) obs[k] = { ...a, shape: [1, ...a.shape] };
      for (const [k, v] of stateInputs(this.o, state, 'state.joints')) {
        const f = Float64Array.from(v);
        obs[k] = { dtype: '<f8', shape: [1, v.length], data: new Uint8Array(f.buffer) } satisfies NdArray;
      }
      obs[lang] = [r.task.instruction];
      data = obs;
    }
    const reply = await c.call('get_action', data, timeoutMs);
    const action = this.v16 ? (Array.isArray(reply) ? reply[0] : undefined) : reply;
    if (!isMap(action)) throw new PeerError(`the gr00t reply is not ${this.v16 ? '[action, info]' : 'an action map'}`, 'bad-reply');
    // Assemble [rows, joints] from the parts.
    const n = state.length;
    let rows = -1;
    let values = new Float64Array(0);
    for (const [key, joints] of Object.entries(this.o.actions)) {
      const a = action[key];
      if (!isNd(a)) return { ok: false, code: 'BACKEND_FAILED', message: `gr00t reply has no array "${key}" (gr00t.actions); it has ${Object.keys(action).join(', ')}` };
      const shape = this.v16 ? (a.shape[0] === 1 ? a.shape.slice(1) : a.shape) : a.shape;
      const d = shape[1];
      if (shape.length !== 2 || d !== joints.length) {
        return { ok: false, code: 'BACKEND_FAILED', message: `gr00t reply "${key}" has shape [${a.shape.join(', ')}]; gr00t.actions["${key}"] maps ${joints.length} columns (expected [${this.v16 ? '1, ' : ''}rows, ${joints.length}])` };
      }
      const h = shape[0] as number;
      if (rows === -1) { rows = h; values = new Float64Array(h * n); }
      if (h !== rows) return { ok: false, code: 'BACKEND_FAILED', message: `gr00t reply "${key}" has ${h} rows, other parts have ${rows}` };
      const v = toFloat64(a);
      for (let i = 0; i < h; i++) for (let k = 0; k < joints.length; k++) values[i * n + (joints[k] as number)] = v[i * joints.length + k] as number;
    }
    const chunk = chunkFromRows(this.o, rows, n, values, state, 'gr00t reply actions', 'gr00t');
    if (!chunk.ok) return { ok: false, code: 'BACKEND_FAILED', message: chunk.message };
    return { ok: true, latent: [], chunk: chunk.chunk };
  }
}

export function createGr00tBackend(o: Gr00tOptions): PolicyServerBackend<Gr00tConnection> {
  return new PolicyServerBackend(new Gr00tPeer(o), o.connectTimeoutMs ?? 2000);
}
