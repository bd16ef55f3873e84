/**
 * onnxruntime sessions with execution providers tried in the configured order: each provider that
 * fails to create a session (CUDA or TensorRT libraries absent, as on a CPU-only machine) is
 * recorded with its reason and the next one is tried. The provider that actually runs is reported.
 */
import ort from 'onnxruntime-node';
import { DecoderError } from './decoder-error.js';

export interface ProviderFailure { provider: string; reason: string }

export interface OrtSessionResult {
  session: ort.InferenceSession;
  provider: string;
  fallbacks: ProviderFailure[];
}

export interface OrtSessionOptions {
  /** Execution providers in order of preference; default ['cpu']. */
  providers?: readonly string[];
  /** Threads of one operator; default onnxruntime's choice (all cores). */
  intraOpThreads?: number;
  /** Let onnxruntime's idle pool threads spin (default false: on the robot computer the decoder
   * shares cores with the control loop, and spinning threads would steal them). */
  allowSpinning?: boolean;
}

export const DEFAULT_PROVIDERS: readonly string[] = ['cpu'];

/** Severity of onnxruntime's own log: 3 errors only; 4 (fatal) while probing optional providers. */
const LOG_ERRORS = 3;
const LOG_FATAL = 4;

export async function createSessionWithFallback(bytes: Uint8Array, o: OrtSessionOptions = {}): Promise<OrtSessionResult> {
  const providers = o.providers ?? DEFAULT_PROVIDERS;
  if (providers.length === 0) throw new DecoderError('session-failed', 'no execution provider configured');
  const fallbacks: ProviderFailure[] = [];
  for (const provider of providers) {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      logSeverityLevel: provider === 'cpu' ? LOG_ERRORS : LOG_FATAL,
      extra: { session: { intra_op: { allow_spinning: o.allowSpinning === true ? '1' : '0' } } },
    };
    if (o.intraOpThreads !== undefined) options.intraOpNumThreads = o.intraOpThreads;
    try {
      const session = await ort.InferenceSession.create(bytes, options);
      return { session, provider, fallbacks };
    } catch (e) {
      fallbacks.push({ provider, reason: (e as Error).message.split('\n')[0] ?? String(e) });
    }
  }
  throw new DecoderError('session-failed',
    `no execution provider could load the model: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}`,
    { providers: providers.join(',') });
}
