import { describe, expect, it } from 'vitest';
import { EstopConfirmation } from './estop-confirm.js';

const online = (id: string, mcuLatched: boolean) => ({ id, presence: 'online', mcuLatched });

describe('EstopConfirmation', () => {
  it('stays pending after the broker acknowledged; confirmed only by the robot reporting its MCU latched', () => {
    const c = new EstopConfirmation('E-STOP r1', ['r1'], 1000);
    expect(c.verdict()).toEqual({ state: 'pending', text: 'E-STOP r1: sent, not yet confirmed (waiting for r1 to report the MCU latched)' });
    c.report(online('r1', false), 1100); // the supervisor may be ESTOP already; the MCU is what counts
    c.report(online('r2', true), 1100); // another robot's latch confirms nothing here
    c.tick(1999);
    expect(c.verdict().state).toBe('pending');
    c.report(online('r1', true), 1250);
    expect(c.verdict()).toEqual({ state: 'confirmed', text: 'E-STOP r1: confirmed, MCU latched (robot) after 250 ms' });
    c.tick(10_000);
    expect(c.verdict().state).toBe('confirmed');
  });

  it('a report from before the send, or from a robot not online, confirms nothing', () => {
    const c = new EstopConfirmation('E-STOP r1', ['r1'], 1000);
    c.report(online('r1', true), 999);
    c.report({ id: 'r1', presence: 'unreachable', mcuLatched: true }, 1100);
    expect(c.verdict().state).toBe('pending');
  });

  it('fails after the timeout, naming the robots that did not confirm and their presence', () => {
    const c = new EstopConfirmation('STOP ALL', ['r1', 'r2', 'r10'], 0, 2000);
    c.report(online('r1', true), 100);
    c.report({ id: 'r2', presence: 'unreachable', mcuLatched: false }, 100);
    c.tick(1999);
    expect(c.verdict()).toMatchObject({ state: 'pending', text: 'STOP ALL: sent, not yet confirmed (waiting for 2 robots to report the MCU latched)' });
    c.tick(2000);
    const v = c.verdict();
    expect(v.state).toBe('failed');
    expect(v.text).toMatch(/^STOP ALL: NOT CONFIRMED after 2 s — no MCU latch reported by r2 \(unreachable\), r10\./);
    c.report(online('r2', true), 2100); // too late: the operator was already told
    expect(c.verdict().state).toBe('failed');
  });

  it('STOP ALL is confirmed only when every addressed robot has reported', () => {
    const c = new EstopConfirmation('STOP ALL', ['r1', 'r2'], 0);
    c.report(online('r1', true), 10);
    expect(c.verdict().state).toBe('pending');
    c.report(online('r2', true), 20);
    expect(c.verdict()).toEqual({ state: 'confirmed', text: 'STOP ALL: confirmed, MCU latched (all 2 robots) after 20 ms' });
  });

  it('with no robot to address it cannot be confirmed', () => {
    expect(new EstopConfirmation('STOP ALL', [], 0).verdict()).toEqual({ state: 'failed', text: 'STOP ALL: no robot to confirm it' });
  });
});
