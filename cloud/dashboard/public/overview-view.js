// @ts-check
/**
 * The fleet table, virtualised: the data of every robot is kept, but only the rows the scrolled
 * viewport shows exist in the DOM (VirtualRows), reused as the view scrolls. Updates are batched:
 * apply() only stores the data; render(), called once per animation frame by the page, writes the
 * visible rows, and a cell only when its text changed. So 1000 robots cost the same per frame as
 * the 30 or so on screen.
 */
import { age, num } from './format.js';
import { VirtualRows } from './virtual-rows.js';

/** @typedef {import('./telemetry-worker.js').RowData} RowData */
/** @typedef {{ tr: HTMLTableRowElement, cells: HTMLTableCellElement[], stop: HTMLButtonElement, text: string[], id: string | null }} Slot */

const COLUMNS = ['robot', 'presence', 'safety', 'mode', 'task', 'brain', 'lateness', 'decoder', 'event'];
/** Until a row has been measured (CSS fixes it; see app.css). */
const ROW_HEIGHT_GUESS = 30;

export class OverviewView {
  /**
   * @param {HTMLTableSectionElement} body the table's tbody
   * @param {HTMLElement} scroller the element that scrolls the table
   * @param {{ onSelect(id: string): void, onEstop(id: string): void, canCommand: boolean }} actions
   */
  constructor(body, scroller, actions) {
    this.body = body;
    this.scroller = scroller;
    this.table = /** @type {HTMLTableElement} */ (body.closest('table'));
    this.actions = actions;
    this.window = new VirtualRows(ROW_HEIGHT_GUESS);
    this.measured = false;
    /** @type {Map<string, RowData>} */
    this.data = new Map();
    /** @type {Map<string, string>} presence by robot, for the counts on the table */
    this.presence = new Map();
    /** @type {Record<string, number>} */
    this.counts = {};
    /** @type {Slot[]} */
    this.slots = [];
    /** @type {string | null} */
    this.selected = null;
    this.dirty = false;
    this.top = this.spacer();
    this.bottom = this.spacer();
    body.replaceChildren(this.top, this.bottom);
    body.addEventListener('click', (ev) => {
      const target = /** @type {HTMLElement} */ (ev.target);
      const tr = /** @type {HTMLTableRowElement | null} */ (target.closest('tr[data-robot]'));
      const id = tr?.dataset.robot;
      if (!id) return;
      if (target.closest('button.estop')) this.actions.onEstop(id);
      else this.actions.onSelect(id);
    });
    scroller.addEventListener('scroll', () => { this.dirty = true; this.onDirty(); }, { passive: true });
    /** Set by the page: asks for a render on the next animation frame. @type {() => void} */
    this.onDirty = () => undefined;
  }

  spacer() {
    const tr = document.createElement('tr');
    tr.className = 'spacer';
    tr.setAttribute('aria-hidden', 'true');
    const td = document.createElement('td');
    td.colSpan = COLUMNS.length + 1;
    tr.appendChild(td);
    return tr;
  }

  /** Knows robot `id` (a row with no data yet). @param {string} id */
  row(id) {
    if (this.window.add(id)) {
      this.setPresence(id, 'unknown');
      this.markDirty();
    }
  }

  markDirty() {
    if (this.dirty) return;
    this.dirty = true;
    this.onDirty();
  }

  /** @param {string} id @param {string} presence */
  setPresence(id, presence) {
    const was = this.presence.get(id);
    if (was === presence) return;
    if (was !== undefined) this.counts[was] = (this.counts[was] ?? 1) - 1;
    this.counts[presence] = (this.counts[presence] ?? 0) + 1;
    this.presence.set(id, presence);
    this.table.dataset.rows = String(this.presence.size);
    this.table.dataset.online = String(this.counts.online ?? 0);
  }

  /** Stores a row's data; drawn at the next render. @param {RowData} d */
  apply(d) {
    this.row(d.id);
    this.data.set(d.id, d);
    this.setPresence(d.id, d.presence);
    this.markDirty();
  }

  /** Ages in the last-event column move with time alone. */
  tick() {
    this.markDirty();
  }

  /** @param {string | null} id */
  select(id) {
    this.selected = id;
    this.markDirty();
  }

  /** @returns {Slot} */
  slot() {
    const tr = document.createElement('tr');
    const cells = COLUMNS.map((c) => {
      const td = document.createElement('td');
      if (c === 'brain' || c === 'lateness' || c === 'decoder') td.className = 'num';
      if (c === 'event') td.className = 'event';
      tr.appendChild(td);
      return td;
    });
    const act = document.createElement('td');
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.className = 'estop op-only';
    stop.textContent = 'E-STOP';
    stop.disabled = !this.actions.canCommand;
    act.appendChild(stop);
    tr.appendChild(act);
    return { tr, cells, stop, text: COLUMNS.map(() => ''), id: null };
  }

  /** @param {Slot} slot @param {string} id @param {number} nowMs */
  fill(slot, id, nowMs) {
    const tr = slot.tr;
    if (slot.id !== id) {
      slot.id = id;
      tr.dataset.robot = id;
      slot.stop.title = `E-stop ${id}`;
    }
    const d = this.data.get(id);
    const safety = d?.safety ?? '—';
    const text = d ? [
      id, d.presence, d.latched && safety !== 'ESTOP' ? `${safety} (latched)` : safety, d.mode ?? '—', d.task ?? '—',
      num(d.brainMs, 1, ' ms'), num(d.latenessMs, 2, ' ms'), num(d.decoderMs, 1, ' ms'), d.lastEvent ? `${d.lastEvent.text} · ${age(nowMs - d.lastEvent.at)}` : '—',
    ] : [id, 'unknown', '—', '—', '—', '—', '—', '—', '—'];
    for (let i = 0; i < text.length; i++) {
      const t = /** @type {string} */ (text[i]);
      if (slot.text[i] === t) continue;
      slot.text[i] = t;
      /** @type {HTMLTableCellElement} */ (slot.cells[i]).textContent = t;
    }
    const presence = d?.presence ?? 'unknown';
    if (tr.dataset.presence !== presence) tr.dataset.presence = presence;
    if (tr.dataset.safety !== safety) tr.dataset.safety = safety;
    tr.classList.toggle('selected', id === this.selected);
  }

  /** Writes the visible rows (call once per animation frame; does nothing when nothing changed). @param {number} nowMs */
  render(nowMs) {
    if (!this.dirty) return;
    this.dirty = false;
    const head = this.table.tHead?.offsetHeight ?? 0;
    const { first, end, top, bottom } = this.window.range(this.scroller.scrollTop - head, this.scroller.clientHeight || window.innerHeight);
    const need = end - first;
    while (this.slots.length < need) this.slots.push(this.slot());
    for (let i = 0; i < need; i++) {
      const slot = /** @type {Slot} */ (this.slots[i]);
      this.fill(slot, /** @type {string} */ (this.window.ids[first + i]), nowMs);
      if (slot.tr.parentNode !== this.body) this.body.insertBefore(slot.tr, this.bottom);
    }
    for (let i = need; i < this.slots.length; i++) {
      const slot = /** @type {Slot} */ (this.slots[i]);
      if (slot.tr.parentNode) slot.tr.remove();
      slot.id = null;
    }
    /** @type {HTMLElement} */ (this.top.firstElementChild).style.height = `${top}px`;
    /** @type {HTMLElement} */ (this.bottom.firstElementChild).style.height = `${bottom}px`;
    this.top.hidden = top === 0;
    this.bottom.hidden = bottom === 0;
    if (!this.measured && need > 0) {
      const h = /** @type {Slot} */ (this.slots[0]).tr.getBoundingClientRect().height;
      this.measured = true;
      if (h > 0 && Math.abs(h - this.window.rowHeight) > 0.5) {
        this.window.rowHeight = h;
        this.markDirty();
      }
    }
  }
}
