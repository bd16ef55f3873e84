/**
 * The openpi backend: each robot session talks to an openpi policy server (π0, π0-FAST, π0.5)
 * over its WebSocket protocol (openpi-client.ts), followed as of openpi commit 04a8d0c
 * (src/openpi/serving/websocket_policy_server.py, packages/openpi-client). Per observation it
 * sends {state keys: float32 arrays, image keys: uint8 arrays, prompt key: the task's instruction}
 * and reads reply["actions"], a [rows, dims] array, as joint targets (robot-mapping.ts), and
 * reply["server_timing"]["infer_ms"] as the policy's own time.
 */
import type { InferRequest, InferResult } from '../backend.js';
import type { Hello } from '../../../proto/brain/index.js';
import { ndarrayProblem, toFloat64, float32Array, type NdArray } from '../policy-server/ndarray.js';
import { PeerError, PolicyServerBackend, type PolicyPeer } from '../policy-server/policy-server-backend.js';
import { chunkFromRows, imageInputs, mappingAccepts, stateInputs, type RobotMappingConfig } from '../policy-server/robot-mapping.js';
import { OpenpiConnection, OpenpiError, openpiHealth } from './openpi-client.js';
import type { PackValue, Unpacked } from './openpi-msgpack.js';

export const OPENPI_DEFAULT_PORT = 8000;

export interface OpenpiOptions extends RobotMappingConfig {
  /** ws://host:port of the policy server. */
  url: string;
  /** Key of the instruction in the observation; default "prompt". */
  promptKey?: string;
  /** Key of the action chunk in the reply; default "actions". */
  actionsKey?: string;
  apiKey?: string;
  connectTimeoutMs?: number;
}

const isNd = (v: Unpacked | undefined): v is NdArray => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && 'dtype' in v && 'shape' in v;

/** Sets obs[a][b]... for a dotted key ("images.cam_high" → {images: {cam_high: v}}). */
function put(obs: Record<string, PackValue>, key: string, v: PackValue): void {
  const parts = key.split('.');
  let o = obs;
  for (const p of parts.slice(0, -1)) {
    const next = o[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next) || next instanceof Uint8Array || 'dtype' in next) o[p] = {};
    o = o[p] as Record<string, PackValue>;
  }
  o[parts[parts.length - 1] as string] = v;
}

class OpenpiPeer implements PolicyPeer<OpenpiConnection> {
  readonly name = 'openpi';
  constructor(private readonly o: OpenpiOptions) {}

  get address(): string {
    return this.o.url;
  }

  async connect(timeoutMs: number): Promise<OpenpiConnection> {
    try {
      return await OpenpiConnection.connect(this.o.url, { timeoutMs, ...(this.o.apiKey !== undefined ? { apiKey: this.o.apiKey } : {}) });
    } catch (e) {
      throw new PeerError((e as Error).message, e instanceof OpenpiError ? e.kind : 'unreachable');
    }
  }

  isOpen(c: OpenpiConnection): boolean { return c.open; }
  close(c: OpenpiConnection): void { c.close(); }
  accepts(hello: Hello): string | null { return mappingAccepts(this.o, hello, 'openpi', 'state'); }
  health(timeoutMs: number): Promise<string | null> { return openpiHealth(this.o.url.replace(/^ws/, 'http'), timeoutMs); }

  async infer(c: OpenpiConnection, r: InferRequest, timeoutMs: number): Promise<InferResult> {
    const state = r.observation.state;
    const obs: Record<string, PackValue> = {};
    for (const [k, v] of stateInputs(this.o, state, 'state')) put(obs, k, float32Array(v, [v.length]));
    const images = imageInputs(this.o, r.observation.frames, 'openpi');
    if (!images.ok) return { ok: false, code: 'BAD_OBSERVATION', message: images.message };
    for (const [k, v] of images.images) put(obs, k, v);
    put(obs, this.o.promptKey ?? 'prompt', r.task.instruction);
    let reply: Unpacked;
    try {
      reply = await c.infer(obs, timeoutMs);
    } catch (e) {
      throw new PeerError((e as Error).message, e instanceof OpenpiError ? e.kind : 'closed');
    }
    const key = this.o.actionsKey ?? 'actions';
    if (typeof reply !== 'object' || reply === null || Array.isArray(reply) || reply instanceof Uint8Array || isNd(reply)) {
      throw new PeerError(`the openpi reply is not a map (expected "${key}" and "server_timing")`, 'bad-reply');
    }
    const actions = reply[key];
    if (!isNd(actions)) throw new PeerError(`the openpi reply has no array "${key}" (keys: ${Object.keys(reply).join(', ')})`, 'bad-reply');
    const problem = ndarrayProblem(actions);
    if (problem !== null) throw new PeerError(`openpi reply "${key}": ${problem}`, 'bad-reply');
    if (actions.shape.length !== 2) {
      return { ok: false, code: 'BACKEND_FAILED', message: `openpi reply "${key}" has shape [${actions.shape.join(', ')}], expected [rows, dims]` };
    }
    const [rows, cols] = actions.shape as [number, number];
    const chunk = chunkFromRows(this.o, rows, cols, toFloat64(actions), state, `openpi reply "${key}"`, 'openpi');
    if (!chunk.ok) return { ok: false, code: 'BACKEND_FAILED', message: chunk.message };
    const timing = reply['server_timing'];
    const inferMs = typeof timing === 'object' && timing !== null && !Array.isArray(timing) && !(timing instanceof Uint8Array) && !isNd(timing) ? timing['infer_ms'] : undefined;
    return { ok: true, latent: [], chunk: { ...chunk.chunk, ...(typeof inferMs === 'number' ? { policyMs: inferMs } : {}) } };
  }
}

export function createOpenpiBackend(o: OpenpiOptions): PolicyServerBackend<OpenpiConnection> {
  return new PolicyServerBackend(new OpenpiPeer(o), o.connectTimeoutMs ?? 2000);
}
