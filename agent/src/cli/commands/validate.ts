/** `vigil validate <paths...>`: checks HealthDefinition manifests; exit 1 on any error. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { getDefinitionValidator } from '../../crds.js';
import { definitionsFromText } from '../../core/documents.js';
import { formatIssue } from '../../core/issues.js';
import { collectManifestFiles } from '../../sources/manifest-files.js';

interface ValidateFlags {
  quiet?: boolean;
  namespace: string;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate HealthDefinition manifests against the CRD schema, schedules and workflows')
    .argument('<paths...>', 'files or directories (searched recursively for *.yaml, *.yml)')
    .option('-q, --quiet', 'print errors only, not warnings')
    .option('-n, --namespace <ns>', 'namespace assumed for definitions that set none', 'default')
    .addHelpText('after', '\nExit status: 0 when every definition is valid (warnings allowed), 1 when any error was found.')
    .action(async (paths: string[], flags: ValidateFlags) => {
      process.exitCode = await validate(paths, flags);
    });
}

async function validate(paths: string[], flags: ValidateFlags): Promise<number> {
  const validator = getDefinitionValidator();
  const files = await collectManifestFiles(paths);
  let errors = 0;
  let valid = 0;
  for (const p of paths) {
    if (![...files.keys()].some((f) => f === p || f.startsWith(p))) {
      process.stderr.write(`${p}: no such file or no YAML files in it\n`);
      errors++;
    }
  }
  for (const file of files.keys()) {
    const where = relative(process.cwd(), file) || file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      process.stdout.write(`${where}: cannot read: ${(err as Error).message}\n`);
      errors++;
      continue;
    }
    const contents = definitionsFromText(text, { validator, defaultNamespace: flags.namespace });
    for (const p of contents.problems) {
      for (const i of p.issues) {
        if (i.severity === 'error') errors++;
        if (i.severity === 'error' || !flags.quiet) process.stdout.write(`${where}: ${formatIssue(p.object, i)}\n`);
      }
    }
    for (const a of contents.accepted) {
      valid++;
      if (!flags.quiet) for (const w of a.warnings) process.stdout.write(`${where}: ${formatIssue(a.key, w)}\n`);
    }
  }
  process.stdout.write(`${valid} valid definition${valid === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'} in ${files.size} file${files.size === 1 ? '' : 's'}\n`);
  return errors > 0 ? 1 : 0;
}
