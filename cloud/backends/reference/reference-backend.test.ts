import { describe, expect, it } from 'vitest';
import { decodeGoal, goalRangeFromLimits } from '../../../proto/latent/reference-goal.js';
import { ManualClock } from '../../clock.js';
import { testHello, testObservation } from '../../testing/brain-test-client.js';
import type { InferRequest, InferResult } from '../backend.js';
import { parseInstruction } from './instruction-parser.js';
import { ReferenceBackend } from './reference-backend.js';
import { GoalRunner } from './goal-runner.js';
import { MIN_MOTION_S, robotJointsFromHello } from './robot-kinematics.js';

const hello = testHello('r1');
const robot = robotJointsFromHello(hello);
const range = goalRangeFromLimits([-3, -2, -2.5], [3, 2, 2.5]);
const ctx = { signal: new AbortController().signal, timeoutMs: 100 };

function targets(text: string): number[][] {
  const p = parseInstruction(text, robot);
  if (!p.ok) throw new Error(p.message);
  return p.program.steps.map((s) => (s.target.kind === 'positions' ? s.target.positions : []));
}

describe('reference instruction grammar', () => {
  it('named poses, however phrased', () => {
    for (const t of ['home', 'Home.', 'go home', 'go to home', 'Go to the home pose', 'move to home position']) expect(targets(t)).toEqual([[0, 0.5, -0.5]]);
    expect(targets('go to ready')).toEqual([[1, 1, 1]]);
  });

  it('explicit joint targets in radians or degrees', () => {
    expect(targets('joints 0.1 -0.3 0.2')).toEqual([[0.1, -0.3, 0.2]]);
    const [deg] = targets('joints 90 -45 0 deg');
    [Math.PI / 2, -Math.PI / 4, 0].forEach((v, j) => expect(deg?.[j]).toBeCloseTo(v, 12));
    const [mixed] = targets('joints 10deg, 0.5, 0rad');
    expect(mixed?.[0]).toBeCloseTo(Math.PI / 18, 12);
  });

  it('refuses wrong counts, non-numbers and targets outside the limits, naming them', () => {
    const two = parseInstruction('joints 0.1 0.2', robot);
    expect(two.ok ? '' : two.message).toMatch(/2 values given, this robot has 3 joints \(pan, lift, elbow\)/);
    const far = parseInstruction('joints 0 5 0', robot);
    expect(far.ok ? '' : far.message).toMatch(/joint 1 \(lift\) target 5\.0000 rad is outside its limits \[-2, 2\]/);
    const word = parseInstruction('joints a b c', robot);
    expect(word.ok ? '' : word.message).toMatch(/"a" is not a number/);
  });

  it('sequences: wave, and poses joined by "then"', () => {
    const wave = targets('wave');
    expect(wave).toHaveLength(8); // home, 3 x (out, in), home
    expect(wave[0]).toEqual([0, 0.5, -0.5]);
    expect(wave[1]?.[0]).toBeCloseTo(0.5, 12);
    expect(wave[2]?.[0]).toBeCloseTo(-0.5, 12);
    expect(wave[1]?.slice(1)).toEqual([0.5, -0.5]);
    expect(targets('home then ready then home')).toEqual([[0, 0.5, -0.5], [1, 1, 1], [0, 0.5, -0.5]]);
    expect(targets('sequence ready, home')).toEqual([[1, 1, 1], [0, 0.5, -0.5]]);
  });

  it('a wave swings at a pace people see, however fast the joints are', () => {
    const fast = { ...robot, velocityMax: robot.velocityMax.map(() => 1000), accelerationMax: robot.accelerationMax.map(() => 1e5) };
    const p = parseInstruction('wave', fast);
    if (!p.ok) throw new Error(p.message);
    const home = [0, 0.5, -0.5];
    // Each goal reached at once: the runner moves on at its next call (home is the first goal).
    const runner = new GoalRunner(p.program, fast, home, 0);
    const swings: number[] = [];
    let state = home, now = 0;
    for (let g = runner.next(state, now); ; g = runner.next(state, now)) {
      swings.push(g.timeS);
      if (g.step === p.program.steps.length - 1) break;
      state = g.position;
      now += g.timeS * 1000;
      runner.next(state, now);
    }
    expect(swings).toHaveLength(7); // 3 x (out, in), back to home
    for (const t of swings) expect(t).toBeCloseTo(0.5, 12); // the joints alone would allow 0.1 s
    // Other programs keep the kinematic bound.
    const reach = parseInstruction('go to ready', fast);
    if (!reach.ok) throw new Error(reach.message);
    expect(new GoalRunner(reach.program, fast, home, 0).next(home, 0).timeS).toBeCloseTo(MIN_MOTION_S, 12);
  });

  it('explains the grammar with this robot\'s poses when it does not understand', () => {
    const r = parseInstruction('make me a sandwich', robot);
    expect(r.ok).toBe(false);
    const message = r.ok ? '' : r.message;
    expect(message).toMatch(/not understood; the robot holds its position/);
    expect(message).toMatch(/poses of this robot: home, ready/);
    expect(message).toMatch(/joints <q1> \.\.\. <q3>/);
  });
});

describe('reference backend', () => {
  const request = (seq: number, state: number[], instruction: string, taskId = 't1'): InferRequest =>
    ({ session: { sessionId: 's1', hello }, observation: testObservation(seq, state), task: { taskId, instruction } });
  const latentOf = (r: InferResult | undefined): ArrayLike<number> => { if (r?.ok !== true) throw new Error('no latent'); return r.latent; };

  it('accepts only its latent space with 2J + 1 dims', () => {
    const b = new ReferenceBackend();
    expect(b.accepts(hello)).toBeNull();
    expect(b.accepts({ ...hello, latentDim: 3 })).toMatch(/latent_dim 3 does not fit 3 joints \(expected 7\)/);
    expect(b.accepts({ ...hello, latentSpace: 'other/1' })).toMatch(/spinal\.reference-goal\/2/);
  });

  it('encodes the goal so the reference decoder recovers it (decodeGoal round trip), with a time the velocity limits allow', async () => {
    const clock = new ManualClock();
    const b = new ReferenceBackend({ clock });
    const [r] = await b.infer([request(1, [0, 0, 0], 'go to ready')], ctx);
    const g = decodeGoal(latentOf(r), range);
    [1, 1, 1].forEach((q, j) => expect(g.position[j]).toBeCloseTo(q, 5));
    [0, 0, 0].forEach((q, j) => expect(g.from[j]).toBeCloseTo(q, 5));
    // 1 rad at 0.8 x 2 rad/s peak on a minimum-jerk path: 1.875 / 1.6 s = 1.17 s = 117 steps at 100 Hz
    expect(g.stepsToGoal).toBeCloseTo(117.19, 1);
    // Later plans of the same motion describe the same path: same start, same duration.
    clock.advanceMs(400);
    const [later] = await b.infer([request(2, [0.4, 0.4, 0.4], 'go to ready')], ctx);
    const l = decodeGoal(latentOf(later), range);
    [0, 0, 0].forEach((q, j) => expect(l.from[j]).toBeCloseTo(q, 5));
    expect(l.stepsToGoal).toBeCloseTo(117.19, 1);
  });

  it('holds the start position with no task, and on an instruction it does not understand (with one BAD_INSTRUCTION notice)', async () => {
    const b = new ReferenceBackend({ clock: new ManualClock() });
    const [none] = await b.infer([request(1, [0.2, 0.1, 0], '', '')], ctx);
    [0.2, 0.1, 0].forEach((q, j) => expect(decodeGoal(latentOf(none), range).position[j]).toBeCloseTo(q, 5));
    const [bad] = await b.infer([request(2, [0.3, 0.1, 0], 'fly', 't2')], ctx);
    expect(bad).toMatchObject({ ok: true, notice: { code: 'BAD_INSTRUCTION' } });
    [0.3, 0.1, 0].forEach((q, j) => expect(decodeGoal(latentOf(bad), range).position[j]).toBeCloseTo(q, 5));
    const [again] = await b.infer([request(3, [0.35, 0.1, 0], 'fly', 't2')], ctx);
    expect(again).not.toHaveProperty('notice');
    [0.3, 0.1, 0].forEach((q, j) => expect(decodeGoal(latentOf(again), range).position[j]).toBeCloseTo(q, 5)); // held, no drift
  });

  it('advances a sequence when the robot reaches each goal, or after the step timeout', async () => {
    const clock = new ManualClock();
    const b = new ReferenceBackend({ clock });
    const goal = async (seq: number, state: number[]): Promise<number> => {
      const [r] = await b.infer([request(seq, state, 'home then ready')], ctx);
      return decodeGoal(latentOf(r), range).position[0] as number;
    };
    expect(b.status('s1')).toBeNull();
    expect(await goal(1, [0.5, 0.5, 0])).toBeCloseTo(0, 5); // first goal: home
    expect(b.status('s1')).toMatch(/^step 1\/2 \(/);
    clock.advanceMs(100);
    expect(await goal(2, [0.2, 0.5, -0.3])).toBeCloseTo(0, 5); // not there yet
    clock.advanceMs(100);
    expect(await goal(3, [0, 0.5, -0.5])).toBeCloseTo(0, 5); // reached; dwell 300 ms starts
    clock.advanceMs(350);
    expect(await goal(4, [0, 0.5, -0.5])).toBeCloseTo(1, 5); // on to ready
    expect(b.status('s1')).toMatch(/^step 2\/2 \(/);
    // A robot that never gets there: the last step is held for good, whatever the time.
    clock.advanceMs(60_000);
    expect(await goal(5, [0, 0.5, -0.5])).toBeCloseTo(1, 5);

    const stuck = new ReferenceBackend({ clock });
    const [first] = await stuck.infer([{ ...request(1, [2, 0.5, -0.5], 'home then ready'), session: { sessionId: 's2', hello } }], ctx);
    expect(decodeGoal(latentOf(first), range).position[0]).toBeCloseTo(0, 5);
    clock.advanceMs(10_000); // far beyond 2 x motion time + 1 s
    const [later] = await stuck.infer([{ ...request(2, [2, 0.5, -0.5], 'home then ready'), session: { sessionId: 's2', hello } }], ctx);
    expect(decodeGoal(latentOf(later), range).position[0]).toBeCloseTo(1, 5);
  });

  it('keeps robots apart within one batch', async () => {
    const b = new ReferenceBackend({ clock: new ManualClock() });
    const out = await b.infer([
      request(1, [0, 0, 0], 'go to ready'),
      { session: { sessionId: 's9', hello }, observation: testObservation(1, [0, 0, 0]), task: { taskId: 'x', instruction: 'home' } },
    ], ctx);
    expect(decodeGoal(latentOf(out[0]), range).position[0]).toBeCloseTo(1, 5);
    expect(decodeGoal(latentOf(out[1]), range).position[1]).toBeCloseTo(0.5, 5);
  });
});
