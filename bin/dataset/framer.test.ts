import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EpisodeRecord } from '../../proto/recording/channels.js';
import { Framer, type EpisodeCut, type Frame } from './framer.js';

type Msg = { kind: 'state' | 'command'; us: number; v: number } | { kind: 'episode'; us: number; r: EpisodeRecord };

function run(fps: number, msgs: readonly Msg[]): { frames: Frame[]; cuts: EpisodeCut[] } {
  const frames: Frame[] = [];
  const cuts: EpisodeCut[] = [];
  const f = new Framer(fps, 1, 0, { frame: (x) => frames.push(x), episodeEnd: (c) => cuts.push(c) });
  for (const m of msgs) {
    if (m.kind === 'state') f.state(m.us, { position: [m.v], velocity: [-m.v] });
    else if (m.kind === 'command') f.command(m.us, [m.v]);
    else if ('r' in m) f.episode(m.r);
  }
  f.flush();
  return { frames, cuts };
}

const ep = (hostUs: number, kind: 'start' | 'end', index: number): EpisodeRecord => ({ hostUs, kind, index, taskId: 't', task: 'task', source: 'test', ...(kind === 'end' ? { outcome: 'success' as const } : {}) });

/** A flight: STATE every 1 ms ± jitter, COMMAND every 5 ms, one episode inside it. */
const flight = fc.record({
  fps: fc.integer({ min: 5, max: 100 }),
  jitter: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 300, maxLength: 1500 }),
  startMs: fc.integer({ min: 0, max: 100 }),
  lengthMs: fc.integer({ min: 50, max: 1000 }),
  seed: fc.integer(),
});

function messages(p: { jitter: number[]; startMs: number; lengthMs: number }): Msg[] {
  const msgs: Msg[] = [];
  p.jitter.forEach((j, i) => {
    msgs.push({ kind: 'state', us: i * 1000 + j, v: Math.sin(i / 50) });
    if (i % 5 === 0) msgs.push({ kind: 'command', us: i * 1000 + 200, v: i });
  });
  msgs.push({ kind: 'episode', us: p.startMs * 1000, r: ep(p.startMs * 1000, 'start', 0) });
  msgs.push({ kind: 'episode', us: (p.startMs + p.lengthMs) * 1000, r: ep((p.startMs + p.lengthMs) * 1000, 'end', 0) });
  return msgs.sort((a, b) => a.us - b.us);
}

describe('Framer', () => {
  it('frames are on the fps grid from the first grid time with a STATE and a COMMAND, to the end record', () => {
    fc.assert(fc.property(flight, (p) => {
      const msgs = messages(p);
      const { frames, cuts } = run(p.fps, msgs);
      const startUs = p.startMs * 1000;
      const firstState = Math.min(...msgs.filter((m) => m.kind === 'state').map((m) => m.us));
      const lastState = Math.max(...msgs.filter((m) => m.kind === 'state').map((m) => m.us));
      const endUs = Math.min((p.startMs + p.lengthMs) * 1000, lastState);
      const firstCmd = Math.min(...msgs.filter((m) => m.kind === 'command').map((m) => m.us));
      const period = 1e6 / p.fps;
      const grid: number[] = [];
      for (let k = 0; startUs + k * period <= endUs; k++) {
        const t = startUs + k * period;
        if (t >= firstState && t >= firstCmd) grid.push(t);
      }
      expect(cuts).toHaveLength(1);
      expect(frames.map((f) => f.tUs)).toEqual(grid);
      expect(frames.map((f) => f.frameIndex)).toEqual(grid.map((_, i) => i));
      expect(cuts[0]?.frames).toBe(grid.length);
      for (const f of frames) {
        const cmd = msgs.filter((m) => m.kind === 'command' && m.us <= f.tUs).pop() as { v: number };
        expect(f.action[0]).toBe(Math.fround(cmd.v));
        const before = msgs.filter((m) => m.kind === 'state' && m.us <= f.tUs).pop() as { us: number; v: number };
        const after = msgs.find((m) => m.kind === 'state' && m.us > f.tUs) as { us: number; v: number } | undefined;
        const want = before.us === f.tUs || after === undefined ? before.v : before.v + ((after.v - before.v) * (f.tUs - before.us)) / (after.us - before.us);
        expect(f.state[0]).toBe(Math.fround(want));
        expect(f.state[1]).toBe(Math.fround(-want));
      }
    }), { numRuns: 60 });
  });

  it('messages arriving out of order by less than the reorder window give the same frames', () => {
    fc.assert(fc.property(flight, fc.array(fc.integer({ min: 0, max: 15_000 }), { minLength: 1, maxLength: 3000 }), (p, delays) => {
      const msgs = messages(p);
      const arrival = msgs.map((m, i) => ({ m, at: m.us + (delays[i % delays.length] as number) })).sort((a, b) => a.at - b.at).map((x) => x.m);
      const inOrder = run(p.fps, msgs);
      const shuffled = run(p.fps, arrival);
      expect(shuffled.frames).toEqual(inOrder.frames);
      expect(shuffled.cuts).toEqual(inOrder.cuts);
    }), { numRuns: 40 });
  });

  it('closes an episode with no end record at the next start or at the end of the recording, saying so', () => {
    const msgs: Msg[] = [];
    for (let i = 0; i <= 1000; i++) msgs.push({ kind: 'state', us: i * 1000, v: i }, { kind: 'command', us: i * 1000, v: i });
    msgs.push({ kind: 'episode', us: 100_000, r: ep(100_000, 'start', 0) }, { kind: 'episode', us: 400_000, r: ep(400_000, 'start', 1) });
    const { cuts } = run(10, msgs.sort((a, b) => a.us - b.us));
    expect(cuts.map((c) => [c.recordedIndex, c.frames, c.outcome, c.note])).toEqual([
      [0, 3, null, 'no end record before episode 1 started'],
      [1, 7, null, 'recording ended inside the episode (no end record)'],
    ]);
  });
});
