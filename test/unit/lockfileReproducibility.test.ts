import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';

// `npm ci` re-resolves a dependency that names a dist-tag (`latest`, `next`) against the registry of the day, and
// refuses the lock file once the tag moves. A range is harmless: the locked version still satisfies it. So every tag
// in the lock tree must be pinned by `overrides`, or a fresh clone stops installing the day the tag's package releases.

interface LockedPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
type Overrides = Record<string, string | Record<string, string>>;

const root = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { overrides?: Overrides };
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };

/** A spec that is none of: a semver range, an alias, a URL, a git or GitHub shorthand, a path. What is left, npm reads as a tag. */
function isDistTag(spec: string): boolean {
  if (semver.validRange(spec) !== null) return false;
  if (/^(npm|file|link|git|git\+\w+|github|gitlab|bitbucket|gist|https?|workspace):/.test(spec)) return false;
  if (/^[./~]/.test(spec) || /^[\w.-]+\/[\w.-]+(#.*)?$/.test(spec)) return false;
  return true;
}

function packageNameOf(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** The override npm applies to `dependency` when `dependent` asks for it: a global one, or one nested under the dependent. */
function overrideFor(dependent: string, dependency: string, overrides: Overrides): string | undefined {
  const nested = overrides[dependent];
  if (typeof nested === 'object' && typeof nested[dependency] === 'string') return nested[dependency];
  const global = overrides[dependency];
  return typeof global === 'string' ? global : undefined;
}

function taggedDependencies(packages: Record<string, LockedPackage>) {
  const found: { lockPath: string; dependent: string; dependency: string; spec: string }[] = [];
  for (const [lockPath, locked] of Object.entries(packages)) {
    const dependent = lockPath === '' ? '(root)' : packageNameOf(lockPath);
    for (const specs of [locked.dependencies, locked.optionalDependencies, locked.peerDependencies]) {
      for (const [dependency, spec] of Object.entries(specs ?? {})) {
        if (isDistTag(spec)) found.push({ lockPath, dependent, dependency, spec });
      }
    }
  }
  return found;
}

describe('the lock file installs the same tree on any later day', () => {
  it('tells a dist-tag from the specs npm does not re-resolve', () => {
    for (const tag of ['latest', 'next', 'beta', 'canary', 'legacy-peer']) assert.ok(isDistTag(tag), tag);
    for (const spec of ['*', '', '^7.5.23', '>=1 <3', '1.x', '7.5.23', 'npm:tar@7.5.23', 'github:isaacs/node-tar', 'isaacs/node-tar#v7']) {
      assert.ok(!isDistTag(spec), spec);
    }
    for (const spec of ['file:../tar', './vendor/tar', 'https://example.invalid/tar.tgz', 'git+https://example.invalid/tar.git']) {
      assert.ok(!isDistTag(spec), spec);
    }
  });

  it('finds the dist-tags a lock tree declares, and the override that pins each', () => {
    const packages = {
      '': { dependencies: { a: '1.0.0' } },
      'node_modules/a': { version: '1.0.0', dependencies: { tar: 'latest', b: '*' } },
      'node_modules/a/node_modules/tar': { version: '7.5.23' },
    };
    assert.deepEqual(
      taggedDependencies(packages).map((t) => `${t.dependent} -> ${t.dependency}@${t.spec}`),
      ['a -> tar@latest'],
    );
    assert.equal(overrideFor('a', 'tar', { a: { tar: '7.5.23' } }), '7.5.23');
    assert.equal(overrideFor('a', 'tar', { tar: '7.5.23' }), '7.5.23');
    assert.equal(overrideFor('a', 'tar', { b: { tar: '7.5.23' } }), undefined);
  });

  it('pins every dist-tag in package-lock.json through overrides, to the version the lock holds', () => {
    const unpinned: string[] = [];
    for (const tagged of taggedDependencies(lock.packages)) {
      const pinned = overrideFor(tagged.dependent, tagged.dependency, manifest.overrides ?? {});
      const nestedPath = `${tagged.lockPath ? `${tagged.lockPath}/` : ''}node_modules/${tagged.dependency}`;
      const locked = lock.packages[nestedPath]?.version ?? lock.packages[`node_modules/${tagged.dependency}`]?.version;
      if (pinned === undefined || semver.valid(pinned) === null) {
        unpinned.push(`${tagged.dependent} asks for ${tagged.dependency}@${tagged.spec}, and overrides do not pin it to an exact version`);
      } else if (pinned !== locked) {
        unpinned.push(`overrides pin ${tagged.dependency} to ${pinned} for ${tagged.dependent}, but the lock holds ${locked}`);
      }
    }
    assert.deepEqual(unpinned, []);
  });
});
