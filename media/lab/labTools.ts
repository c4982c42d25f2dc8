import './labTools.css';
import type {
  LabClassificationWins,
  LabLabelChange,
  LabQueryMove,
  LabRetrievalWins,
  LabWinsResult,
} from '../../src/shared/lab/labWinsResult';
import type { MinedPair, MinedPreview } from '../../src/shared/lab/minedPreview';
import type { FromLabTools, ToLabTools } from '../../src/shared/protocol/labToolMessages';
import { h, replaceChildren } from '../common/dom';

/** What the tools need from the page: posting to the extension, the k typed for search, and running a search. */
export interface LabToolsHost {
  post(message: FromLabTools): void;
  k(): number;
  /** Shows `query` in Search and runs it. */
  search(query: string): void;
}

export interface LabToolsView {
  receive(message: ToLabTools): void;
}

/**
 * Wins and losses (the run's evaluation replayed under both models) and hard-negative mining with a preview, below
 * the search results. Every text from the data goes into the DOM as text.
 */
export function mountLabTools(parent: HTMLElement, host: LabToolsHost): LabToolsView {
  let busy: 'wins' | 'mine' | null = null;
  const winsButton = h(
    'button',
    { id: 'wins-run', type: 'button', onClick: () => host.post({ command: 'wins', k: host.k() }) },
    'Wins and losses',
  );
  const mineButton = h('button', { id: 'mine-run', type: 'button', onClick: () => host.post({ command: 'mine' }) }, 'Mine hard negatives');
  const winsView = h('div', { id: 'wins', class: 'tool-output' });
  const minedView = h('div', { id: 'mined', class: 'tool-output' });
  const progress = mountProgress(parent, host);
  parent.append(
    h(
      'section',
      { class: 'tools' },
      h('h2', {}, 'What changed on the run’s evaluation'),
      h('div', { class: 'tool-buttons' }, winsButton, mineButton),
      winsView,
      minedView,
    ),
  );

  const setBusy = (tool: typeof busy) => {
    busy = tool;
    winsButton.disabled = busy !== null;
    mineButton.disabled = busy !== null;
    winsButton.textContent = busy === 'wins' ? 'Comparing…' : 'Wins and losses';
    mineButton.textContent = busy === 'mine' ? 'Mining…' : 'Mine hard negatives';
  };

  return {
    receive(message) {
      switch (message.command) {
        case 'toolBusy':
          setBusy(message.tool);
          break;
        case 'progress':
          progress(message);
          break;
        case 'wins':
          replaceChildren(winsView, ...winsSections(message.result, host));
          break;
        case 'mined':
          replaceChildren(minedView, ...minedSections(message.preview, host));
          break;
        case 'minedWritten':
          replaceChildren(
            minedView,
            message.file === null ? null : h('p', { class: 'mined-written' }, `Wrote ${message.file}; data.train now points at it.`),
          );
          break;
      }
    },
  };
}

type ProgressMessage = Extract<ToLabTools, { command: 'progress' }>;

/**
 * Progress bars for the long tasks (a search's first encode, wins and losses, mining, the map's encoding and UMAP),
 * one per running task, above the results and kept in view while scrolling, with one Cancel that stops them all. The
 * bar is indeterminate until a line gives a count.
 */
function mountProgress(parent: HTMLElement, host: LabToolsHost): (message: ProgressMessage) => void {
  const tasks = new Map<string, ProgressMessage>();
  const rows = h('div', { class: 'progress-rows' });
  const cancel = h('button', { id: 'lab-cancel', type: 'button', onClick: () => host.post({ command: 'cancel' }) }, 'Cancel');
  const box = h('div', { id: 'lab-progress', class: 'lab-progress', hidden: true }, rows, cancel);
  parent.insertBefore(box, parent.querySelector('#columns'));
  return (message) => {
    if (message.message === null) tasks.delete(message.title);
    else tasks.set(message.title, message);
    box.hidden = tasks.size === 0;
    replaceChildren(
      rows,
      ...[...tasks.values()].map((task) => {
        const bar = h('progress', { max: 1, 'aria-label': task.title });
        if (task.fraction !== null) bar.value = task.fraction;
        return h(
          'div',
          { class: 'progress-row' },
          h('span', { class: 'progress-title' }, task.title.replace(/^EmbedTune: /, '')),
          bar,
          h('span', { class: 'progress-message' }, task.message),
        );
      }),
    );
  };
}

function winsSections(result: LabWinsResult, host: LabToolsHost): HTMLElement[] {
  const [first, second] = result.models;
  const header = h('p', { class: 'tool-summary' }, `${first.model} → ${second.model}`);
  return result.task === 'retrieval' ? [header, ...retrievalSections(result, host)] : [header, ...classificationSections(result)];
}

function retrievalSections(result: LabRetrievalWins, host: LabToolsHost): HTMLElement[] {
  return [
    h(
      'p',
      { class: 'tool-summary', id: 'wins-summary' },
      `${result.queries} validation queries over ${result.documents} documents: the positive rose for ${result.improved}, fell for ${result.worsened}, kept its rank for ${result.unchanged}.`,
    ),
    moveList('wins-list', 'Wins: the positive rose most', result.wins, host),
    moveList('losses-list', 'Losses: the positive fell most', result.losses, host),
    moveList('fellout-list', `Fell out of the top ${result.k}`, result.fellOut, host),
  ];
}

function moveList(id: string, title: string, moves: readonly LabQueryMove[], host: LabToolsHost): HTMLElement {
  return h(
    'section',
    { class: 'tool-list', id },
    h('h3', {}, title),
    moves.length === 0
      ? h('p', { class: 'empty' }, 'None.')
      : h(
          'ol',
          {},
          ...moves.map((move) =>
            h(
              'li',
              {},
              h(
                'button',
                { type: 'button', class: 'move', title: `Open “${move.query}” in Search`, onClick: () => host.search(move.query) },
                h('span', { class: 'ranks' }, `${move.firstRank} → ${move.secondRank}`),
                h('span', { class: 'query' }, move.query),
              ),
              h('span', { class: 'positive' }, move.positive),
            ),
          ),
        ),
  );
}

function classificationSections(result: LabClassificationWins): HTMLElement[] {
  return [
    h(
      'p',
      { class: 'tool-summary', id: 'wins-summary' },
      `${result.examples} validation examples: ${result.fixed.length} fixed, ${result.broken.length} broken, ${result.otherChanges.length} changed from one wrong label to another.`,
    ),
    changeList('fixed-list', 'Fixed: now predicted right', result.fixed),
    changeList('broken-list', 'Broken: now predicted wrong', result.broken),
    changeList('other-list', 'Other changes', result.otherChanges),
  ];
}

function changeList(id: string, title: string, changes: readonly LabLabelChange[]): HTMLElement {
  return h(
    'section',
    { class: 'tool-list', id },
    h('h3', {}, title),
    changes.length === 0
      ? h('p', { class: 'empty' }, 'None.')
      : h(
          'ol',
          {},
          ...changes.map((change) =>
            h(
              'li',
              {},
              h('span', { class: 'labels' }, `${change.first} → ${change.second}`),
              h('span', { class: 'gold' }, `gold: ${change.label}`),
              h('span', { class: 'text' }, change.pair === null ? change.text : `${change.text} ‖ ${change.pair}`),
            ),
          ),
        ),
  );
}

function minedSections(preview: MinedPreview, host: LabToolsHost): HTMLElement[] {
  return [
    h(
      'p',
      { class: 'tool-summary', id: 'mined-summary' },
      `${preview.rows} triplets for ${preview.pairs} pairs; the first ${preview.shown.length} below. Write puts them in ${preview.target} and points data.train at it.`,
    ),
    h(
      'div',
      { class: 'tool-buttons' },
      h(
        'button',
        { id: 'mined-write', type: 'button', onClick: () => host.post({ command: 'writeMined' }) },
        'Write and use in the config',
      ),
      h('button', { id: 'mined-discard', type: 'button', onClick: () => host.post({ command: 'discardMined' }) }, 'Discard'),
    ),
    h('ol', { class: 'mined-pairs' }, ...preview.shown.map(minedPair)),
  ];
}

function minedPair(pair: MinedPair): HTMLElement {
  return h(
    'li',
    { class: 'mined-pair' },
    h('div', { class: 'anchor' }, h('span', { class: 'role' }, 'anchor'), h('span', { class: 'text' }, pair.anchor)),
    h(
      'div',
      { class: 'positive' },
      h('span', { class: 'role' }, 'positive'),
      score(pair.positiveScore),
      h('span', { class: 'text' }, pair.positive),
    ),
    ...pair.negatives.map((negative) =>
      h(
        'div',
        { class: 'negative' },
        h('span', { class: 'role' }, 'negative'),
        score(negative.score),
        h('span', { class: 'text' }, negative.text),
      ),
    ),
  );
}

function score(value: number | null): HTMLElement {
  return h('span', { class: 'score' }, value === null ? '–' : value.toFixed(4));
}
