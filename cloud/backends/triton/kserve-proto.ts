/**
 * Loads grpc_predict_v2.proto (beside this module in the sources; from the repository root's
 * cloud/backends/triton/ when running from dist/, which holds no .proto) and types the messages
 * as grpc-js delivers them: camelCase, int64 as numbers, bytes as Buffer, defaults filled in.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const KSERVE_PROTO_FILE = 'grpc_predict_v2.proto';
export const KSERVE_SERVICE = 'inference.GRPCInferenceService';

export function kserveProtoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, KSERVE_PROTO_FILE))) return join(here, KSERVE_PROTO_FILE);
  for (let dir = here; ; dir = resolve(dir, '..')) {
    const p = join(dir, 'cloud', 'backends', 'triton', KSERVE_PROTO_FILE);
    if (existsSync(join(dir, 'package.json')) && existsSync(p)) return p;
    if (resolve(dir, '..') === dir) break;
  }
  throw new Error(`${KSERVE_PROTO_FILE} not found beside ${here} nor under a repository root above it`);
}

let cached: protoLoader.ServiceDefinition | undefined;

export function kserveServiceDefinition(): protoLoader.ServiceDefinition {
  cached ??= protoLoader.loadSync(kserveProtoPath(), {
    keepCase: false, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true,
  })[KSERVE_SERVICE] as protoLoader.ServiceDefinition;
  return cached;
}

export interface TensorMetadata { name: string; datatype: string; shape: number[] }
export interface ModelMetadataResponse { name: string; versions: string[]; platform: string; inputs: TensorMetadata[]; outputs: TensorMetadata[] }

export interface TensorContents {
  boolContents?: boolean[];
  intContents?: number[];
  int64Contents?: number[];
  uintContents?: number[];
  uint64Contents?: number[];
  fp32Contents?: number[];
  fp64Contents?: number[];
  bytesContents?: Buffer[];
}

export interface InferTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: TensorContents | null;
}

export interface ModelInferRequest {
  modelName: string;
  modelVersion: string;
  id: string;
  inputs: InferTensor[];
  outputs: { name: string }[];
  rawInputContents: Buffer[];
}

export interface ModelInferResponse {
  modelName: string;
  modelVersion: string;
  id: string;
  outputs: InferTensor[];
  rawOutputContents: Buffer[];
}
