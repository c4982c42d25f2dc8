import 'uplot/dist/uPlot.min.css';
import '../common/base.css';
import './dashboard.css';
import type { EvalEvent, RunEvent } from '../../src/shared/events/runEvents';
import { emaSmooth } from '../../src/shared/monitor/smoothing';
import { describeBaselineNotBeaten } from '../../src/shared/monitor/baselineWarning';
import {
  dataRowNoun,
  exampleUnit,
  formatCount,
  formatDuration,
  formatLoss,
  formatMetric,
  formatPercent,
  formatRate,
} from '../../src/shared/monitor/formatting';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import { RunSeries } from '../../src/shared/monitor/runSeries';
import type { ConfigDiffRow } from '../../src/shared/monitor/configDiff';
import { MAX_COMPARED_RUNS, parseToDashboard, type FromDashboard, type ToDashboard } from '../../src/shared/protocol/dashboardMessages';
import { lifecycleLabel, type RunListEntry } from '../../src/shared/protocol/runListEntry';
import { append, h, replaceChildren } from '../common/dom';
import { chartTheme, onThemeChange, withAlpha } from '../common/theme';
import { EvaluationSection, type EvaluationChoice } from './evaluationSection';
import { connect, onMessage } from '../common/vscodeApi';
import { LineChart, type ChartLine } from './lineChart';

/** What the dashboard keeps across a reload of the panel. */
interface DashboardState {
  key: string | null;
  compare: string[];
  smoothing: number;
  logScale: boolean;
  evaluation: EvaluationChoice;
}

/** One run's events, folded for the header and kept as series for the charts. */
class RunView {
  progress = new RunProgress();
  series = new RunSeries();
  /** The latest eval and the latest best one, whose confusion matrix and misclassified images can be shown. */
  latestEval: EvalEvent | null = null;
  bestEval: EvalEvent | null = null;
  constructor(public entry: RunListEntry) {}
  add(events: readonly RunEvent[]): void {
    this.progress.add(events);
    this.series.add(events);
    for (const event of events) {
      if (event.type !== 'eval') continue;
      this.latestEval = event;
      if (event.is_best) this.bestEval = event;
    }
  }
}

const channel = connect<FromDashboard, DashboardState>();
const saved = channel.getState();
const state: DashboardState = {
  key: saved?.key ?? null,
  compare: Array.isArray(saved?.compare) ? saved.compare.filter((k) => typeof k === 'string') : [],
  smoothing: typeof saved?.smoothing === 'number' ? saved.smoothing : 0.6,
  logScale: saved?.logScale === true,
  evaluation: saved?.evaluation === 'best' ? 'best' : 'latest',
};
const save = () => channel.setState(state);

let runs: RunListEntry[] = [];
let main: RunView | null = null;
let compared: RunView[] = [];
let diff: { labels: string[]; rows: ConfigDiffRow[] } = { labels: [], rows: [] };
let config: string | null = null;
let engineLog: string[] = [];
let failure: string | null = null;
let theme = chartTheme();
/** Confusion-matrix shading in the theme's first series colour; a new function when the theme changes. */
let shade = (fraction: number) => withAlpha(theme.series[0]!, fraction);

// ---- Layout: built once; render() fills it in. ----
const runSelect = h('select', { id: 'run-select', 'aria-label': 'Run', onchange: () => selectRun(runSelect.value) });
const lifecycleBadge = h('span', { class: 'badge', id: 'lifecycle' });
const stopButton = h('button', { id: 'stop', onclick: () => main && channel.post({ command: 'stop', key: main.entry.key }) }, 'Stop');
const checkpointsButton = h(
  'button',
  { class: 'secondary', onclick: () => main && channel.post({ command: 'showCheckpoints', key: main.entry.key }) },
  'Checkpoints',
);
const configButton = h(
  'button',
  { class: 'secondary', onclick: () => main && channel.post({ command: 'openConfig', key: main.entry.key }) },
  'Open Config',
);
const progressBar = h('div', { class: 'bar' });
const progressTrack = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' }, progressBar);
const progressText = h('div', { id: 'progress-text', class: 'progress-text' });
const failureBanner = h('div', { id: 'failure', class: 'error-banner', hidden: true });
const baselineBanner = h('div', { id: 'baseline-warning', class: 'warning-banner', role: 'status', hidden: true });
const summary = h('dl', { id: 'summary', class: 'summary' });
const smoothingInput = h('input', {
  type: 'range',
  id: 'smoothing',
  min: '0',
  max: '0.99',
  step: '0.01',
  value: String(state.smoothing),
  'aria-label': 'Smoothing',
});
const smoothingValue = h('span', { class: 'muted' });
const logInput = h('input', { type: 'checkbox', id: 'log-scale', 'aria-label': 'Log scale' });
logInput.checked = state.logScale;
const charts = h('div', { id: 'charts', class: 'charts' });
const evaluation = new EvaluationSection(state.evaluation, (choice) => {
  state.evaluation = choice;
  save();
  scheduleRender();
});
const compareList = h('div', { id: 'compare-list', class: 'compare-list' });
const diffHost = h('div', { id: 'config-diff' });
const configPre = h('pre', { id: 'config' });
const runLogHost = h('pre', { id: 'run-log', class: 'log' });
const engineLogPre = h('pre', { id: 'engine-log', class: 'log' });
const emptyState = h(
  'div',
  { id: 'empty', class: 'empty' },
  'No EmbedTune run yet. Start one with "EmbedTune: Start Training" on a *.embedtune.yaml file.',
);

smoothingInput.addEventListener('input', () => {
  state.smoothing = Number(smoothingInput.value);
  save();
  scheduleRender();
});
logInput.addEventListener('change', () => {
  state.logScale = logInput.checked;
  save();
  lossChart.setLogScale(state.logScale);
  scheduleRender();
});

const app = document.getElementById('app') ?? document.body;
const content = h(
  'div',
  { id: 'content', hidden: true },
  h('section', {}, progressTrack, progressText, failureBanner, baselineBanner),
  summary,
  h('h2', {}, 'Charts'),
  h(
    'div',
    { class: 'toolbar chart-controls' },
    h('label', { for: 'smoothing' }, 'Smoothing '),
    smoothingInput,
    smoothingValue,
    h('label', {}, logInput, ' Log scale (loss)'),
  ),
  charts,
  evaluation.element,
  h('h2', {}, 'Compare runs'),
  compareList,
  diffHost,
  h('details', {}, h('summary', {}, 'Resolved config'), configPre),
  h('h2', {}, 'Run log'),
  runLogHost,
  h('h2', {}, 'Engine output'),
  engineLogPre,
);
append(
  app,
  h(
    'header',
    { class: 'toolbar header' },
    h('h1', {}, 'EmbedTune'),
    runSelect,
    lifecycleBadge,
    stopButton,
    checkpointsButton,
    configButton,
  ),
  emptyState,
  content,
);

const lossChart = new LineChart({ title: 'Training loss', format: formatLoss, logScale: state.logScale }, theme);
const lrChart = new LineChart({ title: 'Learning rate', format: formatMetric, height: 160 }, theme);
const metricCharts = new Map<string, LineChart>();
append(charts, lossChart.element, lrChart.element);

onThemeChange(() => {
  theme = chartTheme();
  shade = (fraction: number) => withAlpha(theme.series[0]!, fraction);
  for (const chart of [lossChart, lrChart, ...metricCharts.values()]) chart.setTheme(theme);
  scheduleRender();
});

// ---- Messages ----
onMessage(parseToDashboard, (message: ToDashboard) => {
  switch (message.command) {
    case 'runs':
      runs = message.runs;
      if (main) main.entry = runs.find((run) => run.key === main!.entry.key) ?? main.entry;
      break;
    case 'show':
      main = new RunView(message.run);
      main.add(message.events);
      config = message.config;
      engineLog = message.engineLog.slice(-400);
      failure = null;
      state.key = message.run.key;
      save();
      break;
    case 'append': {
      const view = main?.entry.key === message.key ? main : compared.find((run) => run.entry.key === message.key);
      view?.add(message.events);
      break;
    }
    case 'engineLog':
      if (main?.entry.key === message.key) engineLog = [...engineLog, ...message.lines].slice(-400);
      break;
    case 'runState':
      if (main?.entry.key === message.run.key) {
        main.entry = message.run;
        failure = message.failure;
      }
      for (const run of compared) if (run.entry.key === message.run.key) run.entry = message.run;
      runs = runs.map((run) => (run.key === message.run.key ? message.run : run));
      break;
    case 'compare':
      compared = message.runs.map((run) => {
        const view = new RunView(run.run);
        view.add(run.events);
        return view;
      });
      diff = message.diff;
      state.compare = compared.map((run) => run.entry.key);
      save();
      break;
  }
  scheduleRender();
});

function selectRun(key: string): void {
  if (!key || key === main?.entry.key) return;
  state.key = key;
  state.compare = state.compare.filter((k) => k !== key);
  save();
  channel.post({ command: 'selectRun', key });
}

// ---- Rendering, at most once a frame however fast events arrive ----
let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render(): void {
  renderRunPicker();
  emptyState.hidden = main !== null;
  content.hidden = main === null;
  if (!main) return;
  const { entry, progress } = main;
  lifecycleBadge.textContent = lifecycleLabel(entry.lifecycle);
  lifecycleBadge.className = `badge ${entry.lifecycle}`;
  stopButton.hidden = !entry.live;
  stopButton.textContent = entry.lifecycle === 'stopping' ? 'Stop Now' : 'Stop';
  renderProgress(main);
  failureBanner.hidden = !(failure ?? progress.error);
  failureBanner.textContent = failure ?? (progress.error ? `Error: ${progress.error.message}` : '');
  baselineBanner.hidden = progress.baselineWarning === null;
  baselineBanner.textContent = progress.baselineWarning ? describeBaselineNotBeaten(progress.baselineWarning) : '';
  renderSummary(main);
  smoothingValue.textContent = state.smoothing.toFixed(2);
  renderCharts();
  evaluation.update(main.latestEval, main.bestEval, shade);
  renderCompare();
  configPre.textContent = config ?? 'This run has no config.resolved.yaml.';
  replaceChildren(
    runLogHost,
    ...progress.log
      .slice(-200)
      .map((line) => h('div', { class: `log-${line.level}` }, `${line.time.slice(11, 19)} ${line.level.padEnd(7)} ${line.message}`)),
  );
  if (progress.log.length === 0) runLogHost.textContent = 'No log messages.';
  engineLogPre.textContent =
    engineLog.length > 0 ? engineLog.join('\n') : 'The engine output of runs started or reattached in this window appears here.';
}

function renderRunPicker(): void {
  const options = runs.length > 0 ? runs : main ? [main.entry] : [];
  replaceChildren(
    runSelect,
    ...options.map((run) =>
      h('option', { value: run.key, selected: run.key === main?.entry.key }, `${run.runId} · ${lifecycleLabel(run.lifecycle)}`),
    ),
  );
}

function renderProgress(view: RunView): void {
  const { progress, entry } = view;
  const setup = progress.setup;
  const percent = Math.round(progress.fraction * 100);
  progressBar.style.width = `${percent}%`;
  progressTrack.setAttribute('aria-valuenow', String(percent));
  progressTrack.classList.toggle('done', !entry.live);
  const parts: string[] = [];
  if (setup) {
    parts.push(
      `step ${progress.step}/${setup.totalSteps}`,
      `epoch ${progress.currentEpoch}/${setup.epochs}`,
      formatPercent(progress.fraction),
    );
    if (entry.live) {
      const eta = progress.etaSeconds();
      parts.push(`ETA ${formatDuration(eta)}`);
    } else if (progress.finish) {
      parts.push(`took ${formatDuration(progress.finish.durationSeconds)}`);
    }
    if (progress.examplesPerSecond !== null) parts.push(`${formatRate(progress.examplesPerSecond)} ${exampleUnit(setup.task)}/s`);
    if (progress.loss !== null) parts.push(`loss ${formatLoss(progress.loss)}`);
  } else {
    parts.push(entry.live ? 'Loading the data and the model…' : 'The run wrote no run_started event.');
  }
  parts.push(lifecycleLabel(entry.lifecycle));
  progressText.textContent = parts.join(' · ');
}

function renderSummary(view: RunView): void {
  const { progress } = view;
  const setup = progress.setup;
  const rows: [string, string][] = [['Run', view.entry.runId]];
  if (setup) {
    rows.push(
      ['Backend', `${setup.backend} — ${setup.backendReason}`],
      ['Device', `${setup.device}${setup.threads !== null && !/thread/i.test(setup.device) ? ` (${setup.threads} threads)` : ''}`],
      [
        'Model',
        `${setup.model} · ${setup.strategy} · ${formatCount(setup.trainableParameters)} of ${formatCount(setup.totalParameters)} parameters trained`,
      ],
      [
        'Data',
        `${setup.dataset.train_rows} training, ${setup.dataset.validation_rows} validation ${dataRowNoun(setup.task)}${setup.dataset.skipped_rows ? `, ${setup.dataset.skipped_rows} skipped` : ''} · batch ${setup.effectiveBatchSize}`,
      ],
    );
    if (setup.resumedFrom) rows.push(['Resumed from', setup.resumedFrom]);
  }
  const best = progress.best;
  rows.push([
    'Best',
    best
      ? `${best.metric.name} ${formatMetric(best.metric.value)} at step ${best.step}${progress.bestCheckpoint ? ` (${progress.bestCheckpoint})` : ''}`
      : 'not evaluated yet',
  ]);
  if (progress.earlyStop)
    rows.push([
      'Early stop',
      `at step ${progress.earlyStop.step}: ${progress.earlyStop.metric} did not improve for ${progress.earlyStop.patience} evaluations`,
    ]);
  replaceChildren(summary, ...rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

function renderCharts(): void {
  if (!main) return;
  const all = [main, ...compared];
  const color = (i: number) => theme.series[i % theme.series.length]!;
  const name = (view: RunView) => (view === main ? 'this run' : view.entry.runId);
  const lossLines: ChartLine[] = [];
  all.forEach((view, i) => {
    const { steps, values } = view.series.loss;
    if (view === main && state.smoothing > 0)
      lossLines.push({ label: 'raw', steps, values, color: theme.faded(color(i)), width: 1, readout: true });
    const smoothed = state.smoothing > 0 ? emaSmooth(values, state.smoothing) : values;
    lossLines.push({
      label: state.smoothing > 0 ? `${name(view)} (EMA)` : name(view),
      steps,
      values: smoothed,
      color: color(i),
      width: 2,
      readout: true,
    });
  });
  lossChart.setLines(lossLines);
  lrChart.setLines(
    all.map((view, i) => ({
      label: name(view),
      steps: view.series.learningRate.steps,
      values: view.series.learningRate.values,
      color: color(i),
      width: 1.5,
      readout: true,
    })),
  );
  const metricNames = [...new Set(all.flatMap((view) => view.series.metricNames))];
  for (const [metric, chart] of metricCharts) {
    if (!metricNames.includes(metric)) {
      chart.destroy();
      chart.element.remove();
      metricCharts.delete(metric);
    }
  }
  for (const metric of metricNames) {
    let chart = metricCharts.get(metric);
    if (!chart) {
      chart = new LineChart({ title: `Validation ${metric}`, format: formatMetric, height: 180 }, theme);
      metricCharts.set(metric, chart);
      charts.appendChild(chart.element);
    }
    chart.setLines(
      all.flatMap((view, i) => {
        const series = view.series.metrics.get(metric);
        return series ? [{ label: name(view), steps: series.steps, values: series.values, color: color(i), width: 2, readout: true }] : [];
      }),
    );
  }
}

function renderCompare(): void {
  if (!main) return;
  const others = runs.filter((run) => run.key !== main!.entry.key);
  const chosen = new Set(compared.map((run) => run.entry.key));
  if (others.length === 0) {
    replaceChildren(compareList, h('div', { class: 'empty' }, 'No other runs in this workspace to compare with.'));
  } else {
    replaceChildren(
      compareList,
      ...others.map((run) => {
        const box = h('input', { type: 'checkbox', value: run.key, 'aria-label': `Compare with ${run.runId}` });
        box.checked = chosen.has(run.key);
        box.disabled = !box.checked && chosen.size >= MAX_COMPARED_RUNS;
        box.addEventListener('change', () => {
          const keys = [...compareList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')]
            .filter((input) => input.checked)
            .map((input) => input.value);
          state.compare = keys;
          save();
          channel.post({ command: 'compare', keys });
        });
        return h(
          'label',
          { class: 'compare-item' },
          box,
          ` ${run.runId} `,
          h(
            'span',
            { class: 'muted' },
            `${lifecycleLabel(run.lifecycle)}${run.startedAt ? ` · ${new Date(run.startedAt).toLocaleString()}` : ''}`,
          ),
        );
      }),
    );
  }
  if (compared.length === 0) {
    replaceChildren(
      diffHost,
      others.length > 0 ? h('p', { class: 'muted' }, 'Tick runs to overlay their curves and see how their configs differ.') : null,
    );
  } else if (diff.rows.length === 0) {
    replaceChildren(diffHost, h('p', { class: 'muted' }, 'The compared configs are identical.'));
  } else {
    replaceChildren(
      diffHost,
      h('h3', {}, 'Config differences'),
      h(
        'table',
        { class: 'diff' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Key'), ...diff.labels.map((label) => h('th', {}, label)))),
        h(
          'tbody',
          {},
          ...diff.rows.map((row) =>
            h('tr', {}, h('td', {}, h('code', {}, row.key)), ...row.values.map((value) => h('td', {}, value ?? '—'))),
          ),
        ),
      ),
    );
  }
}

// The ETA counts down between progress events.
setInterval(() => {
  if (main?.entry.live) renderProgress(main);
}, 1000);

render();
channel.post({ command: 'ready', key: state.key, compare: state.compare });
