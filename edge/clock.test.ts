import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './clock.js';

describe('ManualClock', () => {
  it('fires due timers in deadline order, with nowUs at each deadline', () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.nowUs()}`), 20);
    c.setTimeout(() => log.push(`a@${c.nowUs()}`), 10);
    c.setTimeout(() => log.push(`c@${c.nowUs()}`), 30);
    c.advance(25);
    expect(log).toEqual(['a@10000', 'b@20000']);
    expect(c.nowUs()).toBe(25_000);
    c.advance(5);
    expect(log).toEqual(['a@10000', 'b@20000', 'c@30000']);
    expect(c.pending).toBe(0);
  });

  it('fires timers due at the same instant in insertion order, and timers set while firing', () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    c.setTimeout(() => {
      log.push('first');
      c.setTimeout(() => log.push('nested'), 5);
    }, 10);
    c.setTimeout(() => log.push('second'), 10);
    c.advance(15);
    expect(log).toEqual(['first', 'second', 'nested']);
  });

  it('does not fire cleared timers; negative delays count as zero', () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    const h = c.setTimeout(() => log.push('cleared'), 1);
    c.setTimeout(() => log.push('now'), -5);
    c.clearTimeout(h);
    c.clearTimeout(h);
    c.advance(0);
    expect(log).toEqual(['now']);
  });

  it('advanceAsync lets awaited work run between timers', async () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    c.setTimeout(() => {
      void Promise.resolve().then(() => {
        log.push('resolved');
        c.setTimeout(() => log.push('after'), 1);
      });
    }, 1);
    await c.advanceAsync(5);
    expect(log).toEqual(['resolved', 'after']);
  });
});

describe('systemClock', () => {
  it('is monotonic and runs timers', async () => {
    const a = systemClock.nowUs();
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 2));
    expect(systemClock.nowUs()).toBeGreaterThan(a);
    let fired = false;
    const h = systemClock.setTimeout(() => { fired = true; }, 1);
    systemClock.clearTimeout(h);
    await new Promise((r) => setTimeout(r, 5));
    expect(fired).toBe(false);
  });
});
