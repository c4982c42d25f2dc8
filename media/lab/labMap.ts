import './labMap.css';
import {
  LAB_PROJECTION_METHODS,
  type LabColouring,
  type LabMapResult,
  type LabNeighboursResult,
  type LabProjectionMethod,
} from '../../src/shared/lab/labMapResult';
import { rankChangeLabel } from '../../src/shared/lab/rankChanges';
import type { FromLabMap, ToLabMap } from '../../src/shared/protocol/labMapMessages';
import { h, replaceChildren } from '../common/dom';
import { chartTheme, onThemeChange } from '../common/theme';
import { MapCanvas, type MapMarks } from './mapCanvas';

/** The map's choices that survive a reload of the page: the projection, and what the points are coloured by. */
export interface LabMapChoice {
  readonly method: LabProjectionMethod;
  /** A colouring's name (a column, or a model's clusters); null until a map has been shown. */
  readonly colour: string | null;
}

/** A colouring's name is a column name or a fixed phrase: a longer one read back from the page's state is refused. */
const MAX_COLOURING_NAME = 200;

/** A choice read back from the page's state, checked as a message would be; undefined when it is not one. */
export function parseMapChoice(value: unknown): LabMapChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { method, colour } = value as Record<string, unknown>;
  if (!LAB_PROJECTION_METHODS.includes(method as LabProjectionMethod)) return undefined;
  if (colour !== null && (typeof colour !== 'string' || colour.length > MAX_COLOURING_NAME)) return undefined;
  return { method: method as LabProjectionMethod, colour };
}

/** What the map needs from the page: posting to the extension, and how many neighbours to list (search's k). */
export interface LabMapHost {
  post(message: FromLabMap): void;
  k(): number;
  /** The choice kept from before a reload, if any. */
  readonly choice?: LabMapChoice | undefined;
  /** Called when the projection or the colouring changes, to keep it across a reload. */
  onChoice?(choice: LabMapChoice): void;
}

export interface LabMapView {
  receive(message: ToLabMap): void;
}

/** Colours past the theme's chart colours, for colourings with more categories; the last is "other". */
const EXTRA_COLOURS = ['#17becf', '#e377c2', '#8c564b', '#bcbd22', '#7f7f7f', '#aec7e8', '#ff9896'];

/**
 * The Lab's map: the corpus in 2D under each model, side by side, coloured by a label-like column or by each model's
 * clusters. Hovering a point shows its text (and rings it in both maps); clicking one lists its neighbours under
 * both models. Texts go into the DOM as text only; the points are drawn on canvases.
 */
export function mountLabMap(parent: HTMLElement, host: LabMapHost): LabMapView {
  let result: LabMapResult | null = null;
  let neighbours: LabNeighboursResult | null = null;
  let marks: MapMarks = { hovered: null, selected: null, neighbours: [] };
  /** The colouring picked last, kept across a reload and picked again when a map that has it arrives. */
  let chosenColour = host.choice?.colour ?? null;

  const method = h(
    'select',
    { id: 'map-method', 'aria-label': 'Projection' },
    h('option', { value: 'pca' }, 'PCA'),
    h('option', { value: 'umap' }, 'UMAP'),
  );
  const colour = h('select', { id: 'map-colour', 'aria-label': 'Colour by' });
  const drawButton = h('button', { id: 'map-draw', type: 'button', onClick: () => requestMap() }, 'Show the map');
  const status = h('span', { id: 'map-status', class: 'map-status' });
  const panes = [new MapCanvas('map-first'), new MapCanvas('map-second')] as const;
  const captions = [h('figcaption', {}), h('figcaption', {})];
  const legend = h('div', { id: 'map-legend', class: 'map-legend' });
  const tooltip = h('div', { id: 'map-tooltip', class: 'map-tooltip', role: 'tooltip' });
  tooltip.hidden = true;
  const neighboursView = h('div', { id: 'map-neighbours', class: 'map-neighbours' });
  const section = h(
    'section',
    { class: 'map', id: 'map' },
    h('h2', {}, 'Map'),
    h('div', { class: 'map-controls' }, drawButton, h('label', {}, 'Projection ', method), h('label', {}, 'Colour by ', colour), status),
    h('div', { class: 'map-panes' }, ...panes.map((pane, m) => h('figure', { class: 'map-pane' }, captions[m]!, pane.element))),
    legend,
    tooltip,
    neighboursView,
  );
  parent.append(section);
  if (host.choice) method.value = host.choice.method;

  const keepChoice = () => host.onChoice?.({ method: method.value as LabProjectionMethod, colour: chosenColour });
  method.addEventListener('change', () => {
    keepChoice();
    if (result) requestMap();
  });
  colour.addEventListener('change', () => {
    chosenColour = colour.value;
    keepChoice();
    draw();
  });
  panes.forEach((pane, m) => {
    // A drag pans the zoomed map; only a click that did not drag selects a point.
    let drag: { x: number; y: number; moved: boolean } | null = null;
    pane.element.addEventListener('mousedown', (event) => (drag = { x: event.clientX, y: event.clientY, moved: false }));
    pane.element.addEventListener('mousemove', (event) => {
      if (drag && event.buttons === 1) {
        drag.moved ||= Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) > 3;
        pane.pan(event.movementX, event.movementY);
        markAll();
      }
      hover(m, event);
    });
    pane.element.addEventListener('mouseleave', () => hover(m, null));
    pane.element.addEventListener('click', (event) => {
      if (!drag?.moved) select(m, event);
      drag = null;
    });
    // The wheel zooms around the pointer; a double click shows the whole map again.
    pane.element.addEventListener(
      'wheel',
      (event) => {
        if (!result) return;
        event.preventDefault();
        const box = pane.element.getBoundingClientRect();
        pane.zoom(Math.exp(-event.deltaY / 400), event.clientX - box.left, event.clientY - box.top);
        markAll();
      },
      { passive: false },
    );
    pane.element.addEventListener('dblclick', () => {
      pane.zoom(0, 0, 0);
      markAll();
    });
  });
  onThemeChange(() => draw());

  function requestMap(): void {
    host.post({ command: 'map', method: method.value as LabProjectionMethod });
  }

  function shownMap(): string {
    return result ? `${result.texts.length} entries, ${result.method === 'pca' ? 'PCA' : `UMAP (seed ${result.seed})`}` : '';
  }

  function colouring(): LabColouring | undefined {
    return result?.colourings.find((c) => c.name === colour.value) ?? result?.colourings[0];
  }

  function palette(count: number): string[] {
    const theme = chartTheme();
    const colours = [...theme.series.slice(0, 6), ...EXTRA_COLOURS];
    return Array.from({ length: count }, (_, i) => colours[i % colours.length]!);
  }

  function draw(): void {
    if (!result) return;
    const chosen = colouring();
    const codes = chosen?.codes ?? result.texts.map(() => 0);
    const colours = palette(chosen?.categories.length ?? 1);
    result.models.forEach((model, m) => panes[m]!.draw(model, codes, colours));
    replaceChildren(
      legend,
      ...(chosen?.categories ?? []).map((category, c) => h('span', { class: 'map-legend-item' }, swatch(colours[c]!), category)),
    );
    markAll();
  }

  function markAll(): void {
    const foreground = chartTheme().foreground;
    panes.forEach((pane) => pane.mark(marks, foreground));
  }

  function hover(m: number, event: MouseEvent | null): void {
    if (!result) return;
    const index = event ? pointAt(m, event) : null;
    if (index === marks.hovered) return;
    marks = { ...marks, hovered: index };
    markAll();
    if (index === null || !event) {
      tooltip.hidden = true;
      return;
    }
    const chosen = colouring();
    replaceChildren(
      tooltip,
      h('div', { class: 'map-tooltip-text' }, result.texts[index]!),
      chosen ? h('div', { class: 'map-tooltip-category' }, `${chosen.name}: ${chosen.categories[chosen.codes[index]!] ?? ''}`) : null,
    );
    const box = section.getBoundingClientRect();
    tooltip.hidden = false;
    // Beside the pointer, on whichever side leaves the tooltip its full width.
    const left = event.clientX - box.left + 12;
    const fits = left + tooltip.offsetWidth <= box.width;
    tooltip.style.left = `${fits ? left : Math.max(0, left - 24 - tooltip.offsetWidth)}px`;
    tooltip.style.top = `${event.clientY - box.top + 12}px`;
  }

  function select(m: number, event: MouseEvent): void {
    if (!result) return;
    const index = pointAt(m, event);
    if (index === null) return;
    marks = { ...marks, selected: index, neighbours: [] };
    neighbours = null;
    markAll();
    replaceChildren(neighboursView, h('p', { class: 'map-status' }, `Finding the neighbours of “${result.texts[index]}”…`));
    host.post({ command: 'neighbours', index, k: host.k() });
  }

  function pointAt(m: number, event: MouseEvent): number | null {
    const box = panes[m]!.element.getBoundingClientRect();
    return panes[m]!.pick(event.clientX - box.left, event.clientY - box.top);
  }

  function showNeighbours(): void {
    if (!neighbours || !result) return;
    const [first, second] = result.models;
    const list = (rows: HTMLElement[]) => h('ol', { class: 'hits' }, ...rows);
    replaceChildren(
      neighboursView,
      h('h3', {}, 'Neighbours of ', h('q', { class: 'map-selected-text' }, neighbours.text)),
      h(
        'div',
        { class: 'columns' },
        h(
          'section',
          { class: 'column', id: 'neighbours-first' },
          h('h4', { title: first.model }, first.model),
          list(neighbours.first.map((hit, i) => neighbourRow(String(i + 1), hit.score, null, hit.text))),
        ),
        h(
          'section',
          { class: 'column', id: 'neighbours-second' },
          h('h4', { title: second.model }, second.model),
          list(
            neighbours.second.map((hit) =>
              neighbourRow(hit.rank === null ? '–' : String(hit.rank), hit.score, rankChangeLabel(hit.change), hit.text, hit.change.kind),
            ),
          ),
        ),
      ),
    );
  }

  return {
    receive(message) {
      switch (message.command) {
        case 'map': {
          result = message.result;
          neighbours = null;
          marks = { hovered: null, selected: null, neighbours: [] };
          method.value = result.method;
          replaceChildren(colour, ...result.colourings.map((c) => h('option', { value: c.name }, c.name)));
          if (result.colourings.some((c) => c.name === chosenColour)) colour.value = chosenColour!;
          chosenColour = colour.value;
          keepChoice();
          result.models.forEach((model, m) => replaceChildren(captions[m]!, model.model));
          replaceChildren(neighboursView);
          replaceChildren(status, shownMap());
          draw();
          break;
        }
        case 'neighbours':
          if (message.result.index !== marks.selected) break;
          neighbours = message.result;
          marks = { ...marks, neighbours: [...new Set([...neighbours.first, ...neighbours.second].map((hit) => hit.index))] };
          markAll();
          showNeighbours();
          break;
        case 'mapBusy':
          drawButton.disabled = message.busy !== null;
          method.disabled = message.busy !== null;
          if (message.busy === 'pca' || message.busy === 'umap')
            replaceChildren(status, `Computing the ${message.busy.toUpperCase()} map…`);
          // A cancelled or failed map leaves the one shown before, and its projection in the select (the error, above,
          // says what happened).
          else if (message.busy === null) {
            replaceChildren(status, shownMap());
            if (result && method.value !== result.method) {
              method.value = result.method;
              keepChoice();
            }
          }
          break;
      }
    },
  };
}

function neighbourRow(rank: string, score: number, change: string | null, text: string, kind?: string): HTMLElement {
  return h(
    'li',
    { class: `hit${kind === 'dropped' ? ' dropped' : ''}` },
    h('span', { class: 'rank' }, rank),
    h('span', { class: 'score' }, score.toFixed(4)),
    change === null ? null : h('span', { class: `change change-${kind}` }, change),
    h('span', { class: 'text' }, text),
  );
}

/** A colour square set through the CSSOM: the CSP refuses style attributes, not style properties. */
function swatch(colour: string): HTMLElement {
  const element = h('span', { class: 'map-swatch' });
  element.style.background = colour;
  return element;
}
