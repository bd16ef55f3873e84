/**
 * The ingest gate, model-based: random interleavings of robots' connections wanting to read
 * (each read costing random time), operators' ungated reads and ends of turns, on an injected
 * clock and turn scheduler, with the gate's promises checked after every step. A failure prints
 * fast-check's seed and the shrunk interleaving (replay: INGEST_GATE_SEED, INGEST_GATE_PATH).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestGate, gateReads } from './ingest-gate.js';

type Step =
  | { kind: 'readable'; conn: number; costMs: number }
  | { kind: 'operator'; costMs: number }
  | { kind: 'endTurn' };

interface Conn {
  stream: { read(size?: number): unknown; destroyed: boolean; client: { _nextBatch(): void } };
  /** The connection's read loop would read now (readable, or just resumed). */
  reads: number;
  granted: number;
}

function world(budgetMs: number, conns: number) {
  let now = 0;
  const turnEnds: (() => void)[] = [];
  const log: string[] = [];
  const gate = new IngestGate(budgetMs, () => now, (fn) => { turnEnds.push(fn); });
  let turnOpenedAt: number | null = null;
  let costNext = 0;
  const list: Conn[] = [];
  const deferredOrder: number[] = [];
  const resumedOrder: number[] = [];
  for (let i = 0; i < conns; i++) {
    const c: Conn = {
      reads: 0,
      granted: 0,
      stream: {
        destroyed: false,
        // aedes' read loop: read a batch; a batch is never empty in this model.
        read: () => { c.granted++; turnOpenedAt ??= now; log.push(`read ${i} at ${now}`); now += costNext; return 'batch'; },
        client: { _nextBatch: () => { resumedOrder.push(i); loop(i); } },
      },
    };
    list.push(c);
  }
  const loop = (i: number): void => {
    const c = list[i] as Conn;
    c.reads++;
    const before = c.granted;
    const got = c.stream.read(undefined);
    if (got === null) {
      expect(c.granted).toBe(before);
      if (!deferredOrder.includes(i)) deferredOrder.push(i);
    }
  };
  for (let i = 0; i < conns; i++) gateReads(list[i]?.stream as Conn['stream'], gate, () => true);
  return {
    gate, list, log, deferredOrder, resumedOrder,
    get now() { return now; },
    readable(i: number, costMs: number): { granted: boolean; turnAgeMs: number | null } {
      costNext = costMs;
      const turnAge = turnOpenedAt === null ? null : now - turnOpenedAt;
      const before = (list[i] as Conn).granted;
      loop(i);
      return { granted: (list[i] as Conn).granted > before, turnAgeMs: turnAge };
    },
    operator(costMs: number): void { now += costMs; },
    endTurn(): number {
      const ends = turnEnds.splice(0);
      turnOpenedAt = null;
      const waitingBefore = gate.waiting;
      costNext = 0.5;
      for (const e of ends) e();
      return waitingBefore;
    },
    pendingTurnEnds: () => turnEnds.length,
  };
}

const CONNS = 6;
/** Milliseconds in tenths (fast-check's doubles cluster at the edges of their range). */
const tenths = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max }).map((t) => t / 10);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('readable' as const), conn: fc.integer({ min: 0, max: CONNS - 1 }), costMs: tenths(0, 30) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('operator' as const), costMs: tenths(0, 50) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'endTurn' as const }) },
);

describe('IngestGate', () => {
  it('grants reads only within a turn\'s budget, resumes each deferred reader once, oldest first, in a later turn', () => {
    const seed = process.env['INGEST_GATE_SEED'];
    const path = process.env['INGEST_GATE_PATH'];
    fc.assert(fc.property(tenths(5, 50), fc.array(step, { maxLength: 80 }), (budgetMs, steps) => {
      const w = world(budgetMs, CONNS);
      /** Connections deferred and not yet resumed, in the order they were deferred. */
      const waiting: number[] = [];
      const broken: string[] = [];
      const check = (ok: boolean, what: string): void => { if (!ok) broken.push(`step ${broken.length}: ${what}`); };
      for (const s of steps) {
        if (s.kind === 'operator') { w.operator(s.costMs); continue; }
        if (s.kind === 'readable') {
          const wasWaiting = waiting.includes(s.conn);
          const r = w.readable(s.conn, s.costMs);
          // A deferred connection is not read again before its resume, whatever 'readable' says;
          // another is read while the turn has budget left (a turn opens with its first read),
          // and deferred once it has none.
          const expected = wasWaiting ? 'waits for its resume' : r.turnAgeMs === null || r.turnAgeMs < budgetMs ? 'read' : 'deferred';
          const actual = r.granted ? 'read' : wasWaiting ? 'waits for its resume' : 'deferred';
          check(actual === expected, `connection ${s.conn} at turn age ${r.turnAgeMs} ms: ${actual}, expected ${expected}`);
          if (actual === 'deferred') waiting.push(s.conn);
          continue;
        }
        const resumedFrom = w.resumedOrder.length;
        const before = [...waiting];
        const grantedBefore = before.map((i) => w.list[i]?.granted ?? 0);
        w.endTurn();
        // Every reader waiting at the end of the turn was resumed exactly once, in the order deferred.
        const resumed = w.resumedOrder.slice(resumedFrom);
        check(resumed.join(',') === before.join(','), `resumed [${resumed.join(',')}], waiting were [${before.join(',')}]`);
        // The new turn read the oldest of them while its budget lasted; the rest wait again, in
        // the same order: a suffix of the old queue (nothing jumps it, nobody is resumed twice).
        const readNow = before.map((i, k) => (w.list[i]?.granted ?? 0) > (grantedBefore[k] ?? 0));
        const firstWaiting = readNow.indexOf(false);
        const cut = firstWaiting < 0 ? before.length : firstWaiting;
        check(readNow.slice(cut).every((r) => !r), `after the turn, read [${readNow.join(',')}]: a younger reader went before an older one`);
        check(w.gate.waiting === before.length - cut, `${w.gate.waiting} waiting, expected ${before.length - cut}`);
        waiting.splice(0, waiting.length, ...before.slice(cut));
      }
      // Once turns end with nobody reading, nobody waits and nothing stays scheduled.
      for (let k = 0; k < 100 && w.pendingTurnEnds() > 0; k++) w.endTurn();
      check(w.gate.waiting === 0 && w.pendingTurnEnds() === 0, `${w.gate.waiting} still waiting, ${w.pendingTurnEnds()} turn ends scheduled`);
      expect(broken).toEqual([]);
    }), { numRuns: 300, ...(seed !== undefined ? { seed: Number(seed) } : {}), ...(path !== undefined ? { path } : {}), endOnFailure: false });
  });

  it('lets an ungated connection (an operator) read whatever robots used of the turn', () => {
    let now = 0;
    const gate = new IngestGate(2, () => now, () => undefined);
    let robotReads = 0;
    let operatorReads = 0;
    const robot = { destroyed: false, read: (_size?: number) => { robotReads++; now += 3; return 'x'; }, client: { _nextBatch: () => undefined } };
    const operator = { destroyed: false, read: () => { operatorReads++; return 'e-stop'; }, client: { _nextBatch: () => undefined } };
    gateReads(robot, gate, () => true);
    gateReads(operator, gate, () => false);
    expect(robot.read()).toBe('x');
    expect(robot.read()).toBeNull();
    expect(operator.read()).toBe('e-stop');
    expect([robotReads, operatorReads]).toEqual([1, 1]);
    // Node's read(0) only fills the buffer: never gated.
    expect(robot.read(0)).toBe('x');
  });

  it('refuses a budget that is not a positive number of ms', () => {
    expect(() => new IngestGate(0)).toThrow(/budgetMs=0/);
    expect(() => new IngestGate(Number.NaN)).toThrow(/budgetMs=NaN/);
  });
});
