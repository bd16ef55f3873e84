import { describe, expect, it } from 'vitest';
import { CloudLinkState, CloudLinkStateMachine, IllegalCloudTransitionError, hasStream } from './cloud-link-state.js';

const S = CloudLinkState;

describe('CloudLinkStateMachine', () => {
  it('emits every legal transition in order', () => {
    const seen: string[] = [];
    const sm = new CloudLinkStateMachine((from, to) => seen.push(`${from}>${to}`));
    sm.transition([S.IDLE], S.CONNECTING);
    sm.transition([S.CONNECTING], S.HELLO);
    sm.transition([S.HELLO], S.ACTIVE);
    sm.transition([S.ACTIVE], S.BACKOFF);
    sm.transition([S.BACKOFF], S.CONNECTING);
    sm.transition([S.CONNECTING], S.HELLO);
    sm.transition([S.HELLO], S.INCOMPATIBLE);
    sm.transition([S.INCOMPATIBLE], S.CONNECTING);
    sm.transition([S.CONNECTING], S.CLOSED);
    expect(seen).toEqual([
      'IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE', 'ACTIVE>BACKOFF', 'BACKOFF>CONNECTING',
      'CONNECTING>HELLO', 'HELLO>INCOMPATIBLE', 'INCOMPATIBLE>CONNECTING', 'CONNECTING>CLOSED',
    ]);
  });

  it('throws on a move from an unexpected state or an illegal move, and does not emit', () => {
    const seen: string[] = [];
    const sm = new CloudLinkStateMachine((from, to) => seen.push(`${from}>${to}`));
    expect(() => sm.transition([S.ACTIVE], S.BACKOFF)).toThrow(IllegalCloudTransitionError);
    expect(() => sm.transition([S.IDLE], S.ACTIVE)).toThrow('cloud link transition IDLE -> ACTIVE is not legal');
    sm.transition([S.IDLE], S.CONNECTING);
    expect(() => sm.transition([S.CONNECTING], S.INCOMPATIBLE)).toThrow(/not legal/);
    sm.transition([S.CONNECTING], S.CLOSED);
    expect(() => sm.transition([S.CLOSED], S.CONNECTING)).toThrow(/not legal/);
    expect(seen).toEqual(['IDLE>CONNECTING', 'CONNECTING>CLOSED']);
  });

  it('knows which states hold a stream', () => {
    expect(Object.values(S).filter(hasStream)).toEqual(['HELLO', 'ACTIVE']);
  });
});
