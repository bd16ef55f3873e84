/**
 * The control tick thread. Sleeps with Atomics.wait until each absolute deadline (measured on a
 * 2-core machine: p99 lateness ~0.2 ms, against ~1 ms for timers on the main thread), so neither decoding (its own
 * worker), nor logging, MQTT or other I/O on the main thread can hold a tick up. Per tick:
 * drain owner messages (new chunks) with receiveMessageOnPort, read the latest observation from
 * shared memory, run schedulerTick and publish the target in the CommandMailbox. Then either
 * - (`wire` given: this thread owns motion on the wire) the safety gate and the COMMAND or
 *   HEARTBEAT write happen here (tick-wire.ts), and the main thread's liveness is checked; or
 * - the owner, woken by Atomics.notify, gates and writes the COMMAND (it owns the serial port).
 * Allocation-free per tick except when a chunk arrives, a request is issued, or the gate reports.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ObservationBuffer } from '../estimation/observation-buffer.js';
import { newObservation } from '../estimation/observation.js';
import { CommandMailbox, Slot, Word } from './command-mailbox.js';
import { schedulerTick, type NextChunkRequest } from './chunk-request.js';
import { ChunkScheduler } from './chunk-scheduler.js';
import { TICK_WORKER_MARK, type FromTick, type TickWorkerData, type ToTick } from './tick-protocol.js';
import { setThreadNice, setThreadRealtime } from '../thread-priority.js';
import { TickWire } from './tick-wire.js';

/** SCHED_FIFO priority the tick thread asks for (it sleeps most of each period). */
export const TICK_THREAD_RT_PRIORITY = 20;

/** Nice value the tick thread falls back to; without CAP_SYS_NICE it keeps the default (0). */
export const TICK_THREAD_NICE = -10;

export function runTicks(d: TickWorkerData, port: MessagePort, post: (m: FromTick) => void): number {
  const mb = new CommandMailbox(d.mailbox, d.jointCount);
  const obsBuf = ObservationBuffer.attach(d.observation, d.jointCount);
  const obs = newObservation(d.jointCount);
  const sched = new ChunkScheduler(d.scheduler);
  const offsetMs = performance.timeOrigin - d.hostTimeOriginMs;
  const nowUs = (): number => (offsetMs + performance.now()) * 1000;
  const sleepCell = new Int32Array(d.mailbox.words);
  const periodUs = d.periodUs;
  const out = mb.target;
  // Made once: a closure per tick would be an allocation on every tick.
  const onRequest = (req: NextChunkRequest): void => {
    Atomics.add(sleepCell, Word.REQUESTS, 1);
    post({ type: 'request', request: req });
  };
  const tw = d.wire === undefined ? null : new TickWire(d.wire, mb, periodUs, nowUs, post);
  let ticks = 0;
  // Ahead of the decoder and the main thread when the scheduler has to choose: real-time when
  // permitted, else a higher nice priority (see thread-priority.ts).
  const rt = setThreadRealtime(TICK_THREAD_RT_PRIORITY);
  if (!rt.applied) setThreadNice(TICK_THREAD_NICE);
  post({ type: 'started', tid: rt.tid });
  let deadline = nowUs() + periodUs;
  const spinUs = d.spinUs;
  for (;;) {
    // Hybrid wait: sleep until `spinUs` before the deadline, then poll the clock up to it. The
    // sleep's wake-up is late by the timer and the scheduler's delay; the poll hides that when it
    // is shorter than the margin, at the cost of the margin (plus that delay) in CPU every period.
    // With spinUs 0 it sleeps all the way (the default; tick-to-wire measures both).
    const waitMs = (deadline - spinUs - nowUs()) / 1000;
    if (waitMs > 0) Atomics.wait(sleepCell, Word.STOP, 0, waitMs);
    if (spinUs > 0) while (nowUs() < deadline && Atomics.load(sleepCell, Word.STOP) === 0) { /* poll */ }
    if (Atomics.load(sleepCell, Word.STOP) !== 0) break;
    const t = nowUs();
    const late = t - deadline;
    mb.recordLateness(late);
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const msg = m.message as ToTick;
      if (msg.type === 'chunk') sched.accept(msg.actions, msg.originUs, t);
      else if (msg.type === 'request-failed') sched.requestFailed(t);
      else sched.reset();
    }
    const obsTimeUs = obsBuf.read(obs) && obs.sampleCount > 0 ? obs.hostTimeUs : 0;
    mb.beginWrite();
    const ok = schedulerTick(sched, t, out, obs.position, obsTimeUs, onRequest);
    mb.measured.set(obs.position);
    const s = mb.slots;
    s[Slot.TICK] = ticks;
    s[Slot.TIME_US] = t;
    s[Slot.OK] = ok ? 1 : 0;
    s[Slot.LATENESS_US] = late;
    s[Slot.OBS_TIME_US] = obsTimeUs;
    mb.endWrite();
    tw?.step(t, deadline, ok ? out : null, obsTimeUs > 0 ? obs.position : null, obsTimeUs);
    ticks++;
    deadline += periodUs;
    // Woke more than a whole period late: skip the missed deadlines instead of bursting.
    const behind = nowUs() - deadline;
    if (behind > periodUs) {
      const skip = Math.floor(behind / periodUs);
      deadline += skip * periodUs;
      Atomics.add(sleepCell, Word.OVERRUNS, skip);
    }
  }
  return ticks;
}

const data = workerData as TickWorkerData | undefined;
if (parentPort !== null && data?.mark === TICK_WORKER_MARK) {
  const pp = parentPort;
  pp.once('message', (m: { port: MessagePort }) => {
    const ticks = runTicks(data, m.port, (msg) => pp.postMessage(msg));
    pp.postMessage({ type: 'exited', ticks } satisfies FromTick);
  });
}
