/** Operators' episode marks on `cmd/episode/<operator>`: decoded, checked, handed to the flight recorder or refused with the reason. */
import { describe, expect, it } from 'vitest';
import { encodePayload, type SafetyEventBody } from '../../proto/mqtt/index.js';
import type { EpisodeMarkRequest } from '../../proto/recording/channels.js';
import { CommandHandler } from './command-handler.js';
import type { EpisodeMarkSink } from './ports.js';

const NOW = 1_700_000_000_000;
const TOPIC = 'spinal/v1/f/r1/cmd/episode/alice';
function setup(sink?: EpisodeMarkSink) {
  const events: SafetyEventBody[] = [];
  const handler = new CommandHandler({
    fleet: 'f', robot: 'r1', now: () => NOW,
    wire: { sendEstop: () => true }, estop: { remoteEstop: () => undefined }, reset: { reset: () => true },
    events: { report: (e) => events.push(e) },
    ...(sink ? { episodes: sink } : {}),
  });
  return { handler, events };
}
const mark = (extra: object = {}) => encodePayload({ v: 1, kind: 'episode', id: 'm1', operator: 'alice', at: NOW, outcome: 'success', end: true, ...extra });

describe('episode marks', () => {
  it('without a flight recorder, answers that recording is off', () => {
    const s = setup();
    s.handler.handle(TOPIC, mark(), false);
    expect(s.events).toEqual([{ kind: 'episode-refused', id: 'm1', operator: 'alice', reason: 'recording is off: this robot has no flight recorder configured' }]);
  });

  it('hands a well-formed mark to the recorder with the operator the broker vouched for, and reports it', () => {
    const got: EpisodeMarkRequest[] = [];
    const s = setup({ mark: (r) => { got.push(r); } });
    s.handler.handle(TOPIC, mark({ outcome: 'intervention', end: false, note: 'nudged the cup' }), false);
    expect(got).toEqual([{ outcome: 'intervention', end: false, note: 'nudged the cup', operator: 'alice' }]);
    expect(s.events).toEqual([{ kind: 'episode-marked', id: 'm1', operator: 'alice', outcome: 'intervention', end: false }]);
  });

  it('reports the recorder\'s own refusal, and a recorder that throws', () => {
    const s = setup({ mark: () => 'no episode is open' });
    s.handler.handle(TOPIC, mark(), false);
    const t = setup({ mark: () => { throw new Error('disk full'); } });
    t.handler.handle(TOPIC, mark(), false);
    expect(s.events[0]).toMatchObject({ kind: 'episode-refused', reason: 'flight recorder refused: no episode is open' });
    expect(t.events[0]).toMatchObject({ kind: 'episode-refused', reason: 'flight recorder failed: disk full' });
  });

  it('refuses a bad outcome naming it, a forgery, a stale mark and a retained one; the recorder sees none', () => {
    const got: EpisodeMarkRequest[] = [];
    const s = setup({ mark: (r) => { got.push(r); } });
    s.handler.handle(TOPIC, mark({ outcome: 'great' }), false);
    s.handler.handle(TOPIC, mark({ operator: 'bob' }), false);
    s.handler.handle(TOPIC, mark({ at: NOW - 60_000 }), false);
    s.handler.handle(TOPIC, mark(), true);
    expect(got).toEqual([]);
    expect(s.events.map((e) => (e.kind === 'episode-refused' ? e.reason : e.kind))).toEqual([
      'episode mark: outcome: outcome "great" is not one of "success", "failure", "intervention"',
      'forged episode mark: the payload names operator "bob" but the broker authenticated "alice"',
      'episode mark.at=1699999940000 is 60000 ms from now (limit 30000 ms)',
      'a retained episode mark is never applied: marks must be live commands',
    ]);
  });

  it('takes a mark while the fleet latch is asserted (an e-stopped episode is still labelled)', () => {
    const got: EpisodeMarkRequest[] = [];
    const s = setup({ mark: (r) => { got.push(r); } });
    s.handler.handle('spinal/v1/f/all/cmd/estop', encodePayload({ v: 1, kind: 'estop', id: 'e1', category: 1, operator: 'alice', at: NOW }), true);
    expect(s.handler.fleetLatch).toBe(true);
    s.handler.handle(TOPIC, mark({ outcome: 'failure' }), false);
    expect(got).toEqual([{ outcome: 'failure', end: true, operator: 'alice' }]);
  });
});
