/**
 * Builds the contract's input tensors (model-contract.ts) for a batch of requests. Camera frames
 * arrive already decoded (InferRequest.prepared, by images/image-preparer.ts in a worker pool):
 * nothing here decodes, so building a batch stays cheap on the event loop. A request whose inputs
 * cannot be made gets an error and a zero row; the others go on.
 */
import type { InferRequest } from './backend.js';
import { embedInstruction } from './instruction-embedding.js';
import { INPUT_IMAGES, INPUT_INSTRUCTION, INPUT_STATE, type ModelContract } from './model-contract.js';

export interface BatchTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface BatchInputs {
  tensors: BatchTensor[];
  /** Per request: null, or why its inputs could not be built. */
  errors: (string | null)[];
}

export const DEFAULT_IMAGE_NORM = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;

export function buildBatchInputs(batch: readonly InferRequest[], c: ModelContract): BatchInputs {
  const B = batch.length;
  const errors: (string | null)[] = batch.map(() => null);
  const tensors: BatchTensor[] = [];
  if (c.image !== null) {
    const item = 3 * c.image.height * c.image.width;
    const data = new Float32Array(B * item);
    batch.forEach((r, i) => {
      const image = r.prepared?.image;
      if (image === undefined) errors[i] = 'the camera frame was not decoded before the batch (internal: prepare() was skipped)';
      else if (image === null) return; // no frame: zeros, documented
      else if (image.length !== item) errors[i] = `the decoded frame has ${image.length} values, the model takes ${item}`;
      else data.set(image, i * item);
    });
    tensors.push({ name: INPUT_IMAGES, dims: [B, 3, c.image.height, c.image.width], data });
  }
  if (c.stateDim !== null) {
    const S = c.stateDim;
    const data = new Float32Array(B * S);
    batch.forEach((r, i) => {
      if (r.observation.state.length !== S) errors[i] ??= `state has ${r.observation.state.length} values, the model takes ${S}`;
      else data.set(r.observation.state, i * S);
    });
    tensors.push({ name: INPUT_STATE, dims: [B, S], data });
  }
  if (c.instructionDim !== null) {
    const E = c.instructionDim;
    const data = new Float32Array(B * E);
    batch.forEach((r, i) => embedInstruction(r.task.instruction, E, data, i * E));
    tensors.push({ name: INPUT_INSTRUCTION, dims: [B, E], data });
  }
  return { tensors, errors };
}
