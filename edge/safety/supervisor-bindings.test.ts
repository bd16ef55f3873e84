/** The supervisor as the daemon binds it to a link and an estimator: a refusal mid-session and an
 * MCU restart reach safety; an impossible STATE value holds the robot until it clears. */
import { describe, expect, it } from 'vitest';
import { MsgType, Status, newState } from '../../proto/wire/index.js';
import { StateEstimator } from '../estimation/state-estimator.js';
import { linkHarness } from '../serial/testing/link-harness.js';
import { SafetySupervisor } from './safety-supervisor.js';
import { bindSupervisor } from './supervisor-bindings.js';

async function bound() {
  const h = linkHarness();
  const estimator = new StateEstimator(h.profile);
  h.link.on('state', (ev) => estimator.update(ev));
  const sup = new SafetySupervisor(h.link, h.clock);
  bindSupervisor(sup, h.link, estimator);
  const seq: string[] = [];
  sup.on('transition', (e) => seq.push(`${e.from}>${e.to}:${e.cause}`));
  const links: string[] = [];
  sup.on('link', (e) => links.push(e.to));
  h.link.start();
  await h.clock.advanceAsync(5);
  h.mcu().sendState(); // a STATE since READY: resume needs a current measurement
  await h.clock.advanceAsync(1);
  sup.planReceived(h.clock.nowUs() + 10_000_000);
  expect(sup.resume({ id: 'op', role: 'operator' })).toBe(true);
  return { h, sup, seq, links };
}

describe('bindSupervisor', () => {
  it('a refusal mid-session (a restarted MCU with another profile) is a lost link for safety, with link events', async () => {
    const { h, sup, seq, links } = await bound();
    h.mcu().send(MsgType.HELLO, { ...h.mcu().hello(), profileId: 'someone-else' });
    await h.clock.advanceAsync(2);
    expect(seq.slice(-2)).toEqual(['ACTIVE>HOLD:mcu-restarted', 'HOLD>ESTOP:link-lost']);
    expect(sup.state).toBe('ESTOP');
    expect(links).toEqual(expect.arrayContaining(['HANDSHAKE', 'refused', 'INCOMPATIBLE', 'BACKOFF']));
    await h.link.stop();
  });

  it('an impossible STATE value (NaN velocity) holds the robot; resume only once it has cleared', async () => {
    const { h, sup, seq } = await bound();
    const send = (nan: boolean): void => {
      const s = newState();
      s.jointCount = 3;
      s.status = Status.CONFIGURED;
      if (nan) s.velocity[1] = Number.NaN;
      h.mcu().send(MsgType.STATE, s);
    };
    send(false);
    send(true);
    await h.clock.advanceAsync(1);
    expect(seq.at(-1)).toBe('ACTIVE>HOLD:impossible-state');
    expect(sup.resume({ id: 'op', role: 'operator' })).toBe(false);
    for (let i = 0; i < 12; i++) send(false);
    await h.clock.advanceAsync(1);
    expect(sup.resume({ id: 'op', role: 'operator' })).toBe(true);
    await h.link.stop();
  });
});
