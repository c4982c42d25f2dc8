/**
 * The Embedding Lab's model chooser: the list it builds from the workspace runs' models, the hub id shape it accepts,
 * the local-cache check a typed id must pass (the trainer's own lookup), and the pick → folder or text box flow.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BROWSE_FOR_FOLDER,
  chooseLabModel,
  ENTER_HUB_ID,
  hubIdShapeProblem,
  labHubIdProblem,
  labModelChoices,
  type RunWithModels,
} from '../../src/extension/lab/labModelChooser';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from './support/recordingEditorHost';

describe('the Lab’s hub id shape', () => {
  it('accepts owner/name ids as the hub spells them', () => {
    for (const id of ['sentence-transformers/all-MiniLM-L6-v2', 'BAAI/bge-small-en-v1.5', 'intfloat/e5_base', 'a/b'])
      assert.equal(hubIdShapeProblem(id), undefined, id);
  });

  it('refuses options, paths, bare names, deeper paths and characters the hub does not allow, saying why', () => {
    const cases: [string, RegExp][] = [
      ['-org/model', /does not start with "-"/],
      ['--model=/etc', /does not start with "-"/],
      ['../models/tiny', /not a hub id but a path/],
      ['/home/me/model', /not a hub id but a path/],
      ['~/model', /not a hub id but a path/],
      ['org\\model', /not a hub id but a path/],
      ['all-MiniLM-L6-v2', /exactly one "\/".*has 0/],
      ['org/models/tiny', /exactly one "\/".*has 2/],
      ['org/', /owner and name are letters/],
      ['org/..', /owner and name are letters/],
      ['org/-x', /owner and name are letters/],
      ['org/a--b', /no "--"/],
      ['org/na me', /owner and name are letters/],
      ['org/name\0', /owner and name are letters/],
      [`org/${'n'.repeat(97)}`, /owner and name are letters/],
    ];
    for (const [text, message] of cases) assert.match(hubIdShapeProblem(text) ?? 'accepted', message, text);
  });
});

describe('a hub id typed into the Lab', () => {
  const workspace = new TempWorkspace();
  const cache = workspace.path('hf-cache');
  const env = { HOME: workspace.path('home'), HF_HUB_CACHE: cache };

  before(() => {
    buildTinyBert(join(cache, 'models--org--tiny', 'snapshots', 'abc123'));
    // Only config.json fetched: the trainer passes such a snapshot over, so the Lab must too.
    const partial = join(cache, 'models--org--partial', 'snapshots', 'def456');
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'config.json'), '{"model_type": "bert"}');
    buildTinyBert(workspace.path('hf-home/hub/models--org--at-home/snapshots/1'));
  });
  after(() => workspace.dispose());

  it('is accepted when a complete snapshot is in the Hugging Face cache', () => {
    assert.equal(labHubIdProblem('org/tiny', env), undefined);
    // HF_HOME/hub, as huggingface_hub and the trainer read it.
    assert.equal(labHubIdProblem('org/at-home', { HOME: workspace.path('home'), HF_HOME: workspace.path('hf-home') }), undefined);
  });

  it('is refused, naming the cache and how to get the model, when it is not there or only in part', () => {
    for (const id of ['org/missing', 'org/partial']) {
      const problem = labHubIdProblem(id, env);
      assert.equal(
        problem,
        `${id} is not in the local Hugging Face cache (${cache}), or only in part. Download it first (huggingface-cli download ${id}), or pick its folder with "Browse for a folder…".`,
      );
    }
    assert.match(
      labHubIdProblem('org/tiny', { HOME: workspace.path('home'), HF_HUB_CACHE: workspace.path('elsewhere') }) ?? '',
      /not in the local/,
    );
  });

  it('is refused by its shape before any cache is read', () => {
    assert.match(labHubIdProblem('tiny', env) ?? '', /exactly one "\/"/);
    assert.match(labHubIdProblem('-org/tiny', env) ?? '', /does not start with "-"/);
  });

  it('is asked for in a text box after "Enter a hub id…", which keeps refusing until a cached id is typed', async () => {
    const host = new RecordingEditorHost();
    host.answers.push(ENTER_HUB_ID, ['org/tiny/extra', 'org/missing', '  org/tiny ']);
    assert.equal(await chooseLabModel(host, [], 'first', env), 'org/tiny');
    assert.deepEqual(
      host.typed.map((typed) => typed.text),
      ['org/tiny/extra', 'org/missing', 'org/tiny'],
    );
    assert.match(host.typed[0]!.refused ?? '', /^A hub id is owner\/name with exactly one "\/"/);
    assert.match(host.typed[1]!.refused ?? '', /^org\/missing is not in the local Hugging Face cache/);
    assert.equal(host.typed[2]!.refused, undefined);
    assert.equal(host.typed[0]!.title, 'Embedding Lab: the first model (e.g. the base model)');
  });
});

describe('the Lab’s model chooser', () => {
  const workspace = new TempWorkspace();
  let runs: RunWithModels[];

  before(() => {
    mkdirSync(workspace.path('base'), { recursive: true });
    runs = [
      {
        runId: 'r2',
        models: {
          base: workspace.path('base'),
          exported: workspace.path('runs/r2/model'),
          best: workspace.path('runs/r2/checkpoints/step-8'),
        },
      },
      { runId: 'r1', models: { base: workspace.path('base'), exported: undefined, best: workspace.path('runs/r1/checkpoints/step-4') } },
      // A hub id base, and a run whose relative base folder is gone (left as written): only the first is listed.
      { runId: 'r0', models: { base: 'sentence-transformers/all-MiniLM-L6-v2', exported: undefined, best: undefined } },
      { runId: 'old', models: { base: './gone', exported: undefined, best: undefined } },
      { runId: 'moved', models: { base: workspace.path('moved-away'), exported: undefined, best: undefined } },
    ];
  });
  after(() => workspace.dispose());

  it('lists the base models first for the first model, each once with the runs that share it, then the trained ones', () => {
    const items = labModelChoices(runs, 'first');
    assert.deepEqual(
      items.map((item) => [item.label, item.description, item.value]),
      [
        ['Base model: base', 'of r2, r1', workspace.path('base')],
        ['Base model: sentence-transformers/all-MiniLM-L6-v2', 'of r0', 'sentence-transformers/all-MiniLM-L6-v2'],
        ['r2: exported model', 'model/', workspace.path('runs/r2/model')],
        ['r2: best checkpoint', 'step-8', workspace.path('runs/r2/checkpoints/step-8')],
        ['r1: best checkpoint', 'step-4', workspace.path('runs/r1/checkpoints/step-4')],
        ['Browse for a folder…', 'a checkpoint, an exported model or any model folder', BROWSE_FOR_FOLDER],
        ['Enter a hub id…', 'a model in the local Hugging Face cache', ENTER_HUB_ID],
      ],
    );
    assert.equal(items[1]!.detail, 'hub id');
    assert.equal(items[2]!.detail, workspace.path('runs/r2/model'));
  });

  it('lists the trained models first for the second model, and a model once when a run’s export is another’s base', () => {
    const chained: RunWithModels[] = [
      ...runs,
      { runId: 'r3', models: { base: workspace.path('runs/r2/model'), exported: undefined, best: undefined } },
    ];
    assert.deepEqual(
      labModelChoices(chained, 'second').map((item) => item.label),
      [
        'r2: exported model',
        'r2: best checkpoint',
        'r1: best checkpoint',
        'Base model: base',
        'Base model: sentence-transformers/all-MiniLM-L6-v2',
        'Browse for a folder…',
        'Enter a hub id…',
      ],
    );
  });

  it('offers only the folder dialog and the hub id box when the workspace has no runs', () => {
    assert.deepEqual(
      labModelChoices([], 'first').map((item) => item.value),
      [BROWSE_FOR_FOLDER, ENTER_HUB_ID],
    );
  });

  it('gives the picked model, the browsed folder, or nothing when the list, the dialog or the text box is dismissed', async () => {
    const env = { HOME: workspace.path('home'), HF_HUB_CACHE: workspace.path('empty-cache') };
    const host = new RecordingEditorHost();
    host.answers.push((items: readonly { value: unknown }[]) => items[2]!.value);
    assert.equal(await chooseLabModel(host, runs, 'first', env), workspace.path('runs/r2/model'));
    host.answers.push(BROWSE_FOR_FOLDER, workspace.path('elsewhere/model'));
    assert.equal(await chooseLabModel(host, runs, 'second', env), workspace.path('elsewhere/model'));
    host.answers.push(undefined);
    assert.equal(await chooseLabModel(host, runs, 'first', env), undefined);
    host.answers.push(BROWSE_FOR_FOLDER, undefined);
    assert.equal(await chooseLabModel(host, runs, 'first', env), undefined);
    host.answers.push(ENTER_HUB_ID, undefined);
    assert.equal(await chooseLabModel(host, runs, 'first', env), undefined);
    host.answers.push(ENTER_HUB_ID, '');
    assert.equal(await chooseLabModel(host, runs, 'first', env), undefined, 'an empty box accepted is no model');
    assert.equal(host.answers.length, 0);
  });
});
