/**
 * `vigil import-khcheck <files...>`: converts Kuberhealthy v2 KuberhealthyCheck and v3
 * HealthCheck manifests into HealthDefinitions (YAML on stdout or --output). Problems and
 * warnings go to stderr, each naming the object and the field. Exit 1 when any check could
 * not be converted (the others are still written) or no check was found.
 */
import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { getDefinitionValidator } from '../../crds.js';
import { parseYamlDocuments, toYaml, YamlError } from '../../core/yaml.js';
import { importKhChecks } from '../../khcheck/convert.js';

interface ImportFlags {
  output?: string;
  promise: string;
  namespace: string;
  quiet?: boolean;
}

export function registerImportKhcheck(program: Command): void {
  program
    .command('import-khcheck')
    .description('convert Kuberhealthy KuberhealthyCheck (v2) and HealthCheck (v3) manifests into HealthDefinitions')
    .argument('<files...>', 'YAML files with Kuberhealthy checks ("-" reads stdin)')
    .option('-o, --output <file>', 'write the definitions to this file instead of stdout')
    .option('--promise <name>', 'spec.promiseRef.name of the imported definitions', 'kuberhealthy')
    .option('-n, --namespace <ns>', 'namespace of checks that set none', 'default')
    .option('-q, --quiet', 'print errors only, not warnings')
    .addHelpText(
      'after',
      `
runInterval becomes a cron schedule only when cron fires exactly that far apart:
1m-30m dividing an hour, 1h-24h dividing a day, or 168h. Other intervals are refused,
naming the nearest ones that work. timeout becomes spec.timeoutSeconds; the pod's init
containers and containers become the workflow's containers, in that order.

Exit status: 0 when every check was converted, 1 when any was refused or none was found.`,
    )
    .action(async (files: string[], flags: ImportFlags) => {
      process.exitCode = await importFiles(files, flags);
    });
}

async function importFiles(files: string[], flags: ImportFlags): Promise<number> {
  const validator = getDefinitionValidator();
  const docs: { value: unknown; location: string }[] = [];
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${(err as Error).message}\n`);
      failed++;
      continue;
    }
    try {
      for (const d of parseYamlDocuments(text)) {
        const location = `${file}: document ${d.index + 1} (line ${d.line})`;
        if (d.error !== undefined) {
          process.stderr.write(`${location}: ${d.error}\n`);
          failed++;
        } else docs.push({ value: d.value, location });
      }
    } catch (err) {
      if (!(err instanceof YamlError)) throw err;
      process.stderr.write(`${file}: ${err.message}\n`);
      failed++;
    }
  }
  const result = importKhChecks(docs, { validator, promise: flags.promise, defaultNamespace: flags.namespace });
  for (const p of result.problems) for (const e of p.errors) process.stderr.write(`${p.object}: error: ${e}\n`);
  if (!flags.quiet) {
    for (const i of result.imported) for (const w of i.warnings) process.stderr.write(`${i.object}: warning: ${w}\n`);
    for (const s of result.skipped) process.stderr.write(`${s.location}: skipped (kind ${s.kind} is not a Kuberhealthy check)\n`);
  }
  const text = result.imported
    .map((i) => `# ${i.object}: imported from Kuberhealthy ${i.source}\n${toYaml(i.definition)}`)
    .join('---\n');
  if (flags.output !== undefined) await writeFile(flags.output, text);
  else process.stdout.write(text);
  const n = result.imported.length;
  process.stderr.write(`${n} check${n === 1 ? '' : 's'} imported, ${result.problems.length} refused\n`);
  return failed > 0 || result.problems.length > 0 || n === 0 ? 1 : 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
