/**
 * A minimal KServe v2 gRPC client (Triton Inference Server's protocol): liveness, readiness,
 * metadata and inference, each a promise with a deadline.
 */
import * as grpc from '@grpc/grpc-js';
import {
  kserveServiceDefinition, type ModelInferRequest, type ModelInferResponse, type ModelMetadataResponse,
} from './kserve-proto.js';

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => grpc.ClientUnaryCall;

interface RawClient extends grpc.Client {
  ServerLive: Unary<object, { live: boolean }>;
  ServerReady: Unary<object, { ready: boolean }>;
  ModelReady: Unary<{ name: string; version: string }, { ready: boolean }>;
  ModelMetadata: Unary<{ name: string; version: string }, ModelMetadataResponse>;
  ModelInfer: Unary<Partial<ModelInferRequest>, ModelInferResponse>;
}

export interface TritonClientOptions {
  /** host:port of the server's gRPC endpoint (Triton: 8001). */
  address: string;
  credentials?: grpc.ChannelCredentials;
  /** Largest response accepted (bytes). */
  maxReceiveBytes?: number;
}

export class TritonClient {
  private readonly client: RawClient;

  constructor(o: TritonClientOptions) {
    const Ctor = grpc.makeClientConstructor(kserveServiceDefinition() as grpc.ServiceDefinition, 'GRPCInferenceService');
    this.client = new Ctor(o.address, o.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': o.maxReceiveBytes ?? 64 * 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
    }) as unknown as RawClient;
  }

  private call<Req, Res>(m: Unary<Req, Res>, req: Req, timeoutMs: number, signal?: AbortSignal): Promise<Res> {
    return new Promise((resolve, reject) => {
      const c = m.call(this.client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => {
        signal?.removeEventListener('abort', cancel);
        if (e !== null) reject(e);
        else if (r === undefined) reject(new Error('empty response'));
        else resolve(r);
      });
      const cancel = (): void => c.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  async serverLive(timeoutMs = 1000): Promise<boolean> {
    return (await this.call(this.client.ServerLive, {}, timeoutMs)).live;
  }

  async serverReady(timeoutMs = 1000): Promise<boolean> {
    return (await this.call(this.client.ServerReady, {}, timeoutMs)).ready;
  }

  async modelReady(name: string, version = '', timeoutMs = 1000): Promise<boolean> {
    return (await this.call(this.client.ModelReady, { name, version }, timeoutMs)).ready;
  }

  modelMetadata(name: string, version = '', timeoutMs = 1000): Promise<ModelMetadataResponse> {
    return this.call(this.client.ModelMetadata, { name, version }, timeoutMs);
  }

  modelInfer(req: Partial<ModelInferRequest>, timeoutMs: number, signal?: AbortSignal): Promise<ModelInferResponse> {
    return this.call(this.client.ModelInfer, req, timeoutMs, signal);
  }

  close(): void {
    this.client.close();
  }
}
