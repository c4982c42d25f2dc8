import '../common/base.css';
import './checkpoints.css';
import { formatBytes, formatMetric } from '../../src/shared/monitor/formatting';
import {
  parseToCheckpoints,
  type CheckpointAction,
  type CheckpointRow,
  type FromCheckpoints,
  type ToCheckpoints,
} from '../../src/shared/protocol/checkpointsMessages';
import { lifecycleLabel, type RunListEntry } from '../../src/shared/protocol/runListEntry';
import { append, h, replaceChildren } from '../common/dom';
import { connect, onMessage } from '../common/vscodeApi';

interface CheckpointsState {
  key: string | null;
  sort: { column: string; descending: boolean };
}

interface Column {
  readonly id: string;
  readonly title: string;
  readonly value: (row: CheckpointRow) => number | string | null;
  readonly show: (row: CheckpointRow) => string | HTMLElement;
  readonly numeric: boolean;
}

const channel = connect<FromCheckpoints, CheckpointsState>();
const saved = channel.getState();
const state: CheckpointsState = {
  key: saved?.key ?? null,
  sort: saved?.sort && typeof saved.sort.column === 'string' ? saved.sort : { column: 'step', descending: false },
};
const save = () => channel.setState(state);

let runs: RunListEntry[] = [];
let run: RunListEntry | null = null;
let rows: CheckpointRow[] = [];
let primary: string | null = null;
let busy: { checkpoint: string; action: CheckpointAction } | null = null;

const runSelect = h('select', { id: 'run-select', 'aria-label': 'Run' });
runSelect.addEventListener('change', () => {
  if (!runSelect.value || runSelect.value === run?.key) return;
  state.key = runSelect.value;
  save();
  channel.post({ command: 'selectRun', key: runSelect.value });
});
const caption = h('p', { id: 'caption', class: 'muted' });
const tableHost = h('div', { id: 'table-host' });
const app = document.getElementById('app') ?? document.body;
append(app, h('header', { class: 'toolbar header' }, h('h1', {}, 'Checkpoints'), runSelect), caption, tableHost);

onMessage(parseToCheckpoints, (message: ToCheckpoints) => {
  switch (message.command) {
    case 'runs':
      runs = message.runs;
      break;
    case 'checkpoints':
      run = message.run;
      rows = message.rows;
      primary = message.primary;
      state.key = message.run.key;
      save();
      break;
    case 'busy':
      busy = message.checkpoint && message.action ? { checkpoint: message.checkpoint, action: message.action } : null;
      break;
  }
  render();
});

function columns(): Column[] {
  const metricNames = [...new Set(rows.flatMap((row) => Object.keys(row.metrics)))];
  if (primary && metricNames.includes(primary)) {
    metricNames.splice(metricNames.indexOf(primary), 1);
    metricNames.unshift(primary);
  }
  return [
    { id: 'step', title: 'Step', value: (r) => r.step, show: (r) => String(r.step), numeric: true },
    { id: 'epoch', title: 'Epoch', value: (r) => r.epoch, show: (r) => (r.epoch === null ? '—' : r.epoch.toFixed(2)), numeric: true },
    { id: 'time', title: 'Saved', value: (r) => r.time, show: savedAt, numeric: false },
    { id: 'size', title: 'Size', value: (r) => r.sizeBytes, show: (r) => formatBytes(r.sizeBytes), numeric: true },
    ...metricNames.map((name) => ({
      id: `metric:${name}`,
      title: name,
      value: (r: CheckpointRow) => r.metrics[name] ?? null,
      show: (r: CheckpointRow) => (name in r.metrics ? formatMetric(r.metrics[name]) : '—'),
      numeric: true,
    })),
    { id: 'reason', title: 'Saved because', value: (r) => r.reason, show: (r) => r.reason ?? '—', numeric: false },
  ];
}

function sorted(list: CheckpointRow[], column: Column | undefined): CheckpointRow[] {
  if (!column) return list;
  const direction = state.sort.descending ? -1 : 1;
  return [...list].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    // Missing values go last whichever way the column sorts.
    if (x === null || y === null) return x === y ? a.step - b.step : x === null ? 1 : -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return order * direction || a.step - b.step;
  });
}

function render(): void {
  const options = runs.length > 0 ? runs : run ? [run] : [];
  replaceChildren(
    runSelect,
    ...options.map((r) => h('option', { value: r.key, selected: r.key === run?.key }, `${r.runId} · ${lifecycleLabel(r.lifecycle)}`)),
  );
  if (!run) {
    caption.textContent = '';
    replaceChildren(tableHost, h('div', { class: 'empty' }, 'No EmbedTune run in this workspace yet.'));
    return;
  }
  const best = rows.find((row) => row.isBest);
  const bestMetric = best && primary && primary in best.metrics ? ` (${primary} ${formatMetric(best.metrics[primary])})` : '';
  caption.textContent = `${rows.length} checkpoint${rows.length === 1 ? '' : 's'} of ${run.runId} · ${lifecycleLabel(run.lifecycle)}${best ? ` · best: ${best.name}${bestMetric}` : ''}`;
  if (rows.length === 0) {
    replaceChildren(
      tableHost,
      h(
        'div',
        { class: 'empty' },
        run.live ? 'No checkpoint yet: the engine saves one at each checkpoints.every.' : 'This run has no checkpoints.',
      ),
    );
    return;
  }
  const cols = columns();
  const sortColumn = cols.find((c) => c.id === state.sort.column) ?? cols[0];
  const header = h(
    'tr',
    {},
    h('th', { 'aria-label': 'Best' }, ''),
    ...cols.map((column) => {
      const active = column.id === sortColumn?.id;
      const button = h(
        'button',
        { class: 'sort', 'data-column': column.id },
        column.title,
        active ? (state.sort.descending ? ' ▼' : ' ▲') : '',
      );
      button.addEventListener('click', () => {
        state.sort = { column: column.id, descending: active ? !state.sort.descending : column.numeric && column.id.startsWith('metric:') };
        save();
        render();
      });
      return h(
        'th',
        { 'aria-sort': active ? (state.sort.descending ? 'descending' : 'ascending') : 'none', class: column.numeric ? 'num' : '' },
        button,
      );
    }),
    h('th', {}, 'Evaluated on'),
    h('th', {}, 'Actions'),
  );
  const body = sorted(rows, sortColumn).map((row) => {
    const actions: [CheckpointAction, string, string][] = [
      ['evaluate', 'Evaluate', 'Run embedtune eval on a data file you pick'],
      ['resume', 'Resume', 'Resume training from this checkpoint'],
      ['export', 'Export', 'Write a sentence-transformers folder'],
      ['lab', 'Lab', 'Compare this checkpoint with the base model in the Embedding Lab'],
      ['reveal', 'Reveal', 'Reveal in the Explorer'],
      ['delete', 'Delete', row.isBest ? 'Delete (this is the best checkpoint: you will be asked twice)' : 'Delete this checkpoint'],
    ];
    const busyHere = busy?.checkpoint === row.name;
    return h(
      'tr',
      { class: row.isBest ? 'best' : '', 'data-checkpoint': row.name },
      h('td', { class: 'star' }, row.isBest ? h('span', { class: 'best-mark', title: 'Best checkpoint' }, '★ best') : ''),
      ...cols.map((column) => h('td', { class: column.numeric ? 'num' : '' }, column.show(row))),
      h('td', { class: 'evaluated' }, row.evaluation ? evaluationText(row) : h('span', { class: 'muted' }, '—')),
      h(
        'td',
        { class: 'actions' },
        busyHere ? h('span', { class: 'muted' }, `${busy!.action}…`) : '',
        ...actions.map(([action, label, title]) => {
          const button = h(
            'button',
            { class: action === 'delete' ? 'secondary danger' : 'secondary', title, 'data-action': action },
            label,
          );
          button.disabled = busy !== null || (action === 'resume' && run!.live);
          button.addEventListener('click', () => channel.post({ command: action, key: run!.key, checkpoint: row.name }));
          return button;
        }),
      ),
    );
  });
  replaceChildren(tableHost, h('table', { id: 'checkpoints' }, h('thead', {}, header), h('tbody', {}, ...body)));
}

/** The date and the time, each kept whole, so that a narrow column breaks between them and nowhere else. */
function savedAt(row: CheckpointRow): string | HTMLElement {
  if (!row.time) return '—';
  const time = new Date(row.time);
  return h(
    'span',
    {},
    h('span', { class: 'saved-part' }, `${time.toLocaleDateString()},`),
    ' ',
    h('span', { class: 'saved-part' }, time.toLocaleTimeString()),
  );
}

function evaluationText(row: CheckpointRow): string {
  const evaluation = row.evaluation!;
  const file = evaluation.data.split(/[\\/]/).pop() || evaluation.data;
  const metrics = Object.entries(evaluation.metrics)
    .map(([name, value]) => `${name} ${formatMetric(value)}`)
    .join(' · ');
  return `${file} (${evaluation.examples} examples): ${metrics}`;
}

render();
channel.post({ command: 'ready', key: state.key });
