import { HEADER_SIZE, type MsgType } from './constants.js';
import type { Frame } from './frame-decoder.js';
import { readBody, type MessageMap } from './messages.js';

/** Reads the body of a decoded frame into `out`; null when well formed, else what is wrong. */
export function readFrame<T extends MsgType>(frame: Frame, type: T, out: MessageMap[T]): string | null {
  return readBody(type, frame.view, frame.bytes, HEADER_SIZE, frame.bodyLength, out);
}
