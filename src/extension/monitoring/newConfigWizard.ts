import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative } from 'node:path';
import { DataFileProbe } from '../../shared/data/dataFileProbe';
import { resolveDataFormat } from '../../shared/data/dataFormat';
import type { EditorHost } from '../host/editorHost';
import { guessColumn, newConfigText, TASK_TEMPLATES, type DataRoleName, type TaskTemplateName } from './configTemplate';

const MODELS = [
  { label: 'sentence-transformers/all-MiniLM-L6-v2', description: '22M parameters, 384 dimensions: fast on a laptop' },
  { label: 'BAAI/bge-small-en-v1.5', description: '33M parameters, 384 dimensions: strong retrieval for its size' },
  { label: 'sentence-transformers/all-mpnet-base-v2', description: '110M parameters, 768 dimensions: better, slower' },
];
const LOCAL_MODEL = '$(folder) Local model folder…';

/**
 * "EmbedTune: New Config…": asks the task, the model and the training data, maps the data's columns to the roles
 * the loss needs, and writes a commented config next to the data. Returns the new file, or undefined if cancelled.
 */
export async function runNewConfigWizard(host: EditorHost, workspaceFolder: string | undefined): Promise<string | undefined> {
  const task = await host.pick(
    (Object.keys(TASK_TEMPLATES) as TaskTemplateName[]).map((name) => ({
      label: TASK_TEMPLATES[name].label,
      detail: TASK_TEMPLATES[name].detail,
      value: name,
    })),
    { title: 'New EmbedTune config (1/3): what should the model learn?' },
  );
  if (!task) return undefined;

  let model = await host.pick(
    [
      ...MODELS.map((m) => ({ ...m, value: m.label })),
      { label: LOCAL_MODEL, description: 'a Hugging Face or sentence-transformers folder', value: LOCAL_MODEL },
    ],
    { title: 'New EmbedTune config (2/3): the model to start from' },
  );
  if (!model) return undefined;
  if (model === LOCAL_MODEL) {
    model = await host.pickFile({ title: 'The model folder (with config.json)', folders: true, defaultPath: workspaceFolder });
    if (!model) return undefined;
  }

  const train = await host.pickFile({
    title: 'New EmbedTune config (3/3): the training data',
    defaultPath: workspaceFolder,
    filters: { 'Data files': ['jsonl', 'ndjson', 'csv', 'tsv', 'tab'] },
  });
  if (!train) return undefined;

  const format = resolveDataFormat(train, 'auto');
  const summary = format ? new DataFileProbe().summarize(train, format) : undefined;
  const dataColumns = summary?.ok ? [...summary.columns] : [];
  const columns: Partial<Record<DataRoleName, string>> = {};
  for (const role of TASK_TEMPLATES[task].roles) {
    const guessed = guessColumn(role, dataColumns);
    if (guessed || dataColumns.length === 0) {
      columns[role] = guessed ?? role;
      continue;
    }
    const picked = await host.pick(
      dataColumns.map((column) => ({ label: column, value: column })),
      { title: `Which column of ${basename(train)} holds the ${role}?` },
    );
    if (!picked) return undefined;
    columns[role] = picked;
  }

  const stem = basename(train, extname(train)).replace(/[^\w.-]+/g, '-');
  const suggestedDir = basename(dirname(train)) === 'data' ? dirname(dirname(train)) : dirname(train);
  const target = await host.pickSaveLocation({
    title: 'Save the config as',
    defaultPath: join(suggestedDir, `${stem}.embedtune.yaml`),
    filters: { 'EmbedTune config': ['embedtune.yaml', 'yaml'] },
  });
  if (!target) return undefined;
  const configPath = /\.embedtune\.(ya?ml|json)$/i.test(target) ? target : `${target.replace(/\.ya?ml$/i, '')}.embedtune.yaml`;
  if (existsSync(configPath)) {
    const choice = await host.showMessage('warning', `${basename(configPath)} already exists. Replace it?`, { modal: true }, 'Replace');
    if (choice !== 'Replace') return undefined;
  }
  const relativeTo = (path: string) => {
    const rel = relative(dirname(configPath), path).split('\\').join('/');
    return rel.startsWith('..') && isAbsolute(path) && rel.split('/').filter((part) => part === '..').length > 2 ? path : rel;
  };
  const text = newConfigText({
    name: stem,
    task,
    model: model.includes('/') && !existsSync(model) ? model : relativeTo(model),
    trainPath: relativeTo(train),
    columns,
    rows: summary?.ok ? summary.rows : undefined,
  });
  writeFileSync(configPath, text);
  await host.openFile(configPath);
  return configPath;
}
