// @ts-check
/**
 * A small MQTT 3.1.1 client over a WebSocket, for the two jobs the dashboard has: receiving the
 * fleet's telemetry (in a worker) and sending commands (on the page's main thread).
 *
 * Why not mqtt.js here: in the browser its stream layer defers every write and read through
 * timer-based ticks, so under 2000 telemetry messages/s an e-stop published from a click waited
 * behind the backlog (measured: seconds). Here `publish` encodes the packet and calls
 * WebSocket.send in the caller's own task, and reading parses ArrayBuffers with no copies beyond
 * the payload slice. Only what the dashboard uses: CONNECT with username/password and clean
 * session, SUBSCRIBE and UNSUBSCRIBE (the filters held are sent again on every reconnect), PUBLISH
 * QoS 0/1 both ways (PUBACK), PINGREQ, DISCONNECT; reconnects itself.
 */

const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, PINGREQ = 12, PINGRESP = 13, DISCONNECT = 14;
const utf8 = new TextEncoder();

export const CONNACK_REASONS = ['accepted', 'unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad username or password', 'not authorized'];

/** @param {number} n @returns {number[]} MQTT's variable-length "remaining length" */
export function remainingLength(n) {
  if (!(n >= 0 && n <= 268_435_455)) throw new RangeError(`MQTT remaining length ${n} out of range`);
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** @param {number} header @param {Uint8Array[]} parts @returns {Uint8Array} */
function packet(header, parts) {
  let len = 0;
  for (const p of parts) len += p.length;
  const rl = remainingLength(len);
  const out = new Uint8Array(1 + rl.length + len);
  out[0] = header;
  out.set(rl, 1);
  let o = 1 + rl.length;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** @param {string} s */
function str(s) {
  const b = utf8.encode(s);
  if (b.length > 0xffff) throw new RangeError(`MQTT string of ${b.length} bytes is too long`);
  const out = new Uint8Array(2 + b.length);
  out[0] = b.length >> 8;
  out[1] = b.length & 0xff;
  out.set(b, 2);
  return out;
}

/** @param {number} n */
const u16 = (n) => new Uint8Array([n >> 8, n & 0xff]);

/** @param {{ clientId: string, username?: string, password?: string, keepaliveS: number }} o */
export function encodeConnect(o) {
  const flags = 0x02 | (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0);
  return packet(CONNECT << 4, [str('MQTT'), new Uint8Array([4, flags]), u16(o.keepaliveS), str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []), ...(o.password !== undefined ? [str(o.password)] : [])]);
}

/** @param {string} topic @param {Uint8Array} payload @param {{ qos: 0 | 1, retain: boolean, id?: number }} o */
export function encodePublish(topic, payload, o) {
  const header = (PUBLISH << 4) | (o.qos << 1) | (o.retain ? 1 : 0);
  return packet(header, o.qos > 0 ? [str(topic), u16(o.id ?? 0), payload] : [str(topic), payload]);
}

/** @param {number} id @param {string} filter @param {0 | 1} qos */
export function encodeSubscribe(id, filter, qos) {
  return packet((SUBSCRIBE << 4) | 0x02, [u16(id), str(filter), new Uint8Array([qos])]);
}

/** @param {number} id @param {string} filter */
export function encodeUnsubscribe(id, filter) {
  return packet((UNSUBSCRIBE << 4) | 0x02, [u16(id), str(filter)]);
}

/** @param {number} id */
export const encodePuback = (id) => new Uint8Array([PUBACK << 4, 2, id >> 8, id & 0xff]);
export const PINGREQ_BYTES = new Uint8Array([PINGREQ << 4, 0]);
export const DISCONNECT_BYTES = new Uint8Array([DISCONNECT << 4, 0]);

/**
 * @typedef {{ type: number, flags: number, body: Uint8Array }} RawPacket
 * Splits a byte stream into MQTT packets; keeps a partial packet for the next chunk.
 */
export class PacketReader {
  constructor() {
    /** @type {Uint8Array} */
    this.pending = new Uint8Array(0);
  }

  /** @param {Uint8Array} chunk @param {(p: RawPacket) => void} onPacket */
  push(chunk, onPacket) {
    let buf = chunk;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    let o = 0;
    while (buf.length - o >= 2) {
      let len = 0, mul = 1, i = o + 1, complete = false;
      for (; i < buf.length && i < o + 5; i++) {
        const b = /** @type {number} */ (buf[i]);
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) { complete = true; i++; break; }
      }
      if (!complete) {
        if (i >= o + 5) throw new Error('malformed MQTT remaining length');
        break;
      }
      if (buf.length - i < len) break;
      const first = /** @type {number} */ (buf[o]);
      onPacket({ type: first >> 4, flags: first & 0x0f, body: buf.subarray(i, i + len) });
      o = i + len;
    }
    this.pending = o === buf.length ? new Uint8Array(0) : buf.slice(o);
  }
}

/**
 * @typedef {{
 *   url: string, clientId: string, username?: string, password?: string,
 *   credentials?: () => Promise<{ username: string, password: string }>,
 *   keepaliveS?: number, reconnectMs?: number,
 *   subscribe?: { filter: string, qos: 0 | 1 },
 *   subscriptions?: { filter: string, qos: 0 | 1 }[],
 *   WebSocketImpl?: typeof WebSocket,
 *   onMessage?: (topic: string, payload: Uint8Array, retained: boolean) => void,
 *   onState?: (state: 'connecting' | 'connected' | 'disconnected' | 'refused', detail: string) => void,
 * }} LiteOptions
 */

export class MqttLite {
  /** @param {LiteOptions} o */
  constructor(o) {
    this.o = o;
    this.keepaliveS = o.keepaliveS ?? 10;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.connected = false;
    this.stopped = false;
    /** Why the broker refused this client (no reconnection after that). @type {string | undefined} */
    this.refused = undefined;
    this.nextId = 1;
    /** Publishes waiting for PUBACK: id → callback. @type {Map<number, (err?: Error) => void>} */
    this.acks = new Map();
    /** Publishes made while not connected, sent on CONNACK (an e-stop must not be dropped). @type {Uint8Array[]} */
    this.queued = [];
    this.reader = new PacketReader();
    /** @type {ReturnType<typeof setInterval> | null} */
    this.pinger = null;
    this.decoder = new TextDecoder();
    /** The filters this client holds, sent again on every CONNACK: filter → QoS. @type {Map<string, 0 | 1>} */
    this.filters = new Map();
    for (const s of [...(o.subscribe ? [o.subscribe] : []), ...(o.subscriptions ?? [])]) this.filters.set(s.filter, s.qos);
    /** SUBSCRIBE packet id → filter, to name a refused one. @type {Map<number, string>} */
    this.subscribing = new Map();
    this.open();
  }

  /**
   * Connects with `credentials()` when given (asked again before every connection: a dashboard's
   * broker token lives only long enough for one CONNECT), else with the fixed username/password.
   * A credential refused with HTTP 401 or 403 (the dashboard session ended) stops reconnecting.
   */
  open() {
    if (this.stopped) return;
    this.o.onState?.('connecting', this.o.url);
    const get = this.o.credentials;
    if (!get) {
      this.dial(this.o.username, this.o.password);
      return;
    }
    get().then((c) => this.dial(c.username, c.password), (/** @type {Error & { status?: number }} */ e) => {
      if (this.stopped) return;
      if (e.status === 401 || e.status === 403) {
        this.refused = `no broker credential: ${e.message}`;
        this.o.onState?.('refused', this.refused);
        return;
      }
      this.o.onState?.('disconnected', `no broker credential: ${e.message}`);
      setTimeout(() => this.open(), this.o.reconnectMs ?? 1000);
    });
  }

  /** @param {string | undefined} username @param {string | undefined} password */
  dial(username, password) {
    if (this.stopped) return;
    const WS = this.o.WebSocketImpl ?? WebSocket;
    this.reader = new PacketReader();
    const ws = new WS(this.o.url, ['mqtt']);
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      ws.send(encodeConnect({ clientId: this.o.clientId, keepaliveS: this.keepaliveS, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) }));
    };
    ws.onmessage = (ev) => {
      try {
        this.reader.push(new Uint8Array(/** @type {ArrayBuffer} */ (ev.data)), (p) => this.onPacket(p));
      } catch (e) {
        this.o.onState?.('disconnected', `protocol error: ${/** @type {Error} */ (e).message}`);
        ws.close();
      }
    };
    ws.onclose = () => this.onClose(ws);
    ws.onerror = () => { /* onclose follows */ };
  }

  /** @param {WebSocket} ws */
  onClose(ws) {
    if (this.ws !== ws) return;
    const was = this.connected;
    this.connected = false;
    this.ws = null;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    for (const cb of this.acks.values()) cb(new Error('connection lost before the broker acknowledged'));
    this.acks.clear();
    if (this.stopped) return;
    if (this.refused === undefined) this.o.onState?.('disconnected', was ? 'connection lost' : 'broker unreachable');
    if (this.refused === undefined) setTimeout(() => this.open(), this.o.reconnectMs ?? 1000);
  }

  /** @param {import('./mqtt-lite.js').RawPacket} p */
  onPacket(p) {
    const b = p.body;
    switch (p.type) {
      case CONNACK: {
        const rc = b[1] ?? 255;
        if (rc !== 0) {
          this.refused = CONNACK_REASONS[rc] ?? `code ${rc}`;
          this.o.onState?.('refused', this.refused);
          this.ws?.close();
          return;
        }
        this.connected = true;
        this.o.onState?.('connected', this.o.url);
        for (const [filter, qos] of this.filters) this.sendSubscribe(filter, qos);
        for (const q of this.queued.splice(0)) this.ws?.send(q);
        this.pinger = setInterval(() => { if (this.connected) this.ws?.send(PINGREQ_BYTES); }, (this.keepaliveS * 1000) / 2);
        return;
      }
      case PUBLISH: {
        const qos = (p.flags >> 1) & 3;
        const tlen = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
        const topic = this.decoder.decode(b.subarray(2, 2 + tlen));
        let o = 2 + tlen;
        if (qos > 0) {
          const id = ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
          o += 2;
          this.ws?.send(encodePuback(id));
        }
        this.o.onMessage?.(topic, b.subarray(o), (p.flags & 1) === 1);
        return;
      }
      case PUBACK: {
        const id = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
        const cb = this.acks.get(id);
        this.acks.delete(id);
        cb?.();
        return;
      }
      case SUBACK: {
        const id = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
        const filter = this.subscribing.get(id);
        this.subscribing.delete(id);
        if (b[2] === 0x80) this.o.onState?.('refused', `subscription to ${filter ?? '?'} refused by the broker`);
        return;
      }
      case PINGRESP:
        return;
      default:
        return;
    }
  }

  /** @param {string} filter @param {0 | 1} qos */
  sendSubscribe(filter, qos) {
    const id = this.id();
    this.subscribing.set(id, filter);
    this.ws?.send(encodeSubscribe(id, filter, qos));
  }

  /** Holds `filter` from now on (subscribes now when connected, and on every reconnect). @param {string} filter @param {0 | 1} qos */
  subscribe(filter, qos) {
    if (this.filters.get(filter) === qos) return;
    this.filters.set(filter, qos);
    if (this.connected) this.sendSubscribe(filter, qos);
  }

  /** Drops `filter` (now when connected; it is not sent again on reconnect). @param {string} filter */
  unsubscribe(filter) {
    if (!this.filters.delete(filter)) return;
    if (this.connected) this.ws?.send(encodeUnsubscribe(this.id(), filter));
  }

  id() {
    const id = this.nextId;
    this.nextId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  /**
   * Sends now when connected (in the caller's task), else queues for the next CONNACK.
   * @param {string} topic @param {string} payload @param {{ qos: 0 | 1, retain: boolean }} o
   * @param {(err?: Error) => void} [done] QoS 1: called on PUBACK (or when the connection drops)
   * @returns {boolean} true when it went to the socket now
   */
  publish(topic, payload, o, done) {
    const id = o.qos > 0 ? this.id() : 0;
    const bytes = encodePublish(topic, utf8.encode(payload), { qos: o.qos, retain: o.retain, id });
    if (o.qos > 0 && done) this.acks.set(id, done);
    if (this.connected && this.ws) {
      this.ws.send(bytes);
      return true;
    }
    this.queued.push(bytes);
    return false;
  }

  end() {
    this.stopped = true;
    if (this.pinger) clearInterval(this.pinger);
    if (this.ws && this.connected) this.ws.send(DISCONNECT_BYTES);
    this.ws?.close();
  }
}
