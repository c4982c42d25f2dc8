import type { SchedulerType } from '../../shared/config/configTypes';

/**
 * The learning rate for optimizer step `step` (0-based), as Hugging Face's `get_*_schedule_with_warmup`:
 * linear warmup from 0, then linear decay to 0, half a cosine to 0, or constant.
 */
export function learningRateAt(step: number, peak: number, warmupSteps: number, totalSteps: number, scheduler: SchedulerType): number {
  if (step < warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
  if (scheduler === 'constant') return peak;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (scheduler === 'linear') return peak * Math.max(0, 1 - progress);
  return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
