/**
 * State estimation on the live serial path: virtual firmware on a PTY → SerialLink → StateEstimator,
 * checked against the simulated plant's truth.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StateEstimator, newObservation, Valid } from '../../edge/estimation/index.js';
import { getProfile } from '../../hardware/index.js';
import { startRig, sleep, waitFor, type Rig } from './link-harness.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.dispose();
  rig = null;
});

describe('state estimation over the serial link', () => {
  it('publishes joint angles matching the plant, stamped through time sync, and raises a fall', async () => {
    const profile = getProfile('quadruped12');
    rig = await startRig({ profile: 'quadruped12' });
    const { link, robot } = rig;
    const estimator = new StateEstimator(profile);
    link.on('state', (ev) => estimator.update(ev));
    const falls: number[] = [];
    estimator.on('fall', (ev) => falls.push(ev.tiltRad));
    await waitFor('READY', () => link.state === 'READY');
    // Time sync converges within a few fast exchanges.
    const obs = newObservation(profile.joints.length);
    await waitFor('a synced observation', () => estimator.read(obs) && obs.synced, 3000);

    expect(obs.validity & Valid.JOINT_POSITION).toBeTruthy();
    expect(obs.validity & Valid.TIME_SYNCED).toBeTruthy();
    const truth = robot.plant.truth.q;
    for (let j = 0; j < profile.joints.length; j++) {
      // Half an encoder count of the coarsest joint is far below 1e-3 rad; the robot is at rest.
      expect(Math.abs((obs.position[j] as number) - (truth[j] as number))).toBeLessThan(1e-3);
    }
    // The stamp is host time: close to now (the link's clock and the sim's are the same clock).
    expect(Math.abs(obs.hostTimeUs - performance.now() * 1000)).toBeLessThan(50_000);

    robot.plant.injectFault({ kind: 'fall', axis: 'x' });
    await waitFor('a fall event', () => falls.length > 0, 3000);
    await sleep(600);
    expect(estimator.read(obs)).toBe(true);
    expect(obs.fallen).toBe(true);
    expect(obs.tiltRad).toBeGreaterThan((60 * Math.PI) / 180);
  }, 20_000);
});
