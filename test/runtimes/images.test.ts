import { describe, expect, it } from 'vitest';
import { builtinImageMappings, ImageTable, imageRepository, validateImageMappings } from '../../agent/src/runtimes/images.js';
import { builtinCheckEntry } from '../../agent/src/paths.js';

describe('imageRepository', () => {
  it.each([
    ['busybox', 'busybox'],
    ['busybox:1.36', 'busybox'],
    ['ghcr.io/org/check:v1', 'ghcr.io/org/check'],
    ['localhost:5000/check', 'localhost:5000/check'],
    ['localhost:5000/check:v2', 'localhost:5000/check'],
    ['ghcr.io/org/check@sha256:abc', 'ghcr.io/org/check'],
    ['ghcr.io/org/check:v1@sha256:abc', 'ghcr.io/org/check'],
  ])('%s -> %s', (ref, repo) => {
    expect(imageRepository(ref)).toBe(repo);
  });
});

describe('ImageTable', () => {
  const byRepo = { image: 'ghcr.io/org/check', command: ['/bin/repo'] };
  const exact = { image: 'ghcr.io/org/check:v2', command: ['/bin/exact'] };

  it('matches the exact reference first, then any tag or digest of a repository entry', () => {
    const table = new ImageTable([byRepo, exact]);
    expect(table.lookup('ghcr.io/org/check:v2')).toBe(exact);
    expect(table.lookup('ghcr.io/org/check:v1')).toBe(byRepo);
    expect(table.lookup('ghcr.io/org/check@sha256:0123')).toBe(byRepo);
    expect(table.lookup('ghcr.io/org/check')).toBe(byRepo);
    expect(table.lookup('ghcr.io/org/other:v1')).toBeUndefined();
  });

  it('never matches a tagged entry against other tags', () => {
    const table = new ImageTable([exact]);
    expect(table.lookup('ghcr.io/org/check:v1')).toBeUndefined();
  });

  it('gives configured entries priority over the built-in ones', () => {
    const mine = { image: 'ghcr.io/vigil-health/check-http', command: ['/opt/my-http-check'] };
    expect(new ImageTable([mine], builtinImageMappings()).lookup('ghcr.io/vigil-health/check-http:v1')).toBe(mine);
    expect(new ImageTable([], builtinImageMappings()).lookup('ghcr.io/vigil-health/check-http:v1')?.command).toEqual([process.execPath, builtinCheckEntry('http')]);
  });
});

describe('validateImageMappings', () => {
  it('accepts well-formed entries and copies them', () => {
    const input = [{ image: 'a', command: ['/bin/a', '-x'], args: ['y'] }];
    const out = validateImageMappings(input);
    expect(out).toEqual(input);
    expect(out[0]!.command).not.toBe(input[0]!.command);
  });

  it.each<[unknown, string]>([
    ['nope', 'images[0]: must be a mapping with image and command'],
    [{ command: ['x'] }, 'images[0].image: must be a non-empty string'],
    [{ image: 'a' }, 'images[0].command: must be a non-empty list of strings (the executable first)'],
    [{ image: 'a', command: [''] }, 'images[0].command: must be a non-empty list of strings (the executable first)'],
    [{ image: 'a', command: ['x', 1] }, 'images[0].command: must be a non-empty list of strings (the executable first)'],
    [{ image: 'a', command: ['x'], args: 'y' }, 'images[0].args: must be a list of strings'],
  ])('rejects %j naming the field', (entry, message) => {
    expect(() => validateImageMappings([entry])).toThrow(message);
  });
});
