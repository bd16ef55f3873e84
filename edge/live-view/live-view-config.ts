/**
 * The `liveView` section of the edge configuration: a Foxglove WebSocket server on this robot
 * (docs/live-view.md). Absent: no live view. Loopback only unless `allowNonLoopback` is set.
 */
import { z } from 'zod';

export const LiveViewConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0: any free port (printed at start-up). */
  port: z.number().int().min(0).max(65535).default(8765),
  maxClients: z.number().int().min(1).max(64).default(4),
  /** Bytes that may wait to be written to one client before its messages are dropped. */
  maxBufferedBytes: z.number().int().min(4096).max(256 * 1024 * 1024).default(1024 * 1024),
  /** Listen on an address that is not loopback: plaintext, no login; a network you trust only. */
  allowNonLoopback: z.boolean().default(false),
});
export type LiveViewConfig = z.infer<typeof LiveViewConfigSchema>;
