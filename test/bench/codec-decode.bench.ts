/**
 * Decode throughput of the wire codec (COBS unstuffing + CRC-32C + header) against
 * @serialport/parser-delimiter splitting the same stream on 0x00 (no CRC, no unstuffing), fed in the
 * same chunks, measured alternately in one run.
 */
import { DelimiterParser } from '@serialport/parser-delimiter';
import { FrameDecoder, FrameEncoder, MsgType, newState, readFrame, StateFlag, type Frame } from '../../proto/wire/index.js';
import { nowNs, stats, type BenchResult, type Scenario } from './harness.js';

const LINE_RATE_MBPS = 0.4; // 4 Mbaud at 10 bit times per byte
const FRAMES = 7000; // about 1 MB of 150-byte STATE frames
/**
 * Read sizes a serial port delivers: 62 B is an FTDI full-speed USB packet's payload, 150 B one
 * STATE frame per wake-up (CDC-ACM, PTY), 510 B an FT232H high-speed packet, 4 KiB a backlog.
 */
const CHUNK_SIZES = [62, 150, 510, 4096];

function buildStream(): Buffer {
  const enc = new FrameEncoder();
  const s = newState();
  s.jointCount = 7;
  s.flags = StateFlag.IMU | StateFlag.ORIENTATION;
  const parts: Buffer[] = [];
  for (let i = 0; i < FRAMES; i++) {
    for (let j = 0; j < 7; j++) { s.position[j] = i * 31 + j; s.velocity[j] = Math.sin(i + j); s.current[j] = j * 0.1; }
    s.accel[2] = 9.81;
    parts.push(enc.encode(MsgType.STATE, s, i * 1000));
  }
  return Buffer.concat(parts);
}

function chunks(stream: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += size) out.push(stream.subarray(i, i + size));
  return out;
}

export const scenario: Scenario = {
  name: 'codec-decode',
  description: 'wire decoder MB/s vs @serialport/parser-delimiter, and against the 4 Mbaud line rate',
  async run(): Promise<BenchResult> {
    const stream = buildStream();
    const mb = stream.length / 1e6;
    const rows: (string | number)[][] = [];
    const summary: Record<string, number | string | boolean> = {};
    const reps = 60;
    for (const chunkSize of CHUNK_SIZES) {
      const parts = chunks(stream, chunkSize);
      const ours: number[] = [];
      const oursFull: number[] = [];
      const peer: number[] = [];
      let framesOurs = 0;
      let framesPeer = 0;
      const state = newState();
      const countSink = { onFrame: (f: Frame): void => { framesOurs += f.type; } };
      const fullSink = { onFrame: (f: Frame): void => { if (readFrame(f, MsgType.STATE, state) === null) framesOurs++; } };
      for (let r = 0; r < reps + 5; r++) {
        const dec = new FrameDecoder();
        let t = nowNs();
        for (const c of parts) dec.push(c, countSink);
        const tOurs = nowNs() - t;

        const dec2 = new FrameDecoder();
        t = nowNs();
        for (const c of parts) dec2.push(c, fullSink);
        const tFull = nowNs() - t;

        const parser = new DelimiterParser({ delimiter: Buffer.from([0]) });
        parser.on('data', (d: Buffer) => { framesPeer += d.length > 0 ? 1 : 0; });
        t = nowNs();
        for (const c of parts) parser.write(c);
        const tPeer = nowNs() - t;
        parser.destroy();
        if (r >= 5) { // warm-up excluded
          ours.push(mb / (tOurs / 1e9));
          oursFull.push(mb / (tFull / 1e9));
          peer.push(mb / (tPeer / 1e9));
        }
      }
      if (framesPeer === 0 || framesOurs === 0) throw new Error('benchmark decoded nothing');
      const so = stats(ours), sf = stats(oursFull), sp = stats(peer);
      // For throughput the bad tail is the slow end: report the 1st percentile of MB/s as "p99".
      rows.push([`spinal FrameDecoder, ${chunkSize} B chunks`, so.median, so.p1, so.median / sp.median, so.median / LINE_RATE_MBPS]);
      rows.push([`spinal + STATE body decode, ${chunkSize} B chunks`, sf.median, sf.p1, sf.median / sp.median, sf.median / LINE_RATE_MBPS]);
      rows.push([`parser-delimiter, ${chunkSize} B chunks`, sp.median, sp.p1, 1, sp.median / LINE_RATE_MBPS]);
      summary[`ratio vs parser-delimiter @${chunkSize}B`] = so.median / sp.median;
    }
    const worst = Math.min(...Object.values(summary).filter((v): v is number => typeof v === 'number'));
    summary['goal >= 2x peer met'] = worst >= 2;
    return {
      scenario: 'codec-decode',
      title: `decode throughput, ${FRAMES} STATE frames (${mb.toFixed(2)} MB), ${reps} runs each, alternating`,
      columns: ['decoder', 'MB/s median', 'MB/s p99 (slow end)', 'x peer', 'x 4 Mbaud line'],
      rows,
      summary,
      notes: ['the peer only splits on 0x00; the spinal decoder also unstuffs COBS, checks CRC-32C, parses the header and tracks sequence gaps'],
    };
  },
};
