/** Backends registered by name: the configuration's backend.kind picks the factory. */
import type { Clock } from '../clock.js';
import { dropUndefined, type BackendConfig } from '../config.js';
import type { BrainBackend } from './backend.js';
import { OnnxBackend } from './onnx/onnx-backend.js';
import { createOpenpiBackend } from './openpi/openpi-backend.js';
import { createGr00tBackend } from './gr00t/gr00t-backend.js';
import { ReferenceBackend } from './reference/reference-backend.js';
import { TritonBackend } from './triton/triton-backend.js';
import { createVlmPlannerBackend } from './vlm-planner/vlm-planner-backend.js';

type Factory<K extends BackendConfig['kind']> = (c: Extract<BackendConfig, { kind: K }>, deps: { clock?: Clock }) => Promise<BrainBackend>;


export const BACKENDS: { [K in BackendConfig['kind']]: Factory<K> } = {
  reference: async (c, deps) => new ReferenceBackend({
    ...(c.defaultControlHz !== undefined ? { defaultControlHz: c.defaultControlHz } : {}),
    ...(deps.clock !== undefined ? { clock: deps.clock } : {}),
  }),
  onnx: ({ kind: _kind, ...c }) => OnnxBackend.load(dropUndefined(c)),
  triton: ({ kind: _kind, ...c }) => TritonBackend.connect(dropUndefined(c)),
  openpi: async ({ kind: _kind, ...c }) => createOpenpiBackend(dropUndefined(c)),
  gr00t: async ({ kind: _kind, ...c }) => createGr00tBackend(dropUndefined(c)),
  'vlm-planner': async ({ kind: _kind, apiKeyEnv, imageDecoding, ...c }, deps) => {
    let apiKey: string | undefined;
    if (apiKeyEnv !== undefined) {
      apiKey = process.env[apiKeyEnv];
      if (apiKey === undefined || apiKey === '') throw new Error(`backend.apiKeyEnv: the environment variable ${apiKeyEnv} is not set (it should hold the model server's API key)`);
    }
    return createVlmPlannerBackend({
      ...dropUndefined(c), ...(apiKey !== undefined ? { apiKey } : {}), ...(imageDecoding !== undefined ? { imageDecoding } : {}),
      ...(deps.clock !== undefined ? { clock: deps.clock } : {}),
    });
  },
};

export function createBackend(c: BackendConfig, deps: { clock?: Clock } = {}): Promise<BrainBackend> {
  return (BACKENDS[c.kind] as Factory<typeof c.kind>)(c as never, deps);
}
