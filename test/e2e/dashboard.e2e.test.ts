/**
 * The dashboard in headless Chromium against a fleet in this process: every robot shows online and
 * ACTIVE with moving plots; STOP ALL puts every virtual firmware into ESTOP and the page shows it;
 * a viewer cannot reset (the page offers nothing, and the broker refuses the publish); an operator's
 * release, reset and resume bring one robot back while the others stay stopped; an operator's episode
 * mark reaches a robot, which answers that recording is off (a viewer's mark buttons are disabled).
 * Screenshots are left in test-results/ as artifacts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { robotTopics } from '../../proto/mqtt/index.js';
import { launchChromium } from '../bench/browser.js';
import { startFleetRig, type FleetRig } from '../bench/fleet-rig.js';
import { repoRoot } from '../bench/harness.js';
import { sleep, waitFor } from './link-harness.js';

const ARTIFACTS = join(repoRoot(), 'test-results');
const OLGA = { id: 'olga', role: 'operator' };
let rig: FleetRig;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  rig = await startFleetRig({ robots: 3 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rig?.close();
}, 30_000);

async function logIn(who: { name: string; password: string }): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(rig.dashboard.url);
  await page.fill('#login-user', who.name);
  await page.fill('#login-password', who.password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 10_000 });
  return page;
}

/** Waits for a robot's row to show `safety` (and online); a timeout says what the row and the robot showed. */
async function waitRow(page: Page, id: string, safety: string, ms = 10_000): Promise<void> {
  try {
    await page.waitForSelector(`#fleet tr[data-robot="${id}"][data-presence="online"][data-safety="${safety}"]`, { timeout: ms });
  } catch (e) {
    const sel = `#fleet tr[data-robot="${id}"]`;
    const row = (await page.locator(sel).count()) === 0 ? 'no row'
      : `${await page.getAttribute(sel, 'data-presence')}/${await page.getAttribute(sel, 'data-safety')}: ${await page.textContent(sel)}`;
    const d = rig.robots.find((r) => r.id === id)?.daemon;
    throw new Error(`${id}: row never showed online/${safety} (row: ${row}; daemon: ${d?.supervisor.state}, cause ${String(d?.supervisor.latchedCause)}): ${(e as Error).message}`);
  }
}

async function confirmWith(page: Page, button: string): Promise<void> {
  await page.click(button);
  await page.waitForSelector('dialog#confirm[open]');
  await page.click('#confirm-ok');
}

describe('fleet dashboard in Chromium', () => {
  let operatorPage: Page;

  it('shows every robot online and ACTIVE, with plots that move', async () => {
    // Resumed on a plan without a task (hold where you are), then given the wave: the brain runs a
    // task's steps on its own clock, so a task given before the resume could be over by then.
    await waitFor('plans for every robot', () => rig.robots.every((r) => (r.daemon.cloud?.currentPlan() ?? null) !== null && r.daemon.supervisor.mcuLatch !== 'unknown'), 15_000);
    for (const r of rig.robots) expect(r.daemon.supervisor.resume({ id: 'olga', role: 'operator' })).toBe(true);
    // Where robot1's plant (an arm: its wave moves the base) was at the resume: the wave must take it
    // away from there.
    const plant = rig.robots[0]?.robot.plant.truth.q;
    const atResume = Array.from(plant ?? []);
    for (const r of rig.robots) await rig.brain.setTask(r.id, 'wave');

    operatorPage = await logIn(rig.operator);
    const page = operatorPage;
    await expect(page.textContent('#who')).resolves.toBe('olga (operator)');
    for (const r of rig.robots) {
      await waitRow(page, r.id, 'ACTIVE');
    }
    await page.click('#fleet tr[data-robot="robot2"]');
    await page.waitForSelector('#detail:not([hidden])[data-samples]');
    // The brain's own line on the robot: the wave's progress (or its end), from the dashboard server.
    await page.locator('#brain-status').filter({ hasText: /^brain: (step \d+\/\d+ \(wave-|done: wave)/ }).waitFor({ timeout: 10_000 });
    const t0 = Number(await page.getAttribute('#detail', 'data-last-t'));
    await expect(page.locator('#plot-joints canvas').count()).resolves.toBe(1);
    await sleep(1000);
    const t1 = Number(await page.getAttribute('#detail', 'data-last-t'));
    expect(t1 - t0).toBeGreaterThan(0.5);
    expect(Number(await page.getAttribute('#detail', 'data-samples'))).toBeGreaterThan(10);
    // The commanded-vs-measured chart has both series; the plant of a waving arm really moves.
    await expect(page.locator('#plot-cmd .u-legend .u-series .u-label').allTextContents()).resolves.toEqual(['commanded', 'measured']);
    // (A robot that reached its goal holds still, so the check is against the pose at the resume.)
    await waitFor('robot1\'s plant moving under host control', () => Array.from(plant ?? []).some((q, j) => Math.abs(q - (atResume[j] ?? q)) > 1e-3), 10_000);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-active.png') });
  });

  it('reconnects by itself when the broker goes away and comes back, and a reload keeps the login', async () => {
    const page = operatorPage;
    const restarted = rig.restartBroker(2000);
    await page.waitForSelector('body:not([data-mqtt="connected"])', { timeout: 5000 });
    await expect(page.textContent('#conn')).resolves.toMatch(/reconnecting|unreachable/);
    await restarted;
    await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 15_000 });
    // 2 s without the broker is beyond the robots' 500 ms link-loss limit: each stopped and says why.
    for (const r of rig.robots) await waitRow(page, r.id, 'ESTOP', 15_000);
    // (The page may miss the events the robots publish as they reconnect, before it has
    // subscribed again; the state summary says why the robot it shows is stopped.)
    await expect(page.textContent('#detail-cause')).resolves.toBe('cause: mqtt-link-lost');
    for (const r of rig.robots) {
      expect(r.daemon.supervisor.latchedCause).toBe('mqtt-link-lost');
      await expect(r.daemon.supervisor.reset(OLGA)).resolves.toBe(true);
    }
    await waitFor('a fresh plan for every robot after the reset', () => rig.robots.every((r) => r.daemon.supervisor.planFresh()), 15_000);
    for (const r of rig.robots) expect(r.daemon.supervisor.resume(OLGA)).toBe(true);
    for (const r of rig.robots) await waitRow(page, r.id, 'ACTIVE', 15_000);
    await page.reload();
    await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 10_000 });
    await expect(page.isVisible('#login')).resolves.toBe(false);
    for (const r of rig.robots) await waitRow(page, r.id, 'ACTIVE');
    await page.click('#fleet tr[data-robot="robot2"]');
  });

  it('STOP ALL puts every virtual firmware into ESTOP, and the page shows it', async () => {
    const page = operatorPage;
    await page.click('#stop-all');
    await waitFor('ESTOP latched at every virtual firmware', () => rig.robots.every((r) => r.robot.estopLatched), 5000);
    for (const r of rig.robots) {
      await waitRow(page, r.id, 'ESTOP', 5000);
      expect(r.daemon.supervisor.state).toBe('ESTOP');
    }
    await page.waitForSelector('#latch:not([hidden])');
    await page.waitForSelector('#ack[data-acked-at]');
    // Confirmed only from the robots' reports of their MCU latch, not from the broker's PUBACK.
    await page.waitForSelector('#estop-confirm[data-state="confirmed"]', { timeout: 5000 });
    await expect(page.textContent('#estop-confirm')).resolves.toMatch(/^STOP ALL: confirmed, MCU latched \(all 3 robots\)/);
    await page.waitForSelector('#events li[data-kind="estop-received"]');
    await expect(page.textContent('#events li[data-kind="fleet-stop"]')).resolves.toContain('fleet: olga sent STOP ALL (category 1)');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-stop-all.png') });
  });

  it('a viewer sees the fleet but cannot reset: no control in the page, and the broker refuses the publish', async () => {
    const page = await logIn(rig.viewer);
    await waitRow(page, 'robot1', 'ESTOP');
    await page.click('#fleet tr[data-robot="robot1"]');
    await expect(page.isDisabled('#detail-reset')).resolves.toBe(true);
    await expect(page.isDisabled('#stop-all')).resolves.toBe(true);
    for (const b of await page.locator('button.episode').all()) await expect(b.isDisabled()).resolves.toBe(true);
    const denied = rig.broker.denials.length;
    const client = await mqtt.connectAsync(rig.broker.wsUrl ?? '', { username: rig.viewer.name, password: rig.viewer.password, reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const reset = { v: 1, kind: 'reset', id: 'viewer-try', operator: rig.viewer.name, at: Date.now() };
    client.publish(robotTopics(rig.fleet, 'robot1').resetBy(rig.viewer.name), JSON.stringify(reset), { qos: 1 });
    await closed;
    client.end(true);
    expect(rig.broker.denials.slice(denied)).toContainEqual({ username: 'vic', action: 'publish', topic: robotTopics(rig.fleet, 'robot1').resetBy(rig.viewer.name) });
    await sleep(300);
    expect(rig.robots[0]?.daemon.supervisor.state).toBe('ESTOP');
    expect(rig.robots[0]?.robot.estopLatched).toBe(true);
    await page.close();
  });

  it('an operator releases the latch, then resets and resumes one robot; the others stay stopped', async () => {
    const page = operatorPage;
    await confirmWith(page, '#release');
    await page.waitForSelector('#latch[hidden]', { state: 'attached' });
    await page.click('#fleet tr[data-robot="robot1"]');
    await confirmWith(page, '#detail-reset');
    const r1 = rig.robots[0];
    await waitFor('robot1 reset at the firmware and IDLE', () => r1?.robot.estopLatched === false && r1.daemon.supervisor.state === 'IDLE', 5000);
    await confirmWith(page, '#detail-resume');
    await waitRow(page, 'robot1', 'ACTIVE', 5000);
    expect(r1?.daemon.supervisor.state).toBe('ACTIVE');
    for (const other of rig.robots.slice(1)) {
      expect(other.daemon.supervisor.state).toBe('ESTOP');
      expect(other.robot.estopLatched).toBe(true);
    }
    await page.waitForSelector('#events li[data-kind="resume-accepted"]');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-reset-resume.png') });
    // An episode mark: these robots have no flight recorder, which the page shows and the robot answers.
    await page.waitForSelector('#detail[data-recording="off"]');
    await page.click('button.episode[data-outcome="failure"][data-end="true"]');
    await page.waitForSelector('#events li[data-kind="episode-refused"]');
    await expect(page.textContent('#events li[data-kind="episode-refused"]')).resolves.toMatch(/recording is off/);
  });
});
