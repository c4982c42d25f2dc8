import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffConfigs } from '../../src/shared/monitor/configDiff';
import { downsampleMinMax } from '../../src/shared/monitor/downsample';
import {
  dataRowNoun,
  exampleUnit,
  formatBytes,
  formatDuration,
  formatLoss,
  formatMetric,
  formatRate,
} from '../../src/shared/monitor/formatting';
import { emaSmooth } from '../../src/shared/monitor/smoothing';

describe('emaSmooth, the loss smoothing slider', () => {
  it('is debiased like TensorBoard’s: a constant curve stays constant from the first point', () => {
    assert.deepEqual(
      emaSmooth([2, 2, 2], 0.9).map((v) => Number(v!.toFixed(12))),
      [2, 2, 2],
    );
  });
  it('weight 0 leaves the curve as it is, and a higher weight lags a step change more', () => {
    assert.deepEqual(emaSmooth([1, 5, 3], 0), [1, 5, 3]);
    const light = emaSmooth([0, 0, 0, 10, 10], 0.3).at(-1)!;
    const heavy = emaSmooth([0, 0, 0, 10, 10], 0.9).at(-1)!;
    assert.ok(heavy < light && light < 10);
  });
  it('keeps non-finite losses as gaps without letting them move the average', () => {
    const out = emaSmooth([1, null, 1], 0.5);
    assert.equal(out[1], null);
    assert.equal(out[2], 1);
  });
});

describe('downsampleMinMax, what the charts draw of a long run', () => {
  const n = 100_000;
  const x = Array.from({ length: n }, (_, i) => i + 1);
  const y = x.map((s) => Math.exp(-s / 30_000) + (s === 77_777 ? 50 : 0));

  it('draws at most two points per pixel bucket however many steps there are', () => {
    const out = downsampleMinMax(x, y, 800);
    assert.ok(out.x.length <= 1600 && out.x.length > 800, `${out.x.length} points`);
    assert.deepEqual(
      out.x,
      [...out.x].sort((a, b) => a - b),
      'in step order',
    );
  });
  it('keeps a one-step spike that plain decimation would drop', () => {
    const out = downsampleMinMax(x, y, 800);
    assert.ok(out.y.includes(y[77_776]!), 'the spike at step 77,777 is drawn');
    assert.equal(Math.min(...(out.y as number[])), y.at(-1), 'and so is the lowest point');
  });
  it('reduces only the zoomed range, plus one point beyond each edge so the line reaches the border', () => {
    const out = downsampleMinMax(x, y, 100, 50_000, 50_100);
    assert.equal(out.x[0], 49_999);
    assert.equal(out.x.at(-1), 50_101);
    assert.ok(out.x.slice(1, -1).every((s) => s >= 50_000 && s <= 50_100));
  });
  it('returns a short curve unchanged, and keeps a gap where the loss was not finite', () => {
    assert.deepEqual(downsampleMinMax([1, 2, 3], [1, null, 3], 800), { x: [1, 2, 3], y: [1, null, 3] });
    const withGap = y.map((v, i) => (i >= 40_000 && i < 60_000 ? null : v));
    const out = downsampleMinMax(x, withGap, 100);
    assert.ok(out.y.includes(null), 'the gap survives');
  });
});

describe('diffConfigs, the compare table', () => {
  it('lists only the keys whose values differ, in the order of the config, with a missing key as null', () => {
    const a = { name: 'a', training: { epochs: 3, learning_rate: 2e-5, batch_size: 32 }, evaluation: { metrics: ['ndcg@10'] } };
    const b = {
      name: 'b',
      training: { epochs: 3, learning_rate: 1e-4, batch_size: 32 },
      evaluation: { metrics: ['ndcg@10', 'mrr@10'] },
      extra: { on: true },
    };
    assert.deepEqual(diffConfigs([a, b]), [
      { key: 'name', values: ['a', 'b'] },
      { key: 'training.learning_rate', values: ['0.00002', '0.0001'] },
      { key: 'evaluation.metrics', values: ['["ndcg@10"]', '["ndcg@10","mrr@10"]'] },
      { key: 'extra.on', values: [null, 'true'] },
    ]);
    assert.deepEqual(diffConfigs([a, structuredClone(a)]), []);
  });
});

describe('formatting for the status bar and the webviews', () => {
  it('writes durations, metrics, losses, rates and sizes the short way a person reads them', () => {
    assert.deepEqual([formatDuration(45), formatDuration(360), formatDuration(3 * 3600), formatDuration(null)], ['45s', '6m', '3.0h', '?']);
    assert.deepEqual(
      [formatMetric(0.7123456), formatMetric(12.3456), formatMetric(0.00001234), formatMetric(null)],
      ['0.7123', '12.35', '1.23e-5', 'n/a'],
    );
    assert.deepEqual([formatLoss(0.23149), formatLoss(null)], ['0.231', 'n/a']);
    assert.deepEqual([formatRate(14.2), formatRate(3.25), formatRate(1520)], ['14', '3.3', '1.5k']);
    assert.deepEqual([formatBytes(512), formatBytes(505_337), formatBytes(3 * 2 ** 30)], ['512 B', '493 KB', '3.0 GB']);
  });
});

describe('the units of throughput and data counts, by task', () => {
  it('counts pairs for embedding, images for image classification and examples otherwise', () => {
    assert.deepEqual(['embedding', 'classification', 'token-classification', 'image-classification', undefined].map(exampleUnit), [
      'pairs',
      'examples',
      'examples',
      'images',
      'examples',
    ]);
  });

  it("calls image runs' data images and every other run's rows", () => {
    assert.deepEqual(['image-classification', 'classification', undefined].map(dataRowNoun), ['images', 'rows', 'rows']);
  });
});
