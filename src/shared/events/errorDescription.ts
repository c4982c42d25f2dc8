import type { ErrorEvent, ErrorProblem } from './runEvents';

const MAX_PROBLEMS = 5;

/**
 * An error event in words, for a message or a log: each located problem on a line of its own, first, in the CLI's
 * `file:line:column error code message` form (so that the first line alone says what and where), then the message.
 */
export function describeErrorEvent(event: Pick<ErrorEvent, 'message' | 'problems'>): string {
  const problems = event.problems ?? [];
  const lines = problems.slice(0, MAX_PROBLEMS).map(describeProblem);
  if (problems.length > MAX_PROBLEMS) lines.push(`… and ${problems.length - MAX_PROBLEMS} more`);
  return [...lines, event.message].join('\n');
}

function describeProblem(problem: ErrorProblem): string {
  const place = [problem.file, problem.line, problem.line !== undefined ? problem.column : undefined].filter((part) => part !== undefined);
  const what = ['error', problem.code, problem.message].filter((part) => part !== undefined).join(' ');
  return place.length > 0 ? `${place.join(':')} ${what}` : what;
}
