/**
 * `strategy.type: freeze` for a ResNet, by stage as `freeze_layers` works for text encoders: `freeze_embeddings`
 * freezes the stem (`resnet.embedder.`, the 7×7 convolution and its BatchNorm), `freeze_layers: N` freezes the
 * first N stages (`resnet.encoder.stages.0.` … `N−1`). The head always trains. Freezing a weight does not freeze a
 * BatchNorm's running statistics, as in PyTorch, where `requires_grad = False` leaves a module in train mode;
 * `strategy.freeze_batch_norm` is the switch for those.
 */

export interface ResNetFreezing {
  readonly freezeEmbeddings: boolean;
  readonly freezeLayers: number;
}

const STEM = 'resnet.embedder.';
const STAGE = /^resnet\.encoder\.stages\.(\d+)\./;

/** 'stem', a stage index, or undefined for the head. */
export function resnetStageOf(name: string): 'stem' | number | undefined {
  if (name.startsWith(STEM)) return 'stem';
  const stage = STAGE.exec(name);
  return stage ? Number(stage[1]) : undefined;
}

/** Which variables train under `freezing`, on a ResNet with `stageCount` stages. */
export function resnetTrainable(freezing: ResNetFreezing, stageCount: number): (name: string) => boolean {
  const { freezeEmbeddings, freezeLayers } = freezing;
  if (!Number.isInteger(freezeLayers) || freezeLayers < 0 || freezeLayers > stageCount)
    throw new Error(
      `strategy.freeze_layers is ${freezeLayers}, but this ResNet has ${stageCount} stages; give a whole number from 0 to ${stageCount}.`,
    );
  return (name) => {
    const stage = resnetStageOf(name);
    if (stage === 'stem') return !freezeEmbeddings;
    return stage === undefined || stage >= freezeLayers;
  };
}
