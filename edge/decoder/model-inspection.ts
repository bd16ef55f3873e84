/**
 * Load-time inspection of a decoder model's bytes, before any session exists: parse the ModelProto
 * (metadata_props, which onnxruntime-node does not expose, and the declared graph inputs/outputs),
 * read the DecoderSpec, and check the declared I/O against it.
 */
import { readModel, type TensorInfo } from '../../proto/onnx/index.js';
import type { DecoderSpec } from './contract.js';
import { DecoderError } from './decoder-error.js';
import { checkModelIo, type IoDecl } from './model-io-checks.js';
import { specFromMetadata } from './spec-from-metadata.js';

const ONNX_FLOAT = 1;

export interface InspectedModel {
  spec: DecoderSpec;
  /** The batch size the graph fixes, or null when the batch dim is symbolic. */
  fixedBatch: number | null;
  inputs: IoDecl[];
  outputs: IoDecl[];
}

function decl(t: TensorInfo): IoDecl {
  return { name: t.name, isFloat32: t.elemType === ONNX_FLOAT, dims: t.dims };
}

/** Throws DecoderError naming the first reason the bytes are not a decoder of this contract. */
export function inspectModel(bytes: Uint8Array): InspectedModel {
  let summary;
  try {
    summary = readModel(bytes);
  } catch (e) {
    throw new DecoderError('not-onnx', `not an ONNX model: ${(e as Error).message}`);
  }
  if (summary.inputs.length === 0 && summary.outputs.length === 0) {
    throw new DecoderError('not-onnx', 'not an ONNX model: no graph inputs or outputs');
  }
  const spec = specFromMetadata(new Map(Object.entries(summary.metadata)));
  const inputs = summary.inputs.map(decl);
  const outputs = summary.outputs.map(decl);
  const { fixedBatch } = checkModelIo(spec, inputs, outputs);
  return { spec, fixedBatch, inputs, outputs };
}
