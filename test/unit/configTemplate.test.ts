import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { parse } from 'yaml';
import { guessColumn, newConfigText, TASK_TEMPLATES, type TaskTemplateName } from '../../src/extension/monitoring/configTemplate';
import { runNewConfigWizard } from '../../src/extension/monitoring/newConfigWizard';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from './support/recordingEditorHost';

let workspace: TempWorkspace;
afterEach(() => workspace?.dispose());

function rows(task: TaskTemplateName, count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const row: Record<string, unknown> = { question: `question ${i} about topic ${i % 7}`, answer: `answer ${i} with words ${i * 3}` };
    if (task === 'similarity') row.similarity = (i % 10) / 10;
    if (task === 'triplets') row.hard_negative = `wrong answer ${i + 1}`;
    lines.push(JSON.stringify(row));
  }
  return `${lines.join('\n')}\n`;
}

describe('the New Config template', () => {
  for (const task of Object.keys(TASK_TEMPLATES) as TaskTemplateName[]) {
    it(`writes a ${task} config that the validator accepts without errors`, () => {
      workspace = new TempWorkspace();
      buildTinyBert(workspace.path('model'));
      workspace.write('data/train.jsonl', rows(task, 200));
      const columns = { anchor: 'question', positive: 'answer', score: 'similarity', negative: 'hard_negative' };
      const text = newConfigText({ name: 'my-run', task, model: './model', trainPath: 'data/train.jsonl', columns, rows: 200 });
      const configPath = workspace.write('my.embedtune.yaml', text);
      const errors = validateConfigText(text, { configPath }).diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(
        errors.map((d) => d.message),
        [],
      );
      const config = parse(text);
      assert.equal(config.loss.type, TASK_TEMPLATES[task].loss);
      assert.equal(config.strategy.type, 'lora', '200 rows is a small dataset');
      assert.ok(text.split('\n').filter((line) => line.trim().startsWith('#')).length >= 5, 'it is commented');
    });
  }

  it('trains every weight on a large dataset, and quotes values YAML would misread', () => {
    const text = newConfigText({
      name: 'yes',
      task: 'retrieval',
      model: 'org/model',
      trainPath: 'my data/train #1.jsonl',
      columns: { anchor: 'q', positive: 'p' },
      rows: 500_000,
    });
    const config = parse(text);
    assert.equal(config.name, 'yes');
    assert.equal(config.data.train, 'my data/train #1.jsonl');
    assert.equal(config.strategy.type, 'full');
    assert.equal(config.training.learning_rate, 2e-5);
  });

  it('guesses which column fills each role by its name', () => {
    assert.equal(guessColumn('anchor', ['id', 'Query', 'Passage']), 'Query');
    assert.equal(guessColumn('positive', ['id', 'Query', 'Passage']), 'Passage');
    assert.equal(guessColumn('negative', ['a', 'b']), undefined);
  });
});

describe('the New Config wizard', () => {
  it('asks task, model and data, asks for a column it cannot guess, and writes and opens the config', async () => {
    workspace = new TempWorkspace();
    buildTinyBert(workspace.path('tiny'));
    workspace.write('data/pairs.jsonl', `${JSON.stringify({ q: 'a question', text_b: 'an answer', label_x: 0.5 })}\n`.repeat(50));
    const host = new RecordingEditorHost();
    host.answers.push(
      'retrieval',
      'sentence-transformers/all-MiniLM-L6-v2',
      workspace.path('data/pairs.jsonl'),
      'q',
      'text_b',
      workspace.path('pairs'),
    );
    const written = await runNewConfigWizard(host, workspace.root);
    assert.equal(written, workspace.path('pairs.embedtune.yaml'));
    assert.deepEqual(host.opened, [written]);
    const config = parse(readFileSync(written!, 'utf8'));
    assert.deepEqual(config.data.columns, { anchor: 'q', positive: 'text_b' });
    assert.equal(config.data.train, 'data/pairs.jsonl');
    assert.equal(config.model.base, 'sentence-transformers/all-MiniLM-L6-v2');
  });

  it('stops without writing anything when a question is dismissed', async () => {
    workspace = new TempWorkspace();
    const host = new RecordingEditorHost();
    host.answers.push('similarity', undefined);
    assert.equal(await runNewConfigWizard(host, workspace.root), undefined);
    assert.deepEqual(host.opened, []);
  });
});
