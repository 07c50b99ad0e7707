/**
 * The dashboard (`GET /`): three static files (static/index.html, app.js, style.css) with
 * no build step. They are not compiled by tsc, so they are read at runtime from the package
 * root (agent/src/server/dashboard/static), once, into memory. The page holds no data: it
 * reads the JSON API from the browser, so it is served without a token even when reads
 * require one (the page asks for the token then).
 *
 * `registerDashboard(app)` adds the routes to a fastify server; `dashboardResponse()` is the
 * same thing for any other HTTP layer.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../paths.js';

/** URL path → file in the static directory. */
export const DASHBOARD_ROUTES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/dashboard/app.js': 'app.js',
  '/dashboard/style.css': 'style.css',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page may load only its own script and style and talk only to its own origin. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface DashboardAsset {
  file: string;
  body: Buffer;
  headers: Record<string, string>;
}

export interface DashboardResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Where the static files are (inside the package, next to this module's sources). */
export function dashboardDirectory(): string {
  return join(packageRoot(), 'agent', 'src', 'server', 'dashboard', 'static');
}

/** Reads every asset; throws naming the missing file (e.g. a package built without them). */
export function loadDashboardAssets(dir: string = dashboardDirectory()): Map<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const [path, file] of Object.entries(DASHBOARD_ROUTES)) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, file));
    } catch (err) {
      throw new Error(`dashboard asset ${join(dir, file)} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    const ext = file.slice(file.lastIndexOf('.') + 1);
    const headers: Record<string, string> = {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (ext === 'html') {
      headers['content-security-policy'] = DASHBOARD_CSP;
      headers['x-frame-options'] = 'DENY';
    }
    assets.set(path, { file, body, headers });
  }
  return assets;
}

/**
 * The response for `path`, or undefined when the path is not the dashboard's. A missing
 * asset directory answers 500 with the reason (once per request; the rest of the server works).
 */
export function dashboardResponse(
  path: string,
  ifNoneMatch: string | undefined,
  load: () => Map<string, DashboardAsset> = cachedAssets,
): DashboardResponse | undefined {
  if (!Object.hasOwn(DASHBOARD_ROUTES, path)) return undefined;
  let assets: Map<string, DashboardAsset>;
  try {
    assets = load();
  } catch (err) {
    return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${(err as Error).message}\n` };
  }
  const asset = assets.get(path)!;
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === asset.headers.etag)) {
    return { status: 304, headers: { etag: asset.headers.etag!, 'cache-control': 'no-cache' }, body: '' };
  }
  return { status: 200, headers: asset.headers, body: asset.body };
}

let cache: Map<string, DashboardAsset> | undefined;

function cachedAssets(): Map<string, DashboardAsset> {
  cache ??= loadDashboardAssets();
  return cache;
}

export interface DashboardOptions {
  /** Static directory (tests); default dashboardDirectory(). */
  dir?: string;
}

/** Adds `GET /` and the page's script and style sheet to a fastify server (HEAD included). */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions = {}): void {
  let local: Map<string, DashboardAsset> | undefined;
  const load = options.dir === undefined ? cachedAssets : (): Map<string, DashboardAsset> => (local ??= loadDashboardAssets(options.dir));
  for (const path of Object.keys(DASHBOARD_ROUTES)) {
    app.get(path, async (request, reply) => {
      const ifNoneMatch = request.headers['if-none-match'];
      const r = dashboardResponse(path, typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, load)!;
      if (r.status === 500) request.log.error({ path }, String(r.body).trim());
      return reply.code(r.status).headers(r.headers).send(r.body);
    });
  }
}
