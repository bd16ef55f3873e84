/**
 * The dashboard over HTTPS and its broker over wss://, in headless Chromium, trusting only the
 * test server's key (its SPKI hash, not "ignore all errors"): the page logs in, connects with a
 * broker token minted for its session (no password kept anywhere in the page), and its STOP ALL
 * reaches the firmware. At logout the session is revoked at the broker: the token the page used
 * stops connecting, and a connection made with it is dropped.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { connectAsync } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../bench/browser.js';
import { startFleetRig, type FleetRig } from '../bench/fleet-rig.js';
import { waitFor } from './link-harness.js';
import { makeTestCerts, type TestCerts } from './tls-fixture.js';

let certs: TestCerts;
let rig: FleetRig;
let browser: Browser;

beforeAll(async () => {
  certs = await makeTestCerts(['robot1']);
  rig = await startFleetRig({ robots: 1, tls: certs });
  const spki = new X509Certificate(certs.server.cert).publicKey.export({ type: 'spki', format: 'der' });
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rig?.close();
  certs?.dispose();
}, 30_000);

describe('dashboard over HTTPS, broker over wss://, in Chromium', () => {
  let page: Page;
  const tokens: { username: string; password: string }[] = [];

  it('logs in over HTTPS and reaches the broker over wss:// with a session token; the page keeps no password', async () => {
    expect(rig.dashboard.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    expect(rig.broker.wsUrl).toMatch(/^wss:\/\//);
    page = await browser.newPage();
    page.on('response', (r) => {
      if (r.url().endsWith('/api/broker-token') && r.ok()) void r.json().then((t: { username: string; password: string }) => tokens.push(t));
    });
    await page.goto(rig.dashboard.url);
    await page.fill('#login-user', rig.operator.name);
    await page.fill('#login-password', rig.operator.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 15_000 });
    await waitFor('the page fetched broker tokens for both connections', () => tokens.length >= 2, 5000);
    expect(tokens.every((t) => t.username === rig.operator.name && t.password.startsWith('spt1.') && t.password !== rig.operator.password)).toBe(true);
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([0, 0]);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'spinal_session')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
    // A reload reconnects on the session alone (a fresh token), with no password asked for.
    await page.reload();
    await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 15_000 });
    expect(await page.isVisible('#login')).toBe(false);
    await page.click('#stop-all');
    await waitFor('STOP ALL over wss:// latched at the firmware', () => rig.robots.every((r) => r.robot.estopLatched), 5000);
  });

  it('serves nothing in plaintext on its HTTPS port', async () => {
    const plain = rig.dashboard.url.replace('https://', 'http://');
    const status = await new Promise<string>((resolve) => {
      httpGet(plain, (res) => { res.resume(); resolve(`HTTP ${res.statusCode ?? 0}`); }).on('error', (e) => resolve(e.message));
    });
    // Node's TLS server answers a plaintext request with 400 and closes; it never serves the page.
    expect(status).not.toBe('HTTP 200');
  });

  it('after logout the page\'s broker token no longer connects, and a connection made with it is dropped', async () => {
    const token = tokens.at(-1);
    if (!token) throw new Error('no token captured');
    const connect = () => connectAsync(rig.broker.wsUrl ?? '', { ...token, ca: certs.ca, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 3000 }, false);
    const stolen = await connect(); // before logout it works: this is a live credential
    stolen.on('error', () => undefined);
    const dropped = new Promise<void>((resolve) => stolen.once('close', () => resolve()));
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
    await dropped;
    await expect(connect()).rejects.toThrow(/Bad username or password/i);
    expect(rig.broker.denials.at(-1)).toMatchObject({ username: rig.operator.name, action: 'connect' });
  });
});
