// @ts-check
/** The event log, newest first, at most `shown` lines: new events are prepended, old ones dropped. */
import { clock } from './format.js';

export class EventLogView {
  /** @param {HTMLOListElement} list @param {number} [shown] */
  constructor(list, shown = 200) {
    this.list = list;
    this.shown = shown;
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'No events yet: transitions, stops, resets and operators\' commands appear here.';
    this.list.replaceChildren(li);
    this.empty = true;
  }

  /** @param {readonly import('./fleet-model.js').FleetEvent[]} events oldest first */
  add(events) {
    if (events.length === 0) return;
    if (this.empty) { this.list.replaceChildren(); this.empty = false; }
    const frag = document.createDocumentFragment();
    for (let i = events.length - 1; i >= 0 && events.length - i <= this.shown; i--) {
      const e = /** @type {import('./fleet-model.js').FleetEvent} */ (events[i]);
      const li = document.createElement('li');
      li.dataset.severity = e.severity;
      li.dataset.kind = e.kind;
      const t = document.createElement('time');
      t.textContent = clock(e.at);
      li.append(t, `${e.robot}: ${e.text}`);
      frag.appendChild(li);
    }
    this.list.prepend(frag);
    while (this.list.childElementCount > this.shown) this.list.lastElementChild?.remove();
  }
}
