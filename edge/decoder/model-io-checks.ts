/**
 * Checks a model's declared inputs and outputs against its DecoderSpec (contract.ts), and the spec
 * against the robot it will drive. The declarations come either from the parsed ModelProto or from
 * onnxruntime's session metadata; both are reduced to `IoDecl` first.
 *
 * Invariant of a passing check: every input the runtime feeds exists with float32 elements and the
 * contract's rank and fixed dims; no other input exists; the output exists with [B, H, A]; and every
 * fixed batch dim agrees (`fixedBatch`, or null when the batch is symbolic everywhere).
 */
import { InputName, OutputName, type DecoderSpec } from './contract.js';
import { DecoderError } from './decoder-error.js';

/** One declared input or output. `dims`: a number for a fixed dim, a string or null otherwise. */
export interface IoDecl {
  name: string;
  isFloat32: boolean;
  dims: readonly (number | string | null)[];
}

export interface IoCheckResult {
  /** The batch size every input fixes, or null when it is symbolic. */
  fixedBatch: number | null;
}

/** What the runtime will feed and fetch for `spec`, batch dim first as the symbol 'B'. */
export function expectedIo(spec: DecoderSpec): { inputs: IoDecl[]; outputs: IoDecl[] } {
  const { horizon: H, actionDim: A, latentDim: Dz, stateDim: Ds } = spec;
  const f = (name: string, dims: (number | string)[]): IoDecl => ({ name, isFloat32: true, dims });
  const inputs = [f(InputName.LATENT, ['B', Dz]), f(InputName.STATE, ['B', Ds])];
  if (spec.kind === 'denoiser') inputs.push(f(InputName.X_T, ['B', H, A]), f(InputName.T, ['B']));
  else inputs.push(f(InputName.NOISE, ['B', H, A]));
  if (spec.supportsPrefix) inputs.push(f(InputName.PREFIX, ['B', H, A]), f(InputName.PREFIX_MASK, ['B', H]));
  const outputs = [f(spec.kind === 'denoiser' ? OutputName.OUT : OutputName.ACTIONS, ['B', H, A])];
  return { inputs, outputs };
}

function fmtDims(d: readonly (number | string | null)[]): string {
  return `[${d.map((x) => (x === null ? '?' : String(x))).join(', ')}]`;
}

/** Throws DecoderError ('io-mismatch' or 'shape-mismatch') naming the first mismatch. */
export function checkModelIo(spec: DecoderSpec, inputs: readonly IoDecl[], outputs: readonly IoDecl[]): IoCheckResult {
  const want = expectedIo(spec);
  let fixedBatch: number | null = null;
  const check = (role: 'input' | 'output', w: IoDecl, got: readonly IoDecl[]): void => {
    const g = got.find((x) => x.name === w.name);
    if (g === undefined) {
      throw new DecoderError('io-mismatch', `model ${role} ${JSON.stringify(w.name)} is missing (a ${spec.kind} model declares ${role}s ${want[`${role}s`].map((x) => x.name).join(', ')}; found ${got.map((x) => x.name).join(', ') || 'none'})`, { [role]: w.name });
    }
    if (!g.isFloat32) throw new DecoderError('io-mismatch', `model ${role} ${JSON.stringify(w.name)} is not float32`, { [role]: w.name });
    if (g.dims.length !== w.dims.length) {
      throw new DecoderError('shape-mismatch', `model ${role} ${JSON.stringify(w.name)} has shape ${fmtDims(g.dims)}, expected ${fmtDims(w.dims)} (rank ${w.dims.length})`, { [role]: w.name });
    }
    g.dims.forEach((d, i) => {
      const e = w.dims[i];
      if (i === 0) {
        if (typeof d !== 'number') return;
        if (d < 1 || (fixedBatch !== null && d !== fixedBatch)) {
          throw new DecoderError('shape-mismatch', `model ${role} ${JSON.stringify(w.name)} fixes batch dim ${d}, other inputs fix ${fixedBatch ?? 'none'}`, { [role]: w.name });
        }
        fixedBatch = d;
        return;
      }
      if (typeof d === 'number' && d !== e) {
        throw new DecoderError('shape-mismatch', `model ${role} ${JSON.stringify(w.name)} has shape ${fmtDims(g.dims)}, but the metadata says ${fmtDims(w.dims)} (dim ${i} is ${d}, expected ${String(e)})`, { [role]: w.name, dim: i, value: d });
      }
    });
  };
  for (const w of want.inputs) check('input', w, inputs);
  const extra = inputs.filter((g) => !want.inputs.some((w) => w.name === g.name));
  if (extra.length > 0) {
    const hint = spec.supportsPrefix ? '' : ' (prefix inputs need spinal.supports_prefix=true)';
    throw new DecoderError('io-mismatch', `model declares input ${extra.map((x) => JSON.stringify(x.name)).join(', ')} that the contract does not feed${hint}`, { input: extra[0]?.name ?? '' });
  }
  for (const w of want.outputs) check('output', w, outputs);
  return { fixedBatch };
}

/** The dims a robot expects of its decoder. */
export interface RobotDims {
  /** For messages: the profile id. */
  robot: string;
  actionDim: number;
  stateDim: number;
}

/** Throws DecoderError 'robot-mismatch' when the model's action or state dim differs from the robot's. */
export function checkSpecAgainstRobot(spec: DecoderSpec, robot: RobotDims): void {
  if (spec.actionDim !== robot.actionDim) {
    throw new DecoderError('robot-mismatch', `model ${JSON.stringify(spec.name)}: spinal.action_dim is ${spec.actionDim}, but robot ${robot.robot} has ${robot.actionDim} joints`, { key: 'spinal.action_dim', value: spec.actionDim, expected: robot.actionDim });
  }
  if (spec.stateDim !== robot.stateDim) {
    throw new DecoderError('robot-mismatch', `model ${JSON.stringify(spec.name)}: spinal.state_dim is ${spec.stateDim}, but robot ${robot.robot} provides a state of ${robot.stateDim}`, { key: 'spinal.state_dim', value: spec.stateDim, expected: robot.stateDim });
  }
}
