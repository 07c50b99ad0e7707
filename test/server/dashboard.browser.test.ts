/**
 * The dashboard in a real browser (Debian's /usr/bin/chromium driven by playwright-core)
 * against a real `vigil agent` process with real check processes: states shown with text,
 * filters, the detail view, the token prompt, run-now and a live update. Saves a screenshot
 * (VIGIL_DASHBOARD_SCREENSHOT=<file> to keep it, e.g. docs/images/dashboard.png).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { registerDashboard } from '../../agent/src/server/dashboard/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { toYaml } from '../../agent/src/core/yaml.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { AgentProcess } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

const TOKEN = 'dashboard-test-token-0123456789';

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  let agent: AgentProcess | undefined;
  let context: BrowserContext | undefined;
  afterAll(async () => {
    await context?.close();
    await agent?.stop('SIGKILL');
  });

  it('shows every definition with its state, filters, opens details, asks for the token and updates live', async () => {
    const root = tempDir();
    const defs = join(root, 'definitions');
    mkdirSync(defs);
    const webState = join(root, 'web.state');
    writeFileSync(webState, 'healthy');
    const write = (ns: string, name: string, script: string): void => {
      const d = checkDefinition([shell('check', script)], { promiseRef: { name: 'demo' }, schedule: '0 0 * * *' }, name, ns);
      writeFileSync(join(defs, `${ns}-${name}.yaml`), toYaml(d));
    };
    write('team-a', 'web', `echo "state: $(cat '${webState}')" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`);
    write('team-a', 'db', `printf 'state: unhealthy\\ndetails: {primary: down, replicas: 0}\\n' > "$KRATIX_OUTPUT_DIR/health-status.yaml"`);
    write('team-b', 'cache', `printf 'state: degraded\\ndetails: {replicas: 2, wanted: 3}\\n' > "$KRATIX_OUTPUT_DIR/health-status.yaml"`);
    write('team-b', 'broken', 'echo "cannot connect" >&2; exit 1');
    const config = join(root, 'vigil.yaml');
    writeFileSync(config, 'server:\n  requireTokenForReads: true\n');
    agent = new AgentProcess(
      ['--config', config, '--definitions', defs, '--state-dir', join(root, 'state'), '--data-dir', join(root, 'data'), '--listen', '127.0.0.1:0',
        '--signals-listen', 'off', '--destination', 'ci', '--run-on-start', 'always', '--spread-seconds', '0'],
      { VIGIL_TOKEN: TOKEN },
    );
    const url = await agent.url();
    const auth = { authorization: `Bearer ${TOKEN}` };
    // All four have run once before the page is checked.
    for (const deadline = Date.now() + 30_000; ;) {
      const r = (await (await fetch(`${url}/api/v1/definitions`, { headers: auth })).json()) as { items: { state: string | null }[] };
      if (r.items.length === 4 && r.items.every((i) => i.state !== null)) break;
      if (Date.now() > deadline) throw new Error(`definitions did not all run: ${JSON.stringify(r)}\n${agent.dump()}`);
      await new Promise((res) => setTimeout(res, 100));
    }

    context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      viewport: { width: 1280, height: 720 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/?refresh=1`);

    // Reads need the token: the page asks for it, keeps it in the tab, then loads.
    await page.locator('#auth').waitFor({ state: 'visible' });
    await page.getByLabel('Bearer token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.locator('#auth').isHidden()).toBe(true);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('vigil.token')")).toBe(TOKEN);

    const rowState = (key: string): Promise<string | null> => page.locator(`tr[data-key="${key}"]`).getAttribute('data-state');
    const rows = page.locator('#rows tr');
    await expect.poll(() => rows.count()).toBe(4);
    expect(await rowState('team-a/web')).toBe('healthy');
    expect(await rowState('team-a/db')).toBe('unhealthy');
    expect(await rowState('team-b/cache')).toBe('degraded');
    expect(await rowState('team-b/broken')).toBe('unknown');
    // State is text, not only colour; worst first.
    expect(await page.locator('tr[data-key="team-a/db"] .badge').innerText()).toContain('unhealthy');
    expect(await rows.first().getAttribute('data-key')).toBe('team-a/db');
    expect(await page.locator('tr[data-key="team-b/broken"] .reason').innerText()).toContain('ExitCode');
    expect(await page.locator('tr[data-key="team-a/web"] .strip').getAttribute('aria-label')).toBe('Last 1 result: 1 healthy; newest healthy');
    expect(await page.locator('#summary').innerText()).toMatch(/1\s+unhealthy/);

    // Every state badge and count meets WCAG AA contrast (4.5:1) for its text.
    const contrast = (): Promise<{ text: string; ratio: number }[]> => page.evaluate<{ text: string; ratio: number }[]>(`(() => {
      const lum = (c) => { const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (!c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
      return [...document.querySelectorAll('.badge, .count .n')].map((el) => {
        const a = lum(getComputedStyle(el).color), b = lum(bg(el));
        return { text: el.textContent, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
    })()`);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const ratios = await contrast();
      expect(ratios.length).toBeGreaterThan(4);
      for (const r of ratios) expect(r.ratio, `${scheme}: ${r.text}`).toBeGreaterThanOrEqual(4.5);
    }
    await page.emulateMedia({ colorScheme: 'light' });

    // Filters: by namespace, by state (also from the summary buttons), by text.
    await page.getByLabel('Namespace', { exact: true }).selectOption('team-b');
    await expect.poll(() => rows.count()).toBe(2);
    expect(page.url()).toContain('namespace=team-b');
    await page.getByLabel('State', { exact: true }).selectOption('degraded');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-key')).toBe('team-b/cache');
    await page.getByLabel('Namespace', { exact: true }).selectOption('');
    await page.getByLabel('State', { exact: true }).selectOption('');
    await page.getByRole('button', { name: /1\s+unhealthy/ }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('button', { name: /1\s+unhealthy/ }).click();
    await page.getByLabel('Search', { exact: true }).fill('exitcode');
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByLabel('Search', { exact: true }).fill('');
    await expect.poll(() => rows.count()).toBe(4);

    // Detail view of the last record, by keyboard.
    await page.locator('tr[data-key="team-a/db"] a').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.locator('h2').innerText()).toBe('team-a/db');
    await expect.poll(async () => dialog.locator('pre.details').count()).toBe(1);
    expect(JSON.parse(await dialog.locator('pre.details').innerText())).toEqual({ primary: 'down', replicas: 0 });
    expect(await dialog.locator('.facts').innerText()).toContain('0 0 * * *');
    expect(await dialog.locator('.facts').innerText()).toContain('0 passed, 1 failed (1 in a row)');
    expect(await dialog.locator('table.history tbody tr').count()).toBe(1);
    expect(page.url()).toContain('#/team-a/db');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);

    // Live update: the web check turns unhealthy; "Run now" from its detail view, and the list follows.
    writeFileSync(webState, 'unhealthy');
    await page.locator('tr[data-key="team-a/web"] a').click();
    await dialog.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => dialog.locator('#run-status').innerText()).toMatch(/^Run \S+ queued/);
    await page.keyboard.press('Escape');
    await expect.poll(() => rowState('team-a/web'), { timeout: 20_000 }).toBe('unhealthy');
    expect(await page.locator('tr[data-key="team-a/web"] .strip').getAttribute('aria-label')).toBe('Last 2 results: 1 healthy, 1 unhealthy; newest unhealthy');
    expect(await page.locator('#announcer').innerText()).toContain('team-a/web is now unhealthy (was healthy)');

    const shot = process.env.VIGIL_DASHBOARD_SCREENSHOT ?? join(root, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    await screenshotDetail(page, join(root, 'detail.png'));
    await page.keyboard.press('Escape');

    // The run signal is shown: PAUSE (set through the API) then RUN again.
    expect((await fetch(`${url}/api/v1/signal/PAUSE`, { method: 'POST', headers: auth })).status).toBe(200);
    await expect.poll(() => page.locator('#signal').innerText(), { timeout: 10_000 }).toContain('Paused: no new runs start');
    expect((await fetch(`${url}/api/v1/signal/RUN`, { method: 'POST', headers: auth })).status).toBe(200);
    await expect.poll(() => page.locator('#signal').isHidden(), { timeout: 10_000 }).toBe(true);

    // The agent goes away: the page says so (and keeps the last data on screen).
    await agent.stop('SIGKILL');
    await expect.poll(() => page.locator('#error').innerText(), { timeout: 10_000 }).toMatch(/^Cannot reach the agent: .*Retrying every 1 s\.$/);
    expect(await page.locator('#live-dot').getAttribute('class')).toBe('dot down');
    await expect.poll(() => rows.count()).toBe(4);
    expect(errors).toEqual([]);
  }, 90_000);
});

async function screenshotDetail(page: Page, path: string): Promise<void> {
  await page.locator('tr[data-key="team-b/cache"] a').click();
  await page.getByRole('dialog').locator('pre.details').waitFor();
  await page.screenshot({ path });
}

describe.skipIf(!hasChromium)('dashboard in Chromium with many definitions', () => {
  it('draws the worst 500 of 5,000 definitions and says how to see the rest', async () => {
    // The page's capacity, not the agent's: a fastify server with the dashboard and 5,000 generated
    // definitions in the API's shape (each with a 10-run history).
    const now = Date.now();
    const states = ['healthy', 'healthy', 'healthy', 'healthy', 'degraded', 'unhealthy', 'unknown'];
    const items = Array.from({ length: 5000 }, (_, i) => {
      const history = Array.from({ length: 10 }, (_, j) => ({
        runId: `r${i}-${j}`, trigger: 'schedule', finishedAt: new Date(now - j * 60_000).toISOString(), durationMs: 20, state: states[(i + j) % states.length], reason: null, message: null,
      }));
      return { namespace: `team-${i % 20}`, name: `check-${i}`, schedule: '*/5 * * * *', nextRun: new Date(now + 60_000).toISOString(), suspended: false, running: null, state: history[0]!.state, reason: null, lastRun: history[0]!.finishedAt, history };
    });
    const app = Fastify();
    registerDashboard(app);
    app.get('/api/v1/definitions', () => Promise.resolve({ items }));
    app.get('/api/v1/status', () => Promise.resolve({ destination: 'bench', store: { kind: 'fs', pending: 0 } }));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const context = await chromium.launchPersistentContext(join(tempDir(), 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const started = Date.now();
      await page.goto(`${url}/`);
      await page.locator('body[data-loaded="true"]').waitFor({ timeout: 30_000 });
      console.info(`dashboard: 5,000 definitions loaded and drawn in ${Date.now() - started} ms (informative, not asserted)`);
      expect(await page.locator('#rows tr').count()).toBe(500);
      expect(await page.locator('#rows tr').first().getAttribute('data-state')).toBe('unhealthy');
      expect(await page.locator('#more').innerText()).toBe('Showing the first 500 of 5000 matching checks (worst first); use the filters to see the others.');
      await page.getByLabel('Namespace', { exact: true }).selectOption('team-3');
      await expect.poll(() => page.locator('#rows tr').count()).toBe(250);
      expect(await page.locator('#more').isHidden()).toBe(true);
    } finally {
      await context.close();
      await app.close();
    }
  }, 90_000);
});
