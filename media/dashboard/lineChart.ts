import uPlot from 'uplot';
import { downsampleMinMax, type XY } from '../../src/shared/monitor/downsample';
import { formatMetric } from '../../src/shared/monitor/formatting';
import { nearestIndex } from '../../src/shared/monitor/runSeries';
import type { ChartTheme } from '../common/theme';
import { h, replaceChildren } from '../common/dom';

/** One line: its full data (kept for the hover read-out) and how to draw it. */
export interface ChartLine {
  readonly label: string;
  readonly steps: readonly number[];
  readonly values: readonly (number | null)[];
  readonly color: string;
  readonly width: number;
  /** Shown in the hover read-out. */
  readonly readout: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly format: (value: number | null) => string;
  readonly logScale?: boolean;
  readonly height?: number;
}

/**
 * A uPlot line chart over steps that stays smooth for any number of points: what it draws is the min/max of each
 * pixel-wide bucket of the visible range (recomputed on zoom and resize), while the hover read-out looks up the
 * nearest raw point. Drag to zoom, double-click to see everything again.
 */
export class LineChart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly readout: HTMLElement;
  private plot: uPlot | null = null;
  private lines: ChartLine[] = [];
  private zoom: [number, number] | null = null;
  private settingData = false;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private options: LineChartOptions,
    private theme: ChartTheme,
  ) {
    this.plotHost = h('div', { class: 'plot' });
    this.readout = h('div', { class: 'readout muted', 'aria-live': 'off' });
    this.element = h(
      'figure',
      { class: 'chart', 'data-chart': options.title },
      h('figcaption', {}, options.title),
      this.plotHost,
      this.readout,
    );
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plotHost);
  }

  setLines(lines: ChartLine[]): void {
    const rebuild =
      this.plot === null ||
      lines.length !== this.lines.length ||
      lines.some((line, i) => line.color !== this.lines[i]?.color || line.label !== this.lines[i]?.label);
    this.lines = lines;
    if (rebuild) this.build();
    else this.redraw();
    this.showLatest();
  }

  setLogScale(logScale: boolean): void {
    if (this.options.logScale === logScale) return;
    this.options = { ...this.options, logScale };
    this.build();
  }

  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    this.build();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private width(): number {
    return Math.max(200, Math.floor(this.plotHost.clientWidth || this.element.clientWidth || 600));
  }

  private build(): void {
    this.plot?.destroy();
    this.plot = null;
    replaceChildren(this.plotHost);
    if (this.lines.length === 0) return;
    const { foreground, grid } = this.theme;
    const axis: uPlot.Axis = {
      stroke: foreground,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: '11px sans-serif',
    };
    const opts: uPlot.Options = {
      width: this.width(),
      height: this.options.height ?? 220,
      legend: { show: false },
      scales: { x: { time: false }, y: this.options.logScale ? { distr: 3 } : {} },
      axes: [
        {
          ...axis,
          label: 'step',
          labelSize: 18,
          labelFont: '11px sans-serif',
          // Steps are whole numbers: a tick at 1.25 names no step, however few steps or narrow the zoom.
          incrs: WHOLE_STEP_INCREMENTS,
          values: (_u, ticks) => this.stepLabels(ticks),
        },
        { ...axis, size: 64, values: (_u, ticks) => ticks.map((tick) => formatMetric(tick)) },
      ],
      series: [
        {},
        ...this.lines.map((line) => ({
          label: line.label,
          stroke: line.color,
          width: line.width,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      cursor: {
        drag: { x: true, y: false, setScale: true },
        bind: {
          dblclick: () => () => {
            this.zoom = null;
            this.redraw(true);
            return null;
          },
        },
      },
      hooks: {
        setCursor: [(u) => this.showAt(u)],
        setScale: [
          (u, key) => {
            if (key !== 'x' || this.settingData) return;
            const min = u.scales.x!.min;
            const max = u.scales.x!.max;
            if (min === undefined || max === undefined || min === null || max === null) return;
            const full = this.fullRange();
            this.zoom = full && min <= full[0] && max >= full[1] ? null : [min, max];
            this.redraw();
          },
        ],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.plotHost);
  }

  /** The x axis labels; kept on the plot's element too, since uPlot draws them on its canvas where a test cannot read them. */
  private stepLabels(ticks: number[]): string[] {
    const labels = ticks.map((tick) => String(tick));
    this.plotHost.dataset.stepLabels = labels.join(' ');
    return labels;
  }

  private redraw(resetScale = false): void {
    if (!this.plot) return this.build();
    this.settingData = true;
    try {
      this.plot.setData(this.data(), resetScale || this.zoom === null);
    } finally {
      this.settingData = false;
    }
  }

  private resize(): void {
    if (!this.plot) return;
    const width = this.width();
    if (Math.abs(width - this.plot.width) < 2) return;
    this.plot.setSize({ width, height: this.options.height ?? 220 });
    this.redraw();
  }

  private fullRange(): [number, number] | null {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const line of this.lines) {
      if (line.steps.length === 0) continue;
      min = Math.min(min, line.steps[0]!);
      max = Math.max(max, line.steps[line.steps.length - 1]!);
    }
    return Number.isFinite(min) ? [min, max] : null;
  }

  /** What uPlot draws: each line reduced to the min and max of each pixel bucket of the visible range, on one x axis. */
  private data(): uPlot.AlignedData {
    const range = this.zoom ?? this.fullRange();
    const buckets = this.width();
    const curves = this.lines.map((line) => {
      const values = this.options.logScale ? line.values.map((v) => (v !== null && v > 0 ? v : null)) : line.values;
      return range ? downsampleMinMax(line.steps as number[], values, buckets, range[0], range[1]) : { x: [], y: [] };
    });
    const aligned = align(curves);
    this.plotHost.dataset.points = String(aligned[0].length);
    return aligned;
  }

  private showAt(u: uPlot): void {
    const left = u.cursor.left;
    if (left === undefined || left < 0) return this.showLatest();
    const step = u.posToVal(left, 'x');
    const parts: string[] = [];
    let at: number | null = null;
    for (const line of this.lines) {
      if (!line.readout) continue;
      const i = nearestIndex(line.steps, step);
      if (i < 0) continue;
      at ??= line.steps[i]!;
      parts.push(`${line.label} ${this.options.format(line.values[i] ?? null)}`);
    }
    this.readout.textContent = at === null ? '' : `step ${at} · ${parts.join(' · ')}`;
  }

  private showLatest(): void {
    const parts = this.lines
      .filter((line) => line.readout && line.steps.length > 0)
      .map((line) => `${line.label} ${this.options.format(line.values[line.values.length - 1] ?? null)}`);
    this.readout.textContent = parts.length > 0 ? `latest · ${parts.join(' · ')}` : '';
  }
}

/** 1, 2, 5, 10, 20, 50, … up to 5e9: uPlot picks the smallest that leaves room between labels. */
export const WHOLE_STEP_INCREMENTS: number[] = Array.from({ length: 10 }, (_, power) => [1, 2, 5].map((m) => m * 10 ** power)).flat();

/** Puts several curves on one shared, sorted x axis, with null where a curve has no point. */
export function align(curves: readonly XY[]): uPlot.AlignedData {
  if (curves.length === 1) return [curves[0]!.x, curves[0]!.y];
  const xs = [...new Set(curves.flatMap((curve) => curve.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = curves.map((curve) => {
    const out: (number | null)[] = new Array(xs.length).fill(null);
    curve.x.forEach((x, i) => (out[index.get(x)!] = curve.y[i] ?? null));
    return out;
  });
  return [xs, ...ys];
}
