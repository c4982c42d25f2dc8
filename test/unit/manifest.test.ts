import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DIAGNOSTIC_CODES } from '../../src/shared/config/diagnosticCodes';

const root = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe('the extension manifest', () => {
  it('gives configs a language of their own, so the YAML extension does not validate them a second time', () => {
    const language = manifest.contributes.languages.find((l: { id: string }) => l.id === 'embedtune');
    assert.ok(language);
    assert.deepEqual(language.extensions, ['.embedtune.yaml', '.embedtune.yml']);
    assert.ok(
      !JSON.stringify(manifest.contributes).includes('yamlValidation'),
      'no yamlValidation: Red Hat YAML would report our schema errors too',
    );
  });

  it('keeps YAML highlighting by including the YAML grammar', () => {
    const grammar = manifest.contributes.grammars.find((g: { language: string }) => g.language === 'embedtune');
    const tmLanguage = JSON.parse(read(grammar.path));
    assert.equal(tmLanguage.scopeName, grammar.scopeName);
    assert.deepEqual(tmLanguage.patterns, [{ include: 'source.yaml' }]);
  });

  it('validates the JSON form against the shipped schema', () => {
    const [validation] = manifest.contributes.jsonValidation;
    assert.deepEqual(validation.fileMatch, ['*.embedtune.json']);
    assert.ok(existsSync(resolve(root, validation.url)));
  });

  it('contributes every command with a category, and the extension registers each one', () => {
    const source =
      read('src/extension/configCommands.ts') +
      read('src/extension/monitoring/activateMonitoring.ts') +
      read('src/extension/accelerate/accelerateCommands.ts') +
      read('src/extension/backend/installNativeBackendCommand.ts') +
      read('src/shared/protocol/mineHardNegatives.ts') +
      read('src/extension/preview/previewDataCommand.ts');
    for (const command of manifest.contributes.commands) {
      assert.equal(command.category, 'EmbedTune', command.command);
      assert.ok(source.includes(`'${command.command}'`), `${command.command} is registered`);
    }
  });

  it('declares every setting the server reads', () => {
    const properties = Object.keys(manifest.contributes.configuration.properties);
    for (const key of ['embedtune.validation.debounceMs', 'embedtune.codeLens.dryRun', 'embedtune.trace.server'])
      assert.ok(properties.includes(key), key);
  });

  it('declares the native backend command and settings, and keeps the install path out of untrusted workspaces', () => {
    const command = manifest.contributes.commands.find((c: { command: string }) => c.command === 'embedtune.installNativeBackend');
    assert.equal(command?.title, 'Install Native Backend…');
    const properties = manifest.contributes.configuration.properties;
    for (const key of ['embedtune.nativeBackend.path', 'embedtune.nativeBackend.cacheDir']) {
      assert.equal(properties[key]?.scope, 'machine-overridable', key);
      assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), `${key} is restricted`);
    }
    assert.match(read('src/extension/backend/nativeBackendSettings.ts'), /'nativeBackend\.path'[\s\S]*'nativeBackend\.cacheDir'/);
  });

  it('ships only a whitelist, including the bundles the manifest points at', () => {
    const ignore = read('.vscodeignore').split('\n');
    assert.equal(
      ignore.find((line) => line && !line.startsWith('#')),
      '**',
      'the first rule ignores everything',
    );
    for (const path of ['dist/extension.js', 'dist/server.js', 'dist/cli.js']) assert.ok(ignore.includes(`!${path}`), path);
    assert.equal(manifest.main, './dist/extension.js');
    assert.equal(manifest.bin.embedtune, './dist/cli.js');
  });
});

describe('docs/diagnostics.md', () => {
  it('documents every diagnostic code, and no code that does not exist', () => {
    const documented = [...read('docs/diagnostics.md').matchAll(/^### `([a-z0-9-]+)`$/gm)].map((match) => match[1]);
    assert.deepEqual(documented.sort(), Object.keys(DIAGNOSTIC_CODES).sort());
  });
});
