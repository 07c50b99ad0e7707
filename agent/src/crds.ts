/**
 * Loads vigil's CRDs from agent/manifests/crds, the single source of truth for both
 * the cluster API and local validation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlDocument } from './core/yaml.js';
import type { StructuralSchema } from './core/schema.js';
import { DefinitionValidator } from './core/definition.js';
import { SchemaValidator } from './core/schema.js';
import { crdDirectory } from './paths.js';

interface Crd {
  spec: { versions: { name: string; schema: { openAPIV3Schema: StructuralSchema } }[] };
}

const cache = new Map<string, StructuralSchema>();

/** The openAPIV3Schema of version `version` of the CRD in `file` (under agent/manifests/crds). */
export function loadCrdSchema(file: string, version = 'v1alpha1', dir = crdDirectory()): StructuralSchema {
  const path = join(dir, file);
  const cached = cache.get(`${path}#${version}`);
  if (cached) return cached;
  const crd = parseYamlDocument(readFileSync(path, 'utf8')) as Crd;
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${path}: no version ${version}`);
  cache.set(`${path}#${version}`, v.schema.openAPIV3Schema);
  return v.schema.openAPIV3Schema;
}

export const HEALTH_DEFINITION_CRD = 'platform.kratix.io_healthdefinitions.yaml';
export const HEALTH_RECORD_CRD = 'platform.kratix.io_healthrecords.yaml';

let definitionValidator: DefinitionValidator | undefined;
let recordValidator: SchemaValidator | undefined;

export function getDefinitionValidator(): DefinitionValidator {
  definitionValidator ??= new DefinitionValidator(loadCrdSchema(HEALTH_DEFINITION_CRD));
  return definitionValidator;
}

export function getRecordValidator(): SchemaValidator {
  recordValidator ??= new SchemaValidator(loadCrdSchema(HEALTH_RECORD_CRD));
  return recordValidator;
}
