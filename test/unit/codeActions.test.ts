import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextEdit } from 'vscode-languageserver';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { CodeActionService } from '../../src/server/service/codeActionService';
import { toLspDiagnostics } from '../../src/server/service/diagnosticConversion';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
workspace.write('data/pairs.jsonl', pairsJsonl(200));
workspace.write('data/holes.jsonl', `${pairsJsonl(40)}{"anchor":"x"}\n`);
const configPath = workspace.path('run.embedtune.yaml');
const service = new CodeActionService();

const BASE =
  '# my run\nmodel:\n  base: sentence-transformers/all-MiniLM-L6-v2 # the base\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n';

/** Configs that between them raise every diagnostic with a quick fix. */
const CONFIGS = [
  `${BASE}training:\n  lerning_rate: 0.001\n  epochs: 2\n`,
  `${BASE}loss:\n  type: mnlr\n`,
  `${BASE}training:\n  batch_size: 32\n  gradient_accumulation_steps: 4\n`,
  `${BASE}training:\n  batch_size: 8\n`,
  `${BASE}evaluation:\n  metrics:\n    - ndcg@10\n  primary: mrr@10\n`,
  `${BASE}early_stopping:\n  patience: 2\n`,
  `${BASE}evaluation:\n  every: 100\ncheckpoints:\n  every: 150\n`,
  'model:\n  base: x\ndata:\n  train: data/pairs.jsonl\n',
  'model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: full\n  lora:\n    r: 4\n',
  'model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: freeze\n',
  `${BASE}training:\n  mixed_precision: fp16\n`,
  'model:\n  base: x\ndata:\n  train: data/holes.jsonl\nstrategy:\n  type: lora\n',
  'task: classification\nmodel:\n  base: x\ndata:\n  train: data/pairs.jsonl\nloss:\n  type: mnrl\n',
  `${BASE}engine:\n  type: tfjs\n  mixed_precision: "no" # keep\ntraining:\n  epochs: 1\n`,
];

function apply(text: string, edits: TextEdit[], document: TextDocument): string {
  const sorted = [...edits].sort((a, b) => document.offsetAt(b.range.start) - document.offsetAt(a.range.start));
  return sorted.reduce(
    (acc, edit) => acc.slice(0, document.offsetAt(edit.range.start)) + edit.newText + acc.slice(document.offsetAt(edit.range.end)),
    text,
  );
}

describe('every quick fix', () => {
  for (const lineEnding of ['\n', '\r\n']) {
    it(`yields valid YAML, keeps comments, and removes the diagnostic it fixes (${JSON.stringify(lineEnding)} line endings)`, () => {
      let fixesTried = 0;
      for (const config of CONFIGS) {
        const text = config.replace(/\n/g, lineEnding);
        const document = TextDocument.create('file:///run.embedtune.yaml', 'embedtune', 1, text);
        const diagnostics = toLspDiagnostics(document, validateConfigText(text, { configPath }).diagnostics, 'yaml');
        for (const diagnostic of diagnostics) {
          for (const action of service.codeActions(document, [diagnostic], 'yaml')) {
            fixesTried++;
            const fixed = apply(text, action.edit!.changes![document.uri]!, document);
            const after = validateConfigText(fixed, { configPath }).diagnostics;
            const context = `"${action.title}" on:\n${text}\n→\n${fixed}`;
            assert.deepEqual(
              after.filter((d) => d.code === 'yaml-syntax'),
              [],
              context,
            );
            assert.ok(
              !after.some((d) => d.code === diagnostic.code && d.message === diagnostic.message),
              `the diagnostic is still there after ${context}`,
            );
            if (text.includes('# the base')) assert.ok(fixed.includes('# the base'), `a comment was lost by ${context}`);
            if (lineEnding === '\r\n') assert.ok(!/[^\r]\n/.test(fixed), `a bare \\n was written into a CRLF file by ${context}`);
          }
        }
      }
      assert.ok(fixesTried >= 20, `only ${fixesTried} fixes were tried`);
    });
  }

  it('is not offered for a block scalar, where replacing the value would swallow the line break', () => {
    const text = `${BASE}loss:\n  type: |\n    mnlr\ntraining:\n  epochs: 1\n`;
    const document = TextDocument.create('file:///run.embedtune.yaml', 'embedtune', 1, text);
    const diagnostics = toLspDiagnostics(document, validateConfigText(text, { configPath }).diagnostics, 'yaml');
    const invalid = diagnostics.filter((d) => d.code === 'invalid-value');
    assert.equal(invalid.length, 1);
    assert.deepEqual(service.codeActions(document, invalid, 'yaml'), []);
  });

  it('moves a key of another section there, with its value, and leaves no empty section behind', () => {
    const fixOf = (text: string) => {
      const document = TextDocument.create('file:///run.embedtune.yaml', 'embedtune', 1, text);
      const diagnostics = toLspDiagnostics(document, validateConfigText(text, { configPath }).diagnostics, 'yaml').filter(
        (d) => d.code === 'unknown-key',
      );
      assert.equal(diagnostics.length, 1, text);
      const actions = service.codeActions(document, diagnostics, 'yaml');
      assert.deepEqual(
        actions.map((action) => [action.title, action.isPreferred]),
        [['Move to training.mixed_precision', true]],
      );
      return apply(text, actions[0]!.edit!.changes![document.uri]!, document);
    };
    assert.equal(
      fixOf(`${BASE}engine:\n  type: tfjs\n  mixed_precision: bf16\ntraining:\n  epochs: 1\n`),
      `${BASE}engine:\n  type: tfjs\ntraining:\n  epochs: 1\n  mixed_precision: bf16\n`,
    );
    assert.equal(fixOf(`${BASE}engine:\n  mixed_precision: bf16\n`), `${BASE}training:\n  mixed_precision: bf16\n`);
    // Quotes stay: a bare `no` is false to YAML 1.1 readers such as PyYAML.
    assert.equal(fixOf(`${BASE}engine:\n  mixed_precision: "no"\n`), `${BASE}training:\n  mixed_precision: "no"\n`);
  });

  it('offers no move when the section it belongs to sets the key already', () => {
    const text = `${BASE}engine:\n  mixed_precision: bf16\ntraining:\n  mixed_precision: "no"\n`;
    const document = TextDocument.create('file:///run.embedtune.yaml', 'embedtune', 1, text);
    const diagnostics = toLspDiagnostics(document, validateConfigText(text, { configPath }).diagnostics, 'yaml').filter(
      (d) => d.code === 'unknown-key',
    );
    assert.match(diagnostics[0]!.message, /training\.mixed_precision is set already/);
    assert.deepEqual(service.codeActions(document, diagnostics, 'yaml'), []);
  });
});
