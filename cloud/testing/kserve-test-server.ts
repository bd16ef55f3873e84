/**
 * A KServe v2 gRPC inference server for tests, faithful to the protocol where the Triton backend
 * relies on it: ServerLive/ServerReady/ModelReady/ModelMetadata/ModelInfer; an unknown model is
 * NOT_FOUND; inputs come either all as raw_input_contents (then no input may carry `contents`) or
 * all typed; every input's byte/element count must match its shape; outputs go back raw (as
 * Triton does) or typed, as configured. The "model" is a TypeScript function over FP32 rows.
 */
import * as grpc from '@grpc/grpc-js';
import { kserveServiceDefinition, type InferTensor, type ModelInferRequest, type ModelInferResponse, type TensorMetadata } from '../backends/triton/kserve-proto.js';

export interface KserveTestModel {
  name: string;
  inputs: TensorMetadata[];
  /** Latent width. */
  outputDim: number;
  /** One batch row: the named inputs' rows -> the output row. */
  run(row: Record<string, Float32Array>): Float32Array;
}

export interface KserveTestServer {
  address: string;
  /** Requests received by ModelInfer. */
  requests: ModelInferRequest[];
  replyRaw: boolean;
  ready: boolean;
  close(): Promise<void>;
}

const fail = (code: grpc.status, details: string): Partial<grpc.StatusObject> => ({ code, details });
const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export async function startKserveTestServer(model: KserveTestModel): Promise<KserveTestServer> {
  const server = new grpc.Server();
  const state: KserveTestServer = { address: '', requests: [], replyRaw: true, ready: true, close: async () => undefined };
  const known = (name: string): boolean => name === model.name;
  server.addService(kserveServiceDefinition() as grpc.ServiceDefinition, {
    ServerLive: (_c: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => cb(null, { live: true }),
    ServerReady: (_c: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => cb(null, { ready: state.ready }),
    ModelReady: (c: grpc.ServerUnaryCall<{ name: string }, object>, cb: grpc.sendUnaryData<object>) => {
      if (!known(c.request.name)) { cb(fail(grpc.status.NOT_FOUND, `Request for unknown model: '${c.request.name}' is not found`)); return; }
      cb(null, { ready: state.ready });
    },
    ModelMetadata: (c: grpc.ServerUnaryCall<{ name: string }, object>, cb: grpc.sendUnaryData<object>) => {
      if (!known(c.request.name)) { cb(fail(grpc.status.NOT_FOUND, `Request for unknown model: '${c.request.name}' is not found`)); return; }
      cb(null, { name: model.name, versions: ['1'], platform: 'onnxruntime_onnx', inputs: model.inputs, outputs: [{ name: 'latent', datatype: 'FP32', shape: [-1, model.outputDim] }] });
    },
    ModelInfer: (c: grpc.ServerUnaryCall<ModelInferRequest, ModelInferResponse>, cb: grpc.sendUnaryData<ModelInferResponse>) => {
      const r = c.request;
      state.requests.push(r);
      if (!known(r.modelName)) { cb(fail(grpc.status.NOT_FOUND, `Request for unknown model: '${r.modelName}' is not found`)); return; }
      const raw = r.rawInputContents.length > 0;
      if (raw && r.rawInputContents.length !== r.inputs.length) {
        cb(fail(grpc.status.INVALID_ARGUMENT, `expected ${r.inputs.length} raw_input_contents, got ${r.rawInputContents.length}`)); return;
      }
      const values: Record<string, Float32Array> = {};
      let batch = -1;
      for (const [i, t] of r.inputs.entries()) {
        const decl = model.inputs.find((d) => d.name === t.name);
        if (decl === undefined) { cb(fail(grpc.status.INVALID_ARGUMENT, `unexpected inference input '${t.name}'`)); return; }
        if (t.datatype !== 'FP32') { cb(fail(grpc.status.INVALID_ARGUMENT, `input '${t.name}' datatype ${t.datatype}, expected FP32`)); return; }
        if (raw && t.contents != null && Object.values(t.contents).some((v) => Array.isArray(v) && v.length > 0)) {
          cb(fail(grpc.status.INVALID_ARGUMENT, `contents field must not be specified when using raw_input_contents for '${t.name}'`)); return;
        }
        const n = count(t.shape);
        let data: Float32Array;
        if (raw) {
          const b = r.rawInputContents[i] as Buffer;
          if (b.length !== n * 4) { cb(fail(grpc.status.INVALID_ARGUMENT, `input '${t.name}' got ${b.length} bytes, expected ${n * 4}`)); return; }
          data = new Float32Array(n);
          for (let k = 0; k < n; k++) data[k] = b.readFloatLE(k * 4);
        } else {
          data = Float32Array.from(t.contents?.fp32Contents ?? []);
          if (data.length !== n) { cb(fail(grpc.status.INVALID_ARGUMENT, `input '${t.name}' got ${data.length} values, expected ${n}`)); return; }
        }
        batch = t.shape[0] ?? -1;
        values[t.name] = data;
      }
      const out = new Float32Array(batch * model.outputDim);
      for (let b = 0; b < batch; b++) {
        const row: Record<string, Float32Array> = {};
        for (const [name, v] of Object.entries(values)) { const w = v.length / batch; row[name] = v.subarray(b * w, (b + 1) * w); }
        out.set(model.run(row), b * model.outputDim);
      }
      const tensor: InferTensor = { name: 'latent', datatype: 'FP32', shape: [batch, model.outputDim] };
      cb(null, state.replyRaw
        ? { modelName: model.name, modelVersion: '1', id: r.id, outputs: [tensor], rawOutputContents: [Buffer.from(out.buffer, out.byteOffset, out.byteLength)] }
        : { modelName: model.name, modelVersion: '1', id: r.id, outputs: [{ ...tensor, contents: { fp32Contents: Array.from(out) } }], rawOutputContents: [] });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e !== null ? reject(e) : resolve(p))));
  state.address = `127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return state;
}
