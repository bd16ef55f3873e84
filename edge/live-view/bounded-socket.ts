/**
 * One live-view client's socket as FoxgloveServer sees it (its IWebSocket), with a bound on what
 * may wait to be written to it. Message data (binary frames) for a client whose queue already
 * holds `maxBufferedBytes` is dropped and counted; control messages (JSON text: server info,
 * advertisements, status) always go, as they are few and a client that misses one is broken.
 *
 * Why: `ws` queues without limit in user space once the kernel's socket buffer is full, so a
 * client that reads slowly (a laptop on Wi-Fi through an ssh tunnel) would otherwise grow the
 * daemon's heap without end. Dropping is right for a live view: the next message is newer anyway.
 */
import type { IWebSocket } from '@foxglove/ws-protocol';
import type { WebSocket } from 'ws';

export class BoundedSocket implements IWebSocket {
  /** Messages (binary) dropped because this client's queue was full. */
  dropped = 0;
  /** Messages (binary) handed to the socket. */
  sent = 0;
  /** Inside a binary message sent in fragments (`fin: false` until its last one). */
  private fragmented = false;
  /** The binary message being sent is dropped, all its fragments. */
  private dropping = false;

  constructor(private readonly ws: WebSocket, private readonly maxBufferedBytes: number) {}

  get binaryType(): string {
    return this.ws.binaryType;
  }

  set binaryType(t: string) {
    this.ws.binaryType = t as WebSocket['binaryType'];
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get onerror(): IWebSocket['onerror'] {
    return this.ws.onerror as IWebSocket['onerror'];
  }

  set onerror(fn: IWebSocket['onerror']) {
    this.ws.onerror = fn ?? null;
  }

  get onopen(): IWebSocket['onopen'] {
    return this.ws.onopen as IWebSocket['onopen'];
  }

  set onopen(fn: IWebSocket['onopen']) {
    this.ws.onopen = fn ?? null;
  }

  get onclose(): IWebSocket['onclose'] {
    return this.ws.onclose as IWebSocket['onclose'];
  }

  set onclose(fn: IWebSocket['onclose']) {
    this.ws.onclose = fn ?? null;
  }

  get onmessage(): IWebSocket['onmessage'] {
    return this.ws.onmessage as IWebSocket['onmessage'];
  }

  set onmessage(fn: IWebSocket['onmessage']) {
    this.ws.onmessage = fn ?? null;
  }

  /** Bytes waiting in user space and in the socket's stream for this client. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  close(): void {
    this.ws.close();
  }

  send(data: string | ArrayBuffer | ArrayBufferView, options?: { fin?: boolean }): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (typeof data !== 'string') {
      // Decided once per message, at its first fragment: a message goes whole or not at all.
      if (!this.fragmented) {
        this.dropping = this.ws.bufferedAmount >= this.maxBufferedBytes;
        if (this.dropping) this.dropped++;
        else this.sent++;
      }
      this.fragmented = options?.fin === false;
      if (this.dropping) return;
    }
    this.ws.send(data, options ?? {});
  }
}
