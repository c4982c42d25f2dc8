/** Whether an `every:` setting (a step count, or `epoch`) falls on this step. */
export function isDue(every: number | 'epoch', step: number, epochEnds: boolean): boolean {
  return every === 'epoch' ? epochEnds : step % every === 0;
}
