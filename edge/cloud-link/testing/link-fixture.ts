/** Builders for the cloud link's tests: a link for the arm6-gripper profile fed by a settable state. */
import { getProfile } from '../../../hardware/index.js';
import { REFERENCE_GOAL_LATENT_SPACE, referenceGoalLatentDim } from '../../../proto/latent/reference-goal.js';
import { systemClock, type Clock } from '../../clock.js';
import type { Observation } from '../../estimation/index.js';
import { CloudLink } from '../cloud-link.js';
import { FakeBrain, type FakeBrainOptions } from './fake-brain.js';
import type { CloudLinkOptions, StateChangeEvent, StateSource } from '../cloud-link-types.js';

export const profile = getProfile('arm6-gripper');
export const J = profile.joints.length;

/** A state source whose positions a test sets; stamped with `clock` at each read. */
export class SettableState implements StateSource {
  readonly jointCount = J;
  positions = new Float64Array(J);
  reads = 0;
  constructor(private readonly clock: Clock = systemClock) {}
  read(out: Observation): boolean {
    this.reads++;
    out.sampleCount = this.reads;
    out.hostTimeUs = this.clock.nowUs();
    out.position.set(this.positions);
    return true;
  }
}

export function makeLink(target: string, over: Partial<CloudLinkOptions> = {}): { link: CloudLink; states: string[]; changes: StateChangeEvent[] } {
  const clock = over.clock ?? systemClock;
  const link = new CloudLink({
    target,
    robotId: 'robot-1',
    profile,
    decoder: { latentSpace: REFERENCE_GOAL_LATENT_SPACE, latentDim: referenceGoalLatentDim(J), stateDim: J, actionDim: J, horizon: 16, controlHz: 100 },
    softwareVersion: '0.1.0',
    state: new SettableState(clock),
    observationRateHz: 30,
    backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
    connectTimeoutMs: 2_000,
    helloTimeoutMs: 2_000,
    ...over,
  });
  const states: string[] = [];
  const changes: StateChangeEvent[] = [];
  link.on('state-change', (ev) => {
    states.push(`${ev.from}>${ev.to}`);
    changes.push(ev);
  });
  return { link, states, changes };
}

/** Polls `cond` every 5 ms (real time) until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Fake brains and links of one test file, torn down together: `brain()` starts one, `track()`
 * registers a link, `dispose()` (the file's afterEach) kills and closes them all.
 */
export function linkScope(): { brain(opts?: FakeBrainOptions): Promise<FakeBrain>; track(link: CloudLink): CloudLink; dispose(): void } {
  const cleanup: (() => void)[] = [];
  return {
    async brain(opts: FakeBrainOptions = {}): Promise<FakeBrain> {
      const b = new FakeBrain(opts);
      await b.start();
      cleanup.push(() => b.kill());
      return b;
    },
    track(link: CloudLink): CloudLink {
      cleanup.push(() => link.close());
      return link;
    },
    dispose(): void {
      for (const f of cleanup.splice(0)) f();
    },
  };
}
