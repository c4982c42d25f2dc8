import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { PreprocessReport } from '../../src/shared/events/runEvents';
import { writeLaunchPlan, type LaunchPlan } from '../../src/trainer/engines/launchPlan';
import { openRunFolder, prepareRun } from '../../src/trainer/run/prepareRun';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

/**
 * The accelerate engine trains on the rows the CLI's loader prepared and reports the loader's preprocess summary in
 * its run_started (python/embedtune_accelerate/run_callback.py), so spelling correction reaches it through the plan.
 */
describe('spelling correction in the accelerate launch plan', () => {
  it('writes the corrected rows and the spelling counts that the Python run_started reports', async () => {
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    const rows = [
      { anchor: 'the enviroment of kubectl', positive: 'kubectl sets the enviroment' },
      { anchor: 'kubectl once more', positive: 'an answer that has occured' },
      ...Array.from({ length: 6 }, (_, i) => ({ anchor: `question number ${i}`, positive: `answer text ${i}` })),
    ];
    workspace.write('data/train.jsonl', `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    const configPath = workspace.write(
      'run.embedtune.yaml',
      'model: {base: ./tiny}\ndata: {train: data/train.jsonl, validation_split: 0.25}\nengine: {type: accelerate}\n' +
        'preprocess: {clean: {spelling: {enabled: true}}}\ntraining: {seed: 3}\n',
    );
    const prepared = await prepareRun({ configPath });
    const run = openRunFolder(prepared).directory;
    const model = { folder: workspace.path('tiny'), pooling: 'mean', normalize: false, max_seq_length: 32 };
    const plan = JSON.parse(
      readFileSync(writeLaunchPlan({ prepared, run, model, resumeFrom: undefined, eventsToStdout: false }), 'utf8'),
    ) as LaunchPlan;

    const written = [plan.data.train, plan.data.validation!].flatMap((file) =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { anchor: string; positive: string }),
    );
    const texts = written.flatMap((row) => [row.anchor, row.positive]).join(' ');
    assert.match(texts, /the environment of kubectl/);
    assert.match(texts, /kubectl sets the environment/);
    assert.match(texts, /has occurred/);
    assert.doesNotMatch(texts, /enviroment|occured/);
    const report = plan.data.preprocess as PreprocessReport;
    assert.deepEqual(report.spelling, {
      words_corrected: 3,
      distinct_words_corrected: 2,
      words_kept_as_vocabulary: 3,
      words_left_ambiguous: 0,
      vocabulary_words: 5, // kubectl, question, number, answer, text: 3 times or more
    });
    assert.deepEqual(report.clean.spelling, { enabled: true, min_frequency: 3, protect: [] });
  });
});
