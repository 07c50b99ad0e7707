/**
 * An in-process agent for server tests: the real Agent over a temp directory of definitions,
 * the real local runtime (check processes) and fs store, and the real fastify server on a
 * loopback port 0 with metrics, run registry, report windows and signals.
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '../../agent/src/agent/Agent.js';
import { buildRuntime, buildSource, buildStore } from '../../agent/src/agent/build.js';
import { resolveConfig } from '../../agent/src/config/config.js';
import { RunRegistry } from '../../agent/src/control/runs.js';
import { SignalControl, type SignalState } from '../../agent/src/control/signals.js';
import type { Clock } from '../../agent/src/core/interfaces.js';
import type { Container, HealthDefinitionSpec } from '../../agent/src/core/model.js';
import { toYaml } from '../../agent/src/core/yaml.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { AgentMetrics } from '../../agent/src/metrics/metrics.js';
import { ReportRegistry } from '../../agent/src/reporting/ReportRegistry.js';
import { TokenAuth } from '../../agent/src/server/auth.js';
import { AgentServer, type AgentServerOptions } from '../../agent/src/server/server.js';
import { checkDefinition } from '../support/check-definition.js';
import { tempDir } from '../support/tmp.js';

export interface Harness {
  url: string;
  root: string;
  defs: string;
  state: string;
  agent: Agent;
  signals: SignalControl;
  metrics: AgentMetrics;
  reports: ReportRegistry;
  close(): Promise<void>;
}

export interface HarnessOptions {
  token?: string;
  initialSignal?: SignalState;
  concurrency?: number;
  runOnStart?: 'missing' | 'always' | 'never';
  server?: Partial<AgentServerOptions>;
  /** Definition files written before the agent starts: file name -> YAML. */
  files?: Record<string, string>;
  /** The agent's wall clock (its scheduler's timers stay real). */
  clock?: Clock;
}

/** A definition file's YAML: `namespace/name` running `containers`, optionally annotated. */
export function definitionYaml(namespace: string, name: string, containers: Container[], spec: Partial<HealthDefinitionSpec> = {}, annotations?: Record<string, string>): string {
  const d = checkDefinition(containers, { schedule: '@yearly', ...spec }, name, namespace);
  if (annotations) d.metadata.annotations = annotations;
  return toYaml(d);
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const root = tempDir('vigil-server-');
  const defs = join(root, 'definitions');
  const state = join(root, 'state');
  mkdirSync(defs);
  for (const [file, text] of Object.entries(options.files ?? {})) writeFileSync(join(defs, file), text);
  const { config } = resolveConfig(
    {
      dataDir: join(root, 'data'),
      definitions: { paths: [defs], rescanIntervalSeconds: 0 },
      store: { root: state, fsync: false },
      runtime: { containerEngine: { command: 'none' }, defaultTimeoutSeconds: 30 },
    },
    { source: 'harness', base: root, env: {} },
  );
  const logger = silentLogger();
  const signals = new SignalControl(options.initialSignal ?? 'RUN');
  const reports = new ReportRegistry();
  const agent = new Agent({
    source: buildSource(config, logger),
    runtime: buildRuntime(config.runtime, logger),
    store: buildStore(config, logger),
    logger,
    destination: 'test',
    concurrency: options.concurrency ?? 4,
    spreadSeconds: 0,
    runOnStart: options.runOnStart ?? 'always',
    defaultTimeZone: 'UTC',
    defaultTimeoutSeconds: 30,
    ...(options.clock ? { clock: options.clock } : {}),
    runs: new RunRegistry(),
    reports,
    signals,
    observer: {
      runFinished: (ns, name, run) => { metrics.runFinished(ns, name, run); },
      definitionRemoved: (ns, name) => { metrics.definitionRemoved(ns, name); },
    },
  });
  const metrics = new AgentMetrics({ provider: agent, signalState: () => signals.state, processMetrics: false });
  const server = new AgentServer({
    host: '127.0.0.1',
    port: 0,
    provider: agent,
    logger,
    metrics,
    reports,
    signals,
    agentName: 'test',
    ...(options.token ? { auth: new TokenAuth(options.token) } : {}),
    ...options.server,
  });
  const bound = await server.start();
  agent.setAgentUrl(bound.url);
  await agent.start();
  return {
    url: bound.url,
    root,
    defs,
    state,
    agent,
    signals,
    metrics,
    reports,
    close: async () => {
      await agent.stop(2_000);
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body's shape
export async function getJson<T = Record<string, unknown>>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: res.headers };
}
