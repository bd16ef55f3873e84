/**
 * Errors of the decoder runtime as data: a stable `code` for programs, a message that names the
 * offending key or value for people, and an optional `detail` record. DecoderErrors cross the
 * worker boundary as `DecoderErrorData` and are rebuilt on the other side with the same code.
 */
export type DecoderErrorCode =
  /** The bytes are not a readable ONNX ModelProto. */
  | 'not-onnx'
  /** A required metadata key is absent. */
  | 'missing-metadata'
  /** A metadata value does not parse or is out of range. */
  | 'bad-metadata'
  /** `spinal.contract` names a contract version this runtime does not implement. */
  | 'contract-version'
  /** An input or output is missing, unexpected, or has the wrong element type. */
  | 'io-mismatch'
  /** A declared input or output shape disagrees with the metadata. */
  | 'shape-mismatch'
  /** The model's dims disagree with the robot profile (action dim vs joints, state dim). */
  | 'robot-mismatch'
  /** action/state mean or std: wrong length, non-finite, or std <= 0. */
  | 'bad-normalisation'
  /** No configured execution provider could create a session. */
  | 'session-failed'
  /** A run produced NaN or Inf; nothing is returned as actions. */
  | 'non-finite'
  /** A decode request that does not fit the loaded model (dims, steps, sampler). */
  | 'bad-request'
  /** A prefix was given to a fused model that does not take one. */
  | 'prefix-unsupported'
  /** The worker thread died or could not start. */
  | 'worker-failed'
  /** The decoder was closed. */
  | 'closed';

export interface DecoderErrorData {
  code: DecoderErrorCode;
  message: string;
  detail?: Record<string, string | number | boolean>;
}

export class DecoderError extends Error {
  override readonly name = 'DecoderError';
  readonly code: DecoderErrorCode;
  readonly detail: Record<string, string | number | boolean>;

  constructor(code: DecoderErrorCode, message: string, detail: Record<string, string | number | boolean> = {}) {
    super(message);
    this.code = code;
    this.detail = detail;
  }

  toData(): DecoderErrorData {
    return { code: this.code, message: this.message, detail: this.detail };
  }

  static fromData(d: DecoderErrorData): DecoderError {
    return new DecoderError(d.code, d.message, d.detail ?? {});
  }
}

/** Any thrown value as DecoderErrorData; foreign errors take `fallback` as their code. */
export function toErrorData(e: unknown, fallback: DecoderErrorCode): DecoderErrorData {
  if (e instanceof DecoderError) return e.toData();
  return { code: fallback, message: e instanceof Error ? e.message : String(e) };
}
