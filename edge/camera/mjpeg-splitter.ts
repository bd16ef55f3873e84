/**
 * Splits an MJPEG byte stream (what `ffmpeg -f image2pipe -vcodec mjpeg -` or
 * `v4l2-ctl --stream-to=-` writes) into whole JPEG images. Pure: push(chunk) in, frames out
 * through the callback, any chunking (tested one byte at a time); no I/O.
 *
 * It walks the marker structure instead of searching for FF D9, so an EOI inside an embedded
 * thumbnail (an APP1/EXIF segment is skipped by its length) or a stuffed FF 00 in the scan never
 * ends a frame early. Bytes outside a frame are skipped and counted; a frame that grows past
 * `maxFrameBytes` or breaks the marker grammar is dropped and counted, and the splitter
 * resynchronises on the next SOI.
 *
 * Invariants: `len` bytes of `acc` hold the current frame's bytes up to the chunk position where
 * `start` was set; `state` is SEEK (and `len` 0) iff no frame is open.
 */
import { EOI, SOI, SOS, isStandalone } from './jpeg-markers.js';

const enum St {
  /** Looking for FF D8. */
  SEEK,
  /** In a frame, expecting FF before a marker. */
  MARKER_FF,
  /** Saw FF, expecting the marker code (FF fill bytes allowed). */
  MARKER_CODE,
  LEN_HI,
  LEN_LO,
  /** Skipping `skip` bytes of a segment's payload. */
  PAYLOAD,
  /** Entropy-coded data after SOS. */
  SCAN,
  /** Saw FF inside entropy-coded data. */
  SCAN_FF,
}

export interface MjpegSplitterCounters {
  frames: number;
  /** Bytes outside any frame (garbage, or the tail of a dropped frame). */
  skippedBytes: number;
  /** Frames dropped for breaking the marker grammar (including a new SOI before EOI). */
  corruptFrames: number;
  /** Frames dropped for exceeding maxFrameBytes. */
  oversizedFrames: number;
}

export class MjpegSplitter {
  readonly counters: MjpegSplitterCounters = { frames: 0, skippedBytes: 0, corruptFrames: 0, oversizedFrames: 0 };
  private readonly onFrame: (jpeg: Buffer) => void;
  private readonly maxFrameBytes: number;
  private acc: Uint8Array;
  private len = 0;
  private state = St.SEEK;
  /** SEEK: the previous byte was FF. */
  private seekFF = false;
  private segHi = 0;
  private skip = 0;
  private isSos = false;

  /** `onFrame` receives a Buffer it owns (a copy). */
  constructor(onFrame: (jpeg: Buffer) => void, maxFrameBytes = 4 * 1024 * 1024) {
    this.onFrame = onFrame;
    this.maxFrameBytes = maxFrameBytes;
    this.acc = new Uint8Array(Math.min(maxFrameBytes, 64 * 1024));
  }

  /** Feeds bytes; emits every frame completed within them. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    // Chunk index from which bytes belong to the open frame and are not yet in `acc`.
    let start = 0;
    let i = 0;
    while (i < n) {
      const b = chunk[i] as number;
      switch (this.state) {
        case St.SEEK: {
          if (this.seekFF && b === SOI) {
            this.counters.skippedBytes--; // its FF was counted as skipped
            this.openFrame();
            start = i + 1;
          } else {
            this.counters.skippedBytes++;
            this.seekFF = b === 0xff;
          }
          i++;
          break;
        }
        case St.MARKER_FF:
          if (b !== 0xff) { start = this.drop(chunk, start, i, 'corrupt'); break; }
          this.state = St.MARKER_CODE;
          i++;
          break;
        case St.MARKER_CODE: {
          i++;
          if (b === 0xff) break; // fill
          if (b === EOI) { start = this.finish(chunk, start, i); break; }
          if (b === SOI) { this.restart(); start = i; break; }
          if (b === 0x00) { start = this.drop(chunk, start, i, 'corrupt'); break; }
          if (isStandalone(b)) { this.state = St.MARKER_FF; break; }
          this.isSos = b === SOS;
          this.state = St.LEN_HI;
          break;
        }
        case St.LEN_HI:
          this.segHi = b;
          this.state = St.LEN_LO;
          i++;
          break;
        case St.LEN_LO: {
          const len = (this.segHi << 8) | b;
          i++;
          if (len < 2) { start = this.drop(chunk, start, i, 'corrupt'); break; }
          this.skip = len - 2;
          this.state = this.skip > 0 ? St.PAYLOAD : this.isSos ? St.SCAN : St.MARKER_FF;
          break;
        }
        case St.PAYLOAD: {
          const take = Math.min(this.skip, n - i);
          this.skip -= take;
          i += take;
          if (this.skip === 0) this.state = this.isSos ? St.SCAN : St.MARKER_FF;
          break;
        }
        case St.SCAN: {
          const ff = chunk.indexOf(0xff, i);
          if (ff < 0) { i = n; break; }
          i = ff + 1;
          this.state = St.SCAN_FF;
          break;
        }
        case St.SCAN_FF: {
          i++;
          if (b === 0x00 || (b >= 0xd0 && b <= 0xd7)) { this.state = St.SCAN; break; } // stuffed FF, RSTn
          if (b === 0xff) break; // fill
          if (b === EOI) { start = this.finish(chunk, start, i); break; }
          if (b === SOI) { this.restart(); start = i; break; }
          // Another marker after the scan (progressive JPEGs: DHT, SOS, ...).
          if (isStandalone(b)) { this.state = St.MARKER_FF; break; }
          this.isSos = b === SOS;
          this.state = St.LEN_HI;
          break;
        }
      }
      if (this.state !== St.SEEK && this.len + (i - start) > this.maxFrameBytes) start = this.drop(chunk, start, i, 'oversized');
    }
    if (this.state !== St.SEEK) this.append(chunk, start, n);
  }

  private openFrame(): void {
    this.len = 0;
    this.acc[0] = 0xff;
    this.acc[1] = SOI;
    this.len = 2;
    this.seekFF = false;
    this.state = St.MARKER_FF;
  }

  /** A new SOI inside an open frame: the open one was cut short. */
  private restart(): void {
    this.counters.corruptFrames++;
    this.openFrame();
  }

  /** Closes the frame whose last byte is chunk[end - 1]; returns the new `start`. */
  private finish(chunk: Uint8Array, start: number, end: number): number {
    this.append(chunk, start, end);
    const frame = Buffer.from(this.acc.subarray(0, this.len));
    this.counters.frames++;
    this.len = 0;
    this.state = St.SEEK;
    this.seekFF = false;
    this.onFrame(frame);
    return end;
  }

  /**
   * Abandons the open frame at chunk position `at`. A corrupt frame's bytes after its SOI are
   * scanned again (a truncated frame may have swallowed the next frame's SOI inside what looked
   * like a segment's payload); an oversized frame's are skipped. Returns the new `start`.
   */
  private drop(chunk: Uint8Array, start: number, at: number, why: 'corrupt' | 'oversized'): number {
    const replay = why === 'corrupt' ? Buffer.concat([this.acc.subarray(2, this.len), chunk.subarray(start, at)]) : null;
    if (why === 'corrupt') this.counters.corruptFrames++;
    else {
      this.counters.oversizedFrames++;
      this.counters.skippedBytes += this.len + (at - start);
    }
    this.reset();
    if (replay !== null) {
      this.counters.skippedBytes += 2; // the dropped frame's SOI
      this.push(replay); // may open a frame; the caller goes on appending from `at`
    }
    return at;
  }

  /** Forgets any open frame (e.g. when the producing process restarts). Counters are kept. */
  reset(): void {
    this.len = 0;
    this.state = St.SEEK;
    this.seekFF = false;
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const k = to - from;
    if (k <= 0) return;
    if (this.len + k > this.acc.length) {
      const grown = new Uint8Array(Math.max(this.len + k, Math.min(this.maxFrameBytes, this.acc.length * 2)));
      grown.set(this.acc.subarray(0, this.len));
      this.acc = grown;
    }
    this.acc.set(chunk.subarray(from, to), this.len);
    this.len += k;
  }
}
