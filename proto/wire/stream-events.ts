/**
 * Decodes a byte stream into the canonical event lines used by the conformance vectors:
 * one line per good frame (canonicalText), `ERROR <kind>` per discarded segment, and
 * `BODY_ERROR <TYPE>` per frame whose body does not fit its type.
 */
import { isKnownMsgType, msgTypeName } from './constants.js';
import { canonicalText } from './canonical.js';
import { FrameDecoder, type Frame, type FrameErrorKind } from './frame-decoder.js';
import { readFrame } from './message-reader.js';
import { newMessage } from './messages.js';

export function streamEvents(bytes: Uint8Array, chunkSize = bytes.length || 1): string[] {
  const events: string[] = [];
  const decoder = new FrameDecoder();
  const sink = {
    onFrame(f: Frame): void {
      if (!isKnownMsgType(f.type)) return;
      const msg = newMessage(f.type);
      const err = readFrame(f, f.type, msg);
      events.push(err === null ? canonicalText(f.type, f.seq, f.timeUs, msg) : `BODY_ERROR ${msgTypeName(f.type)}`);
    },
    onFrameError(kind: FrameErrorKind): void {
      events.push(`ERROR ${kind}`);
    },
  };
  for (let i = 0; i < bytes.length; i += chunkSize) decoder.push(bytes.subarray(i, Math.min(bytes.length, i + chunkSize)), sink);
  return events;
}
