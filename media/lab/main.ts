import '../common/base.css';
import './lab.css';
import type { LabComparedHit, LabHit, LabSearchResult } from '../../src/shared/lab/labSearchResult';
import { rankChangeLabel } from '../../src/shared/lab/rankChanges';
import { parseToLab, type FromLab, type LabSetup, type ToLab } from '../../src/shared/protocol/labMessages';
import { h, replaceChildren } from '../common/dom';
import { connect, onMessage } from '../common/vscodeApi';
import { mountLabTools } from './labTools';
import { isToLabTools } from '../../src/shared/protocol/labToolMessages';
import { isMapMessage } from '../../src/shared/protocol/labMapMessages';
import { mountLabMap, parseMapChoice, type LabMapChoice } from './labMap';
import type { LabWinsResult } from '../../src/shared/lab/labWinsResult';

/**
 * What survives a reload of the panel (hidden and shown again): the last query typed, how many results to show, the
 * last wins and losses (so that they come back without replaying the evaluation) and the map's projection and
 * colouring. What is read back is checked as a fresh message from the extension is.
 */
interface LabState {
  query: string;
  k: number;
  wins?: LabWinsResult;
  map?: LabMapChoice;
}

const channel = connect<FromLab, LabState>();
const saved: unknown = channel.getState();
const state = restoredState(saved);

function restoredState(value: unknown): LabState {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const k = record.k;
  const wins = parseToLab({ command: 'wins', result: record.wins });
  const map = parseMapChoice(record.map);
  return {
    query: typeof record.query === 'string' ? record.query : '',
    k: Number.isInteger(k) && (k as number) >= 1 && (k as number) <= 100 ? (k as number) : 10,
    ...(wins?.command === 'wins' ? { wins: wins.result } : {}),
    ...(map ? { map } : {}),
  };
}

let setup: LabSetup | null = null;
let result: LabSearchResult | null = null;
let busyQuery: string | null = null;
let error: string | null = null;

const app = document.getElementById('app')!;
const queryInput = h('input', { id: 'query', type: 'search', placeholder: 'Type a query and press Enter', 'aria-label': 'Query' });
queryInput.value = state.query;
const kInput = h('input', { id: 'top-k', type: 'number', min: 1, max: 100, 'aria-label': 'Results per model' });
kInput.value = String(state.k);
const searchButton = h('button', { id: 'search', type: 'submit' }, 'Search');
const form = h(
  'form',
  { class: 'search', onSubmit: (event: Event) => submit(event) },
  queryInput,
  h('label', {}, 'top ', kInput),
  searchButton,
);
const status = h('p', { id: 'status', class: 'status' });
const columns = h('div', { id: 'columns', class: 'columns' });
app.append(h('header', { class: 'header' }, h('h1', {}, 'Embedding Lab')), form, status, columns);
const tools = mountLabTools(app, {
  post: (message) => channel.post(message),
  k: () => state.k,
  // A win or loss opens in Search: its query is typed in and searched, and the page scrolls back to the results.
  search: (query) => {
    queryInput.value = query;
    form.requestSubmit();
    form.scrollIntoView();
  },
});
const map = mountLabMap(app, {
  post: (message) => channel.post(message),
  k: () => state.k,
  choice: state.map,
  onChoice: (choice) => {
    state.map = choice;
    channel.setState(state);
  },
});
if (state.wins) tools.receive({ command: 'wins', result: state.wins });

function submit(event: Event): void {
  event.preventDefault();
  const query = queryInput.value;
  const k = Number(kInput.value);
  if (query.trim() === '' || !Number.isInteger(k) || k < 1 || k > 100) return;
  state.query = query;
  state.k = k;
  channel.setState(state);
  channel.post({ command: 'search', query, k });
}

function render(): void {
  searchButton.disabled = setup === null || busyQuery !== null;
  replaceChildren(
    status,
    error ??
      (busyQuery !== null ? `Searching for “${busyQuery}”…` : setup ? `Corpus: ${setup.corpus}` : 'Waiting for the models and the corpus…'),
  );
  status.classList.toggle('error', error !== null);
  if (!result) {
    replaceChildren(columns, setup ? columnShell('first', setup.first, []) : null, setup ? columnShell('second', setup.second, []) : null);
    return;
  }
  const [first, second] = result.models;
  replaceChildren(
    columns,
    columnShell(
      'first',
      first.model,
      result.first.map((hit, i) => hitRow(hit, i + 1, null)),
    ),
    columnShell(
      'second',
      second.model,
      result.second.map((hit) => hitRow(hit, hit.rank, hit)),
    ),
  );
}

function columnShell(id: string, model: string, rows: HTMLElement[]): HTMLElement {
  return h(
    'section',
    { class: 'column', id: `column-${id}` },
    h('h2', { title: model }, model),
    rows.length ? h('ol', { class: 'hits' }, ...rows) : h('p', { class: 'empty' }, 'No results yet.'),
  );
}

function hitRow(hit: LabHit, rank: number | null, compared: LabComparedHit | null): HTMLElement {
  const change = compared ? h('span', { class: `change change-${compared.change.kind}` }, rankChangeLabel(compared.change)) : null;
  // A known positive of an evaluation query is marked in both columns, so its move is seen at a glance.
  const known = result?.knownPositives?.includes(hit.index) ?? false;
  return h(
    'li',
    {
      class: `hit${compared?.change.kind === 'dropped' ? ' dropped' : ''}${known ? ' known-positive' : ''}`,
      'data-index': hit.index,
      title: known ? 'A known positive of this evaluation query' : undefined,
    },
    h('span', { class: 'rank' }, rank === null ? '–' : String(rank)),
    h('span', { class: 'score' }, hit.score.toFixed(4)),
    change,
    h('span', { class: 'text' }, hit.text),
  );
}

onMessage(parseToLab, (message: ToLab) => {
  switch (message.command) {
    case 'setup':
      setup = message;
      error = null;
      break;
    case 'busy':
      busyQuery = message.query;
      if (message.query !== null) error = null;
      break;
    case 'results':
      result = message.result;
      error = null;
      break;
    case 'error':
      error = message.message;
      break;
    default:
      if (message.command === 'wins') {
        state.wins = message.result;
        channel.setState(state);
      }
      if (isToLabTools(message)) tools.receive(message);
      else if (isMapMessage(message)) map.receive(message);
  }
  render();
});

render();
channel.post({ command: 'ready' });
