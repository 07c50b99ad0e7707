#!/usr/bin/env node
/** The `vigil` command line. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { registerAgent } from './commands/agent.js';
import { registerK8sAdapter } from './commands/k8s-adapter.js';
import { registerImportKhcheck } from './commands/import-khcheck.js';
import { registerPlugins } from './commands/plugins.js';
import { registerRun } from './commands/run.js';
import { registerTrigger } from './commands/trigger.js';
import { registerValidate } from './commands/validate.js';
import { registerWatch } from './commands/watch.js';

const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('vigil')
  .description('Runs Kratix HealthDefinitions on their schedules and writes HealthRecords to a state store.')
  .version(version)
  .showHelpAfterError();

registerAgent(program);
registerK8sAdapter(program);
registerPlugins(program);
registerRun(program);
registerTrigger(program);
registerValidate(program);
registerImportKhcheck(program);
registerWatch(program);

await program.parseAsync(process.argv);
