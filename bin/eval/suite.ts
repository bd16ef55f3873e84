/** The eval's tasks (the reference brain's grammar on both profiles) and its condition matrices. */
import { SwitchPolicy } from '../../edge/control/switch-policy.js';
import type { EvalCondition, EvalTask, Execution } from './eval-types.js';

export const TASKS: readonly EvalTask[] = [
  { id: 'hold', profile: 'arm6-gripper', instruction: 'hold', durationS: 10, holdS: 9 },
  { id: 'reach-ready', profile: 'arm6-gripper', instruction: 'go to ready', holdS: 1.5 },
  { id: 'joints', profile: 'arm6-gripper', instruction: 'joints 0.5 -0.3 0.6 0 0.2 0 0.2', holdS: 1.5 },
  { id: 'sequence', profile: 'arm6-gripper', instruction: 'ready then stow then home', holdS: 1.5 },
  { id: 'wave', profile: 'arm6-gripper', instruction: 'wave', holdS: 2 },
  { id: 'hold', profile: 'quadruped12', instruction: 'hold', durationS: 10, holdS: 9 },
  { id: 'reach-lie', profile: 'quadruped12', instruction: 'go to lie', holdS: 1.5 },
  { id: 'joints', profile: 'quadruped12', instruction: 'joints 0.2 1.0 -1.2 -0.2 1.0 -1.2 0.2 0.6 -1.8 -0.2 0.6 -1.8', holdS: 1.5 },
  { id: 'sequence', profile: 'quadruped12', instruction: 'wide then lie then home', holdS: 1.5 },
  { id: 'wave', profile: 'quadruped12', instruction: 'wave', holdS: 2 },
];

/** Decode latency as the control loop sees it, per decoder, ms (simulated): the median decode (10
 * Euler steps, H 16, in-thread, CPU) measured on the project's shared 2-core machine, rounded up:
 * reference 0.4 ms, DiT-S 57 ms (7 and 12 action dims alike). */
export const DECODER_LATENCY_MS: Record<EvalCondition['decoder'], number> = { reference: 1, 'dit-s': 60 };

/** The daemon's default switching policy (edge/config.ts control.policy). */
export const DEFAULT_EXECUTION: Execution = SwitchPolicy.CROSSFADE;

export const EXECUTIONS: readonly Execution[] = [SwitchPolicy.HARD, SwitchPolicy.CROSSFADE, SwitchPolicy.ENSEMBLE, SwitchPolicy.INPAINT, 'stop-and-go'];
export const BRAIN_LATENCIES_MS: readonly number[] = [0, 100, 300, 500];

export function condition(execution: Execution, decoder: EvalCondition['decoder'], brainLatencyMs: number, extra: Partial<EvalCondition> = {}): EvalCondition {
  return {
    execution, decoder, decoderLatencyMs: DECODER_LATENCY_MS[decoder], brainLatencyMs, brainJitterMs: brainLatencyMs / 5,
    planLoss: 0, seed: 1, ...extra,
  };
}

export interface SuiteEntry { task: EvalTask; condition: EvalCondition }

/** The short suite CI runs: holding and a named reach on both profiles, with the shipping
 * switching policy and the reference decoder, at 0 and 300 ms of brain latency. */
export function shortSuite(policy: Execution): SuiteEntry[] {
  const pick = (p: string, id: string): EvalTask => TASKS.find((t) => t.profile === p && t.id === id) as EvalTask;
  const out: SuiteEntry[] = [];
  for (const p of ['arm6-gripper', 'quadruped12']) {
    out.push({ task: pick(p, 'hold'), condition: condition(policy, 'reference', 0) });
    const reach = pick(p, p === 'arm6-gripper' ? 'reach-ready' : 'reach-lie');
    for (const lat of [0, 300]) out.push({ task: reach, condition: condition(policy, 'reference', lat) });
  }
  return out;
}

/** The full matrix: every task x execution x brain latency x decoder, plus plan loss and a slow decoder. */
export function fullSuite(tasks: readonly EvalTask[] = TASKS): SuiteEntry[] {
  const out: SuiteEntry[] = [];
  for (const decoder of ['reference', 'dit-s'] as const) {
    for (const execution of EXECUTIONS) {
      for (const lat of BRAIN_LATENCIES_MS) for (const task of tasks) out.push({ task, condition: condition(execution, decoder, lat) });
    }
  }
  return out;
}

/** Faults beside the matrix: plans lost on the way, a slow decoder. */
export function faultSuite(policy: Execution, tasks: readonly EvalTask[] = TASKS): SuiteEntry[] {
  const out: SuiteEntry[] = [];
  for (const task of tasks) {
    out.push({ task, condition: condition(policy, 'reference', 100, { planLoss: 0.3 }) });
    out.push({ task, condition: condition(policy, 'reference', 100, { decoderLatencyMs: 120 }) });
  }
  return out;
}
