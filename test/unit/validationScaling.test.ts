import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfigText } from '../../src/shared/config/validateConfig';

const HEADER = 'model:\n  base: x\ndata:\n  train: data/pairs.jsonl\n';

/** A config with `count` unknown keys in one section, as a generated or pasted file may have. */
function configWithUnknownKeys(count: number): string {
  const lines = [HEADER, 'training:\n'];
  for (let i = 0; i < count; i++) lines.push(`  unknown_key_${i}: value ${i}\n`);
  return lines.join('');
}

/** The fastest of a few runs: the machine is shared, and the minimum is the least disturbed measurement. */
function fastestValidationMs(text: string): number {
  let fastest = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    validateConfigText(text);
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

describe('validation cost', () => {
  it('grows linearly with the number of unknown keys: 4x the keys cost well under 8x the time (their square would be 16x)', () => {
    validateConfigText(configWithUnknownKeys(100));
    const small = fastestValidationMs(configWithUnknownKeys(4_000));
    const large = fastestValidationMs(configWithUnknownKeys(16_000));
    assert.ok(large / small < 8, `4k keys took ${small.toFixed(0)} ms and 16k keys ${large.toFixed(0)} ms: ${(large / small).toFixed(1)}x`);
  });
});
