/**
 * Builds the contract's input tensors (model-contract.ts) for a batch of requests. A request whose
 * inputs cannot be made (an undecodable frame) gets an error and a zero row; the others go on.
 */
import type { InferRequest } from './backend.js';
import { writeFrameNchw, type ImageSpec } from './image-input.js';
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

export function buildBatchInputs(
  batch: readonly InferRequest[],
  c: ModelContract,
  norm: { mean: readonly [number, number, number]; std: readonly [number, number, number] } = DEFAULT_IMAGE_NORM,
  cameraId?: string,
): BatchInputs {
  const B = batch.length;
  const errors: (string | null)[] = batch.map(() => null);
  const tensors: BatchTensor[] = [];
  if (c.image !== null) {
    const spec: ImageSpec = { ...c.image, ...norm };
    const data = new Float32Array(B * 3 * spec.height * spec.width);
    batch.forEach((r, i) => {
      const frames = r.observation.frames;
      const frame = cameraId !== undefined ? frames.find((f) => f.cameraId === cameraId) : frames[0];
      if (frame === undefined) return; // no frame: zeros, documented
      errors[i] = writeFrameNchw(frame, spec, data, i);
    });
    tensors.push({ name: INPUT_IMAGES, dims: [B, 3, spec.height, spec.width], data });
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
