import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMBEDDING_LOSS_TYPES, isEmbeddingLoss, isTfjsBackend, TFJS_BACKENDS } from '../../src/shared/config/configTypes';
import { embedtuneSchemaNavigator as navigator } from '../../src/shared/config/embedtuneSchema';
import { lossesForTask } from '../../src/shared/config/taskRequirements';

/*
 * engine.backend and the embedding losses are declared once, in the config types, and the trainer's modules use that
 * declaration; these lists must stay the values the schema accepts, so a backend or loss the user may write is one
 * the trainer knows.
 */

describe('the value lists the config types declare', () => {
  it('TFJS_BACKENDS are exactly the values engine.backend accepts', () => {
    assert.deepEqual([...TFJS_BACKENDS].sort(), navigator.literalValues(navigator.schemaAt(['engine', 'backend'])!).sort());
    assert.ok(isTfjsBackend('wasm'));
    assert.ok(!isTfjsBackend('tensorflow'));
  });

  it('EMBEDDING_LOSS_TYPES are the loss.type values of the embedding task that need no head', () => {
    const allowed = navigator.literalValues(navigator.schemaAt(['loss', 'type'])!);
    for (const loss of EMBEDDING_LOSS_TYPES) assert.ok(allowed.includes(loss), `${loss} is not a loss.type the schema accepts`);
    assert.deepEqual(
      [...EMBEDDING_LOSS_TYPES].sort(),
      lossesForTask('embedding')
        .filter((loss) => loss !== 'softmax')
        .sort(),
    );
    assert.ok(isEmbeddingLoss('cached_mnrl'));
    assert.ok(!isEmbeddingLoss('softmax'));
  });
});
