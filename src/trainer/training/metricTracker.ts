/** Tracks the primary metric across evaluations: which one is best, and when patience has run out. */
export class MetricTracker {
  best: number | null;
  evaluationsWithoutImprovement: number;

  constructor(
    private readonly mode: 'max' | 'min',
    private readonly minDelta: number,
    state?: { best: number | null; evaluationsWithoutImprovement: number },
  ) {
    this.best = state?.best ?? null;
    this.evaluationsWithoutImprovement = state?.evaluationsWithoutImprovement ?? 0;
  }

  /** Records one evaluation. `improved` means a new best by more than `min_delta`, as Keras' EarlyStopping counts it. */
  record(value: number | null): { improved: boolean } {
    if (value === null || !Number.isFinite(value)) {
      this.evaluationsWithoutImprovement++;
      return { improved: false };
    }
    const improved = this.best === null || (this.mode === 'max' ? value > this.best + this.minDelta : value < this.best - this.minDelta);
    if (improved) {
      this.best = value;
      this.evaluationsWithoutImprovement = 0;
    } else {
      this.evaluationsWithoutImprovement++;
    }
    return { improved };
  }

  exhausted(patience: number): boolean {
    return this.evaluationsWithoutImprovement >= patience;
  }

  state(): { best: number | null; evaluationsWithoutImprovement: number } {
    return { best: this.best, evaluationsWithoutImprovement: this.evaluationsWithoutImprovement };
  }
}
