/**
 * The tensor contract of a user's policy model, shared by the ONNX and the Triton backends
 * (ONNX_BACKEND.md). Inputs, all float32, the first dim the batch (symbolic, or -1 on Triton):
 *   images       [B, 3, H, W]   optional: one camera, RGB, NCHW, (x/255 - mean) / std
 *   state        [B, S]         optional: the observation's state vector (S = Hello.state_dim)
 *   instruction  [B, E]         optional: the task's instruction, embedded (instruction-embedding.ts)
 * Output: latent [B, Dz] float32, in the latent space the model names.
 * Any other input makes the model unusable (named in the error).
 */
export const INPUT_IMAGES = 'images';
export const INPUT_STATE = 'state';
export const INPUT_INSTRUCTION = 'instruction';
export const OUTPUT_LATENT = 'latent';

export interface ModelContract {
  latentSpace: string;
  latentDim: number;
  stateDim: number | null;
  instructionDim: number | null;
  image: { height: number; width: number } | null;
}

/** A tensor's declared dims: a number when fixed; anything else (a symbol, -1, null) is free. */
export interface DeclaredTensor {
  name: string;
  dims: readonly (number | string | null)[];
}

export type ContractResult = { ok: true; contract: ModelContract } | { ok: false; message: string };

const fixed = (d: number | string | null | undefined): d is number => typeof d === 'number' && d > 0;

export function contractFromTensors(inputs: readonly DeclaredTensor[], outputs: readonly DeclaredTensor[], latentSpace: string): ContractResult {
  const c: ModelContract = { latentSpace, latentDim: 0, stateDim: null, instructionDim: null, image: null };
  if (latentSpace === '') return { ok: false, message: 'the model names no latent space (metadata "spinal.latent_space" or the backend option latentSpace)' };
  for (const t of inputs) {
    const d = t.dims;
    if (t.name === INPUT_STATE || t.name === INPUT_INSTRUCTION) {
      if (d.length !== 2 || !fixed(d[1])) return { ok: false, message: `input "${t.name}" must be [B, n] with a fixed n, got [${d.join(', ')}]` };
      if (t.name === INPUT_STATE) c.stateDim = d[1]; else c.instructionDim = d[1];
    } else if (t.name === INPUT_IMAGES) {
      if (d.length !== 4 || d[1] !== 3 || !fixed(d[2]) || !fixed(d[3])) return { ok: false, message: `input "images" must be [B, 3, H, W] with fixed H and W, got [${d.join(', ')}]` };
      c.image = { height: d[2], width: d[3] };
    } else {
      return { ok: false, message: `input "${t.name}" is not part of the contract (images, state, instruction)` };
    }
  }
  const out = outputs.find((o) => o.name === OUTPUT_LATENT);
  if (out === undefined) return { ok: false, message: `the model has no output "latent" (outputs: ${outputs.map((o) => o.name).join(', ') || 'none'})` };
  if (out.dims.length !== 2 || !fixed(out.dims[1])) return { ok: false, message: `output "latent" must be [B, Dz] with a fixed Dz, got [${out.dims.join(', ')}]` };
  c.latentDim = out.dims[1];
  return { ok: true, contract: c };
}

/** Null when the model can serve this robot, else why not (for BrainBackend.accepts). */
export function contractAccepts(c: ModelContract, h: { latentSpace: string; latentDim: number; stateDim: number }): string | null {
  if (h.latentSpace !== c.latentSpace) return `the model produces "${c.latentSpace}", the robot decodes "${h.latentSpace}"`;
  if (h.latentDim !== c.latentDim) return `the model produces latent_dim ${c.latentDim}, the robot expects ${h.latentDim}`;
  if (c.stateDim !== null && h.stateDim !== c.stateDim) return `the model takes state_dim ${c.stateDim}, the robot sends ${h.stateDim}`;
  return null;
}
