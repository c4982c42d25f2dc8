import { readFileSync } from 'node:fs';

/** Linux reports process start times in clock ticks since boot; USER_HZ is 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
/** How much earlier than its recorded start a process may appear to have started, for clock granularity. */
const START_SLACK_MS = 2000;

/**
 * Whether `pid` is a live process that can be the one that wrote a run's run.json at `startedAt`. A pid is reused
 * once its process ends, so on Linux a process that started after the run did, or a zombie, does not count; on
 * other systems only existence is checked.
 */
export function isRunProcessAlive(pid: number, startedAt?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user (e.g. a run started with sudo); it is alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  const stat = readProcStat(pid);
  if (!stat) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  if (startedAt === undefined) return true;
  const bootTime = readBootTime();
  const recorded = Date.parse(startedAt);
  if (bootTime === undefined || Number.isNaN(recorded)) return true;
  const processStart = bootTime * 1000 + (stat.startTicks / CLOCK_TICKS_PER_SECOND) * 1000;
  return processStart <= recorded + START_SLACK_MS;
}

function readProcStat(pid: number): { state: string; startTicks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

function readBootTime(): number | undefined {
  try {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
