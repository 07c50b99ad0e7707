/** The reference CRDs (Kratix HealthRecord, SKE HealthDefinition/HealthState) as schemas, for compatibility tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseYamlDocuments } from '../../agent/src/core/yaml.js';
import type { StructuralSchema } from '../../agent/src/core/schema.js';

const dir = fileURLToPath(new URL('../fixtures/reference-crds/', import.meta.url));

interface Crd {
  spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: StructuralSchema } }[] };
}

export function referenceSchema(file: 'kratix-healthrecords.yaml' | 'ske-health-agent-crds.yaml', kind: string): StructuralSchema {
  const docs = parseYamlDocuments(readFileSync(dir + file, 'utf8')).map((d) => d.value as Crd);
  const crd = docs.find((d) => d.spec.names.kind === kind);
  if (!crd) throw new Error(`${file}: no CRD of kind ${kind}`);
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}
