// @ts-check
/**
 * When an operator may believe an e-stop worked. The broker's PUBACK only says the broker has the
 * message; the robot may be unreachable (the broker queues it for the robot's session) or its
 * serial line down. So an e-stop is `pending` ("sent, not yet confirmed") until every robot it
 * addressed reports its MCU latched (`mcuLatched` in a state summary received after the send),
 * and `failed` when that has not happened within `timeoutMs`. No DOM here: it runs in tests.
 *
 * Invariant: `confirmed` only from robots' own reports received after the send; never from the
 * broker's acknowledgement, never from the dashboard's own state.
 */

export const CONFIRM_TIMEOUT_MS = 2000;

/**
 * @typedef {{ id: string, presence: string, mcuLatched: boolean }} RobotReport
 * @typedef {{ state: 'pending' | 'confirmed' | 'failed', text: string }} Verdict
 */

export class EstopConfirmation {
  /**
   * @param {string} what what the operator pressed, for the text ("E-STOP r1", "STOP ALL")
   * @param {readonly string[]} robots the robots it addresses (every robot the page knows for STOP ALL)
   * @param {number} sentAtMs
   * @param {number} [timeoutMs]
   */
  constructor(what, robots, sentAtMs, timeoutMs = CONFIRM_TIMEOUT_MS) {
    this.what = what;
    this.sentAtMs = sentAtMs;
    this.timeoutMs = timeoutMs;
    /** Robots not yet confirmed. @type {Set<string>} */
    this.waiting = new Set(robots);
    /** The presence each one was last seen with (for the text). @type {Map<string, string>} */
    this.presence = new Map();
    this.total = this.waiting.size;
    /** @type {Verdict['state']} */
    this.state = this.total === 0 ? 'failed' : 'pending';
    this.doneAtMs = Number.NaN;
  }

  /** A robot's report received at `nowMs`. @param {RobotReport} r @param {number} nowMs */
  report(r, nowMs) {
    if (this.state !== 'pending' || !this.waiting.has(r.id) || nowMs < this.sentAtMs) return;
    this.presence.set(r.id, r.presence);
    if (r.presence === 'online' && r.mcuLatched) this.waiting.delete(r.id);
    if (this.waiting.size === 0) {
      this.state = 'confirmed';
      this.doneAtMs = nowMs;
    }
  }

  /** Moves to `failed` once the time is up. @param {number} nowMs */
  tick(nowMs) {
    if (this.state === 'pending' && nowMs - this.sentAtMs >= this.timeoutMs) {
      this.state = 'failed';
      this.doneAtMs = nowMs;
    }
  }

  /** @returns {Verdict} */
  verdict() {
    const left = [...this.waiting].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const names = left.slice(0, 5).map((id) => {
      const p = this.presence.get(id);
      return p && p !== 'online' ? `${id} (${p})` : id;
    }).join(', ') + (left.length > 5 ? ` and ${left.length - 5} more` : '');
    if (this.total === 0) return { state: 'failed', text: `${this.what}: no robot to confirm it` };
    if (this.state === 'confirmed') return { state: 'confirmed', text: `${this.what}: confirmed, MCU latched (${this.total === 1 ? 'robot' : `all ${this.total} robots`}) after ${Math.round(this.doneAtMs - this.sentAtMs)} ms` };
    if (this.state === 'failed') {
      return { state: 'failed', text: `${this.what}: NOT CONFIRMED after ${this.timeoutMs / 1000} s — no MCU latch reported by ${names}. An unreachable robot gets the e-stop when it reconnects and stops by itself when its broker link is lost; check it on site` };
    }
    return { state: 'pending', text: `${this.what}: sent, not yet confirmed (waiting for ${left.length === 1 ? names : `${left.length} robots`} to report the MCU latched)` };
  }
}
