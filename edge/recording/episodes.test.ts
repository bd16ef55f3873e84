import { describe, expect, it } from 'vitest';
import type { EpisodeRecord } from '../../proto/recording/channels.js';
import { EpisodeTracker } from './episodes.js';

function tracker(): { t: EpisodeTracker; out: EpisodeRecord[] } {
  const out: EpisodeRecord[] = [];
  let now = 0;
  const t = new EpisodeTracker({ publish: (topic, _ns, m) => { expect(topic).toBe('/spinal/episode'); out.push(m as EpisodeRecord); } }, () => (now += 1000), (us) => BigInt(us) * 1000n);
  return { t, out };
}

describe('EpisodeTracker', () => {
  it('splits episodes at task changes, ends the open one on e-stop with outcome estop, and never leaves one open', () => {
    const { t, out } = tracker();
    t.onTask('t1', 'pick the cube');
    t.onTask('t1', 'pick the cube'); // the same task again: no new episode
    t.onTask('t2', 'place it');
    t.onEstop('remote-estop: operator alice');
    t.onTask('t3', 'wave');
    t.onTask('', '');
    t.onTask('t4', 'again');
    t.close();
    expect(out.map((r) => [r.kind, r.index, r.taskId, r.outcome ?? null, r.source])).toEqual([
      ['start', 1, 't1', null, 'task'],
      ['end', 1, 't1', 'aborted', 'task'],
      ['start', 2, 't2', null, 'task'],
      ['end', 2, 't2', 'estop', 'safety'],
      ['start', 3, 't3', null, 'task'],
      ['end', 3, 't3', 'aborted', 'task'],
      ['start', 4, 't4', null, 'task'],
      ['end', 4, 't4', 'aborted', 'shutdown'],
    ]);
    expect(t.current).toBeNull();
    expect(out.every((r, i) => i === 0 || r.hostUs > (out[i - 1] as EpisodeRecord).hostUs)).toBe(true);
  });

  it("takes an operator's mark, ends with the marked outcome, and refuses marks between episodes or with a bad outcome", () => {
    const { t, out } = tracker();
    expect(t.mark({ outcome: 'success', end: true, operator: 'alice' })).toEqual({ accepted: false, reason: 'no episode is open' });
    t.onTask('t1', 'pick');
    expect(t.mark({ outcome: 'intervention', end: false, operator: 'alice', note: 'nudged' })).toEqual({ accepted: true, episode: 1 });
    expect(t.mark({ outcome: 'bogus' as 'success', end: true, operator: 'alice' })).toEqual({ accepted: false, reason: 'outcome "bogus" must be success, failure or intervention' });
    t.onTask('t2', 'place'); // ends episode 1 with the outcome marked on it
    expect(t.mark({ outcome: 'success', end: true, operator: 'bob' })).toEqual({ accepted: true, episode: 2 });
    expect(t.current).toBeNull();
    expect(out.map((r) => [r.kind, r.index, r.outcome ?? null, r.source, r.note ?? null])).toEqual([
      ['start', 1, null, 'task', null],
      ['mark', 1, 'intervention', 'alice', 'nudged'],
      ['end', 1, 'intervention', 'task', 'task changed'],
      ['start', 2, null, 'task', null],
      ['end', 2, 'success', 'bob', null],
    ]);
  });
});
