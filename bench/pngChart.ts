/**
 * Line charts as PNG files for docs/benchmarks.md, drawn by uPlot (the dashboard's chart library) in headless
 * Chromium (Debian's, as the webview tests use) and captured with a screenshot. No network: uPlot is inlined.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, HEADLESS_CHROMIUM_ARGS } from '../test/helpers/headlessChromium';

const ROOT = resolve(__dirname, '..');

export interface ChartSeries {
  readonly label: string;
  /** One value per x; null leaves a gap (a case that did not run). */
  readonly values: ReadonlyArray<number | null>;
  readonly color: string;
  readonly dash?: boolean;
  /** Plot against the right-hand axis. */
  readonly right?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly x: readonly number[];
  readonly yLabel: string;
  readonly yRightLabel?: string;
  readonly series: readonly ChartSeries[];
  /** A log-2 x axis, for doubling sweeps. */
  readonly logX?: boolean;
}

const WIDTH = 720;
const HEIGHT = 360;

/** Draws each chart and writes it to its path. One browser for all of them. */
export async function writePngCharts(charts: ReadonlyArray<{ spec: ChartSpec; path: string }>): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...HEADLESS_CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH + 20, height: HEIGHT + 60 }, deviceScaleFactor: 1 });
    const uplotScript = readFileSync(join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'), 'utf8');
    const uplotCss = readFileSync(join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8');
    for (const { spec, path } of charts) {
      await page.setContent(
        `<!doctype html><html><head><style>${uplotCss} body{margin:8px;background:#fff;font:13px sans-serif}</style></head><body><div id="chart"></div></body></html>`,
      );
      await page.addScriptTag({ content: uplotScript });
      // tsx (esbuild with keepNames) wraps named functions in the page function below with a __name helper that
      // exists only in Node; the page needs its own.
      await page.addScriptTag({ content: 'window.__name = (f) => f;' });
      await page.evaluate(
        ({ spec: chart, width, height }) => {
          type Opts = Record<string, unknown>;
          const uPlot = (window as unknown as { uPlot: new (opts: Opts, data: unknown[], target: HTMLElement) => unknown }).uPlot;
          const axes: Opts[] = [
            { label: chart.xLabel, values: (_u: unknown, ticks: number[]) => ticks.map((t) => String(t)) },
            { label: chart.yLabel },
          ];
          if (chart.yRightLabel) axes.push({ scale: 'right', side: 1, label: chart.yRightLabel, grid: { show: false } });
          const options: Opts = {
            title: chart.title,
            legend: { live: false },
            cursor: { show: false },
            width,
            height,
            scales: {
              x: { time: false, ...(chart.logX ? { distr: 3, log: 2 } : {}) },
              y: { range: (_u: unknown, _min: number, max: number) => [0, max * 1.1] },
              right: { range: (_u: unknown, _min: number, max: number) => [0, max * 1.1] },
            },
            axes,
            series: [
              {},
              ...chart.series.map((s) => ({
                label: s.label,
                stroke: s.color,
                width: 2,
                scale: s.right ? 'right' : 'y',
                ...(s.dash ? { dash: [6, 4] } : {}),
                points: { show: true, size: 7 },
              })),
            ],
          };
          new uPlot(options, [chart.x, ...chart.series.map((s) => s.values)], document.getElementById('chart')!);
        },
        { spec, width: WIDTH, height: HEIGHT },
      );
      const png = await page.locator('#chart').screenshot();
      writeFileSync(path, png);
    }
  } finally {
    await browser.close();
  }
}
