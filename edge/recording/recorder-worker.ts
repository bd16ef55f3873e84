/**
 * The flight recorder's writer thread: takes batches from the main thread in order, keeps the
 * black-box ring, writes the MCAP files (RecordingWriter) and acknowledges each batch, so the main
 * thread knows how much is in flight and drops (and counts) rather than queue without bound.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setThreadNice } from '../thread-priority.js';
import { RECORDER_WORKER_MARK, type FromRecorder, type RecorderWorkerData, type ToRecorder } from './recorder-protocol.js';
import { RecordingWriter } from './recording-writer.js';

/** Lower than the decoder thread's. */
export const RECORDER_THREAD_NICE = 15;

const data = workerData as RecorderWorkerData | null;
const port = parentPort;
if (port !== null && data?.mark === RECORDER_WORKER_MARK) {
  // Below everything else on the robot computer: on a loaded machine, compressing and writing
  // waits (its queue is bounded and drops), the tick, the safety logic and the decoder do not.
  setThreadNice(RECORDER_THREAD_NICE);
  const post = (m: FromRecorder): void => port.postMessage(m);
  const writer = new RecordingWriter(data.config, data.metadata, {
    onFile: (e) => post({ t: 'file', ...e }),
    onError: (message) => post({ t: 'error', message }),
  });
  // Messages arriving before init() are queued and handled after it.
  const queue: ToRecorder[] = [];
  let busy = false;
  let closed = false;

  const handle = async (m: ToRecorder): Promise<void> => {
    switch (m.t) {
      case 'channel': writer.channel(m.index, m.topic); return;
      case 'batch': {
        for (let i = 0; i < m.data.length; i++) await writer.add(m.channel[i] as number, m.timeNs[i] as bigint, m.data[i] as string);
        post({ t: 'ack', n: m.data.length, status: writer.status() });
        return;
      }
      case 'record': await writer.setRecording(m.on); return;
      case 'blackbox': post({ t: 'blackbox', ...(await writer.saveBlackBox(m.reason)), status: writer.status() }); return;
      case 'close':
        await writer.close();
        closed = true;
        post({ t: 'closed', status: writer.status() });
        port.close();
        return;
    }
  };
  const pump = async (): Promise<void> => {
    busy = true;
    try {
      await ready;
      for (let m = queue.shift(); m !== undefined && !closed; m = queue.shift()) await handle(m);
    } catch (e) {
      post({ t: 'error', message: `recorder thread: ${(e as Error).message}` });
    } finally {
      busy = false;
    }
  };
  port.on('message', (m: ToRecorder) => {
    queue.push(m);
    if (!busy) void pump();
  });
  const ready = writer.init();
  ready.then(() => post({ t: 'ready' }), (e: Error) => post({ t: 'error', message: `recording.dir ${JSON.stringify(data.config.dir)}: ${e.message}` }));
}
