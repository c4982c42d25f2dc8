// The example shapes moved to src/shared/data so that the config checks can apply the loader's row rule; this keeps
// the trainer's imports short.
export * from '../../shared/data/trainingExamples';
