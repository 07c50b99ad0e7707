/**
 * Every Promise under promises/: the YAML parses, its API is a CRD whose schema compiles (Ajv, as
 * vigil validates CRD schemas), the shipped example request is valid under it, and every image it
 * names (and every check image its pipeline emits) is either built from a Dockerfile of this
 * repository or the marketplace RDS image the aws-rds Promise references.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SchemaValidator, type StructuralSchema } from '../../agent/src/core/schema.js';
import { builtinImageMappings, imageRepository } from '../../agent/src/runtimes/images.js';
import { distMissing, removeTempDir, repoRoot } from '../check-images/helpers.js';
import { exampleRequest, mainOf, PROMISES, runPipeline } from './helpers.js';

const MARKETPLACE_RDS_IMAGE = 'ghcr.io/syntasso/kratix-marketplace/aws-rds-pipelines';

/** Image repositories built by the Dockerfiles of this repository (their `docker build ... -t <image>:dev` line). */
function imagesBuiltHere(): Map<string, string> {
  const built = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry === 'Dockerfile') {
        const text = readFileSync(path, 'utf8');
        const tag = /docker build -f (\S+) -t (\S+):dev \./.exec(text);
        if (!tag) continue;
        expect(tag[1], `${path} names itself`).toBe(relative(repoRoot, path));
        built.set(tag[2]!, relative(repoRoot, path));
      }
    }
  };
  for (const top of ['check-images', 'promises', '.']) {
    if (top === '.') {
      if (statSync(join(repoRoot, 'Dockerfile'), { throwIfNoEntry: false })) {
        const tag = /-t (\S+):\S+ \./.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
        if (tag) built.set(tag[1]!, 'Dockerfile');
      }
    } else walk(join(repoRoot, top));
  }
  return built;
}

/** Every `image:` of the Pipelines in a Promise's workflows. */
function workflowImages(promise: Record<string, any>): string[] {
  const images: string[] = [];
  for (const scope of Object.values<Record<string, any[]>>(promise.spec.workflows ?? {})) {
    for (const pipelines of Object.values(scope)) {
      for (const pipeline of pipelines) {
        expect(pipeline).toMatchObject({ apiVersion: 'platform.kratix.io/v1alpha1', kind: 'Pipeline' });
        for (const c of pipeline.spec.containers as { image: string }[]) images.push(c.image);
      }
    }
  }
  return images;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeTempDir(d);
});

describe('Promise YAML files', () => {
  const built = imagesBuiltHere();

  it('the repository builds the pipeline and check images it references', () => {
    for (const image of ['ghcr.io/vigil-health/check-http', 'ghcr.io/vigil-health/check-rds', 'ghcr.io/vigil-health/check-vmi']) expect(built.has(image), image).toBe(true);
    for (const image of ['aws-rds-generate-health-check', 'web-app-pipeline', 'kubevirt-vm-pipeline']) expect(built.get(`ghcr.io/vigil-health/${image}`)).toMatch(/^promises\/[a-z-]+\/Dockerfile$/);
  });

  describe.each(PROMISES)('%s', (name) => {
    const text = readFileSync(join(repoRoot, 'promises', name, 'promise.yaml'), 'utf8');

    it('parses as one Promise whose API CRD schema compiles and accepts the example request', async () => {
      const docs = parseAllDocuments(text);
      expect(docs).toHaveLength(1);
      const doc = docs[0]!;
      if (Array.isArray(doc)) throw new Error('not one document');
      expect(doc.errors).toEqual([]);
      const promise = doc.toJS() as Record<string, any>;
      expect(promise).toMatchObject({ apiVersion: 'platform.kratix.io/v1alpha1', kind: 'Promise', metadata: { name } });
      const crd = promise.spec.api;
      expect(crd).toMatchObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', spec: { scope: 'Namespaced' } });
      expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.${crd.spec.group}`);
      const versions = crd.spec.versions as { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: StructuralSchema }; additionalPrinterColumns?: { jsonPath: string }[] }[];
      expect(versions.filter((v) => v.storage)).toHaveLength(1);
      for (const column of versions.flatMap((v) => v.additionalPrinterColumns ?? [])) expect(column.jsonPath).toMatch(/^\./);
      const validator = new SchemaValidator(versions[0]!.schema.openAPIV3Schema); // compiles with Ajv or throws

      const request = await exampleRequest(name);
      expect(request.apiVersion).toBe(`${crd.spec.group}/${versions[0]!.name}`);
      expect(request.kind).toBe(crd.spec.names.kind);
      // The API server keeps apiVersion and kind without the schema declaring them; anything else unknown would be pruned.
      const implicit = (i: { path: string }) => i.path !== 'apiVersion' && i.path !== 'kind';
      expect(validator.validate(request).filter(implicit)).toEqual([]);
      // The CRD refuses what the pipelines refuse.
      const bad = structuredClone(request);
      bad.spec.healthCheck = { schedule: 5 };
      expect(validator.validate(bad).map((i) => i.path)).toContain('spec.healthCheck.schedule');
    });

    it('names only images built here or the marketplace RDS image, and its pipeline emits vigil check images', async () => {
      const promise = parseAllDocuments(text)[0]!.toJS() as Record<string, any>;
      const images = workflowImages(promise);
      expect(images.length).toBeGreaterThan(0);
      for (const image of images) {
        const repo = imageRepository(image);
        expect(built.has(repo) || repo === MARKETPLACE_RDS_IMAGE, `${image} is neither built from this repository nor the marketplace image`).toBe(true);
      }
      if (name === 'aws-rds') expect(images.filter((i) => imageRepository(i) === MARKETPLACE_RDS_IMAGE)).toHaveLength(3);

      if (distMissing(mainOf(name))) return;
      const run = await runPipeline(name, await exampleRequest(name));
      dirs.push(run.dir);
      expect(run.code, run.stderr).toBe(0);
      const builtin = new Set(builtinImageMappings().map((m) => m.image));
      for (const c of run.outputs['health-definition.yaml']![0]!.spec.workflow.spec.containers as { image: string }[]) {
        expect(built.has(imageRepository(c.image)), c.image).toBe(true);
        // So `vigil run` maps it to the built-in check without a container engine.
        expect(builtin.has(imageRepository(c.image)), c.image).toBe(true);
      }
    });
  });
});
