import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, dashboardDirectory, dashboardResponse, loadDashboardAssets, registerDashboard } from '../../agent/src/server/dashboard/index.js';
import { tempDir } from '../support/tmp.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function serve(options: { dir?: string } = {}): Promise<string> {
  const app = Fastify();
  apps.push(app);
  registerDashboard(app, options);
  return await app.listen({ host: '127.0.0.1', port: 0 });
}

describe('dashboard assets', () => {
  it('ships an HTML page that loads only its own module script and style sheet', () => {
    const assets = loadDashboardAssets();
    const html = assets.get('/')!.body.toString();
    expect(html).toContain('<script type="module" src="dashboard/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="dashboard/style.css">');
    expect(html).toMatch(/<html lang="en">/);
    expect(html).not.toMatch(/<script>|\son\w+="/); // no inline script or handler: the CSP forbids them
    expect(dashboardDirectory()).toMatch(/agent\/src\/server\/dashboard\/static$/);
  });
});

describe('registerDashboard (fastify)', () => {
  it('serves the page, script and style with types, CSP, nosniff and ETag revalidation', async () => {
    const url = await serve();
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>vigil: health checks</title>');
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const again = await fetch(`${url}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const js = await fetch(`${url}/dashboard/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('api/v1/definitions');
    const css = await fetch(`${url}/dashboard/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const head = await fetch(`${url}/dashboard/style.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await fetch(`${url}/dashboard/../package.json`)).status).toBe(404);
    expect((await fetch(`${url}/dashboard/other.js`)).status).toBe(404);
  });

  it('answers 500 naming the missing file when the assets are not shipped; other routes keep working', async () => {
    const dir = join(tempDir(), 'static');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    const app = Fastify();
    apps.push(app);
    registerDashboard(app, { dir });
    app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const r = await fetch(`${url}/`);
    expect(r.status).toBe(500);
    expect(await r.text()).toContain(`dashboard asset ${join(dir, 'app.js')} cannot be read: ENOENT`);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('dashboardResponse is undefined for paths that are not the dashboard', () => {
    expect(dashboardResponse('/api/v1/status', undefined)).toBeUndefined();
    expect(dashboardResponse('/dashboard/app.js', undefined)?.status).toBe(200);
  });
});
