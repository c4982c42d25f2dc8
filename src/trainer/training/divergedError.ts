import { CHECKPOINTS_DIR } from '../../shared/run/runFolder';

/** The loss stopped being finite; the message says which checkpoints exist, since a run can diverge before its first. */
export class DivergedError extends Error {
  constructor(step: number, loss: number, newestCheckpoint: string | null, bestCheckpoint: string | null) {
    const kept =
      newestCheckpoint === null
        ? 'no checkpoint had been saved yet, so there is nothing to resume from or export'
        : `nothing after the newest checkpoint, ${CHECKPOINTS_DIR}/${newestCheckpoint}, was saved${bestCheckpoint && bestCheckpoint !== `${CHECKPOINTS_DIR}/${newestCheckpoint}` ? ` (the best is ${bestCheckpoint})` : ''}; --resume continues from it`;
    super(`The loss became ${loss} at step ${step + 1}; training stopped and ${kept}. Lower training.learning_rate or check the data.`);
  }
}
