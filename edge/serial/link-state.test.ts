import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, LinkState, LinkStateMachine, isPortOpenState } from './link-state.js';

describe('LinkStateMachine', () => {
  it('emits every legal transition in order', () => {
    const seen: string[] = [];
    const sm = new LinkStateMachine((from, to) => seen.push(`${from}>${to}`));
    sm.transition([LinkState.IDLE], LinkState.OPENING);
    sm.transition([LinkState.OPENING], LinkState.HANDSHAKE);
    sm.transition([LinkState.HANDSHAKE], LinkState.INCOMPATIBLE);
    sm.transition([LinkState.INCOMPATIBLE], LinkState.BACKOFF);
    sm.transition([LinkState.BACKOFF], LinkState.OPENING);
    sm.transition([LinkState.OPENING], LinkState.CLOSED);
    expect(seen).toEqual(['IDLE>OPENING', 'OPENING>HANDSHAKE', 'HANDSHAKE>INCOMPATIBLE', 'INCOMPATIBLE>BACKOFF', 'BACKOFF>OPENING', 'OPENING>CLOSED']);
  });

  it('throws on a move from an unexpected state or an illegal move, and does not emit', () => {
    const seen: string[] = [];
    const sm = new LinkStateMachine((from, to) => seen.push(`${from}>${to}`));
    expect(() => sm.transition([LinkState.READY], LinkState.BACKOFF)).toThrow(IllegalTransitionError);
    expect(() => sm.transition([LinkState.IDLE], LinkState.READY)).toThrow('link transition IDLE -> READY is not legal');
    sm.transition([LinkState.IDLE], LinkState.CLOSED);
    expect(() => sm.transition([LinkState.CLOSED], LinkState.OPENING)).toThrow(/not legal/);
    expect(seen).toEqual(['IDLE>CLOSED']);
    expect(sm.state).toBe(LinkState.CLOSED);
  });

  it('knows which states have the port open', () => {
    expect(Object.values(LinkState).filter(isPortOpenState)).toEqual(['HANDSHAKE', 'CONFIGURING', 'READY']);
  });
});
