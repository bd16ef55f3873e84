/**
 * A regular file as the serial line, for tests of the tick-owned wire: both threads write frames
 * to its fd (through a SharedWire), and the test decodes what landed in it, in order.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder, MsgType, newMessage, readFrame, type Frame } from '../../../proto/wire/index.js';
import { SharedWire } from '../../serial/shared-wire.js';

export interface WireRecord {
  type: number;
  seq: number;
  timeUs: number;
  /** HEARTBEAT host_state; -1 for other types. */
  hostState: number;
  /** COMMAND joint-0 position, counts; NaN for other types. */
  position0: number;
}

export interface WireFile {
  wire: SharedWire;
  /** Every frame in the file, decoded, and the decoder's error counts. */
  read(): { frames: WireRecord[]; crcErrors: number; cobsErrors: number; otherErrors: number };
  close(): void;
}

export function openWireFile(): WireFile {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-wire-'));
  const path = join(dir, 'line.bin');
  const fd = openSync(path, 'w');
  const wire = SharedWire.create();
  wire.setFd(fd);
  wire.setReady(true);
  return {
    wire,
    read() {
      const dec = new FrameDecoder();
      const hb = newMessage(MsgType.HEARTBEAT);
      const cmd = newMessage(MsgType.COMMAND);
      const frames: WireRecord[] = [];
      let otherErrors = 0;
      dec.push(readFileSync(path), {
        onFrame: (f: Frame) => {
          let hostState = -1;
          let position0 = Number.NaN;
          if (f.type === MsgType.HEARTBEAT && readFrame(f, MsgType.HEARTBEAT, hb) === null) hostState = hb.hostState;
          if (f.type === MsgType.COMMAND && readFrame(f, MsgType.COMMAND, cmd) === null) position0 = cmd.position[0] as number;
          frames.push({ type: f.type, seq: f.seq, timeUs: f.timeUs, hostState, position0 });
        },
        onFrameError: () => { otherErrors++; },
      });
      return { frames, crcErrors: dec.counters.crcErrors, cobsErrors: dec.counters.cobsErrors, otherErrors };
    },
    close() {
      wire.setFd(-1);
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
