import { readdirSync, readFileSync } from 'node:fs';

/** Sends a signal to every process of a group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any process of the group still runs. The launcher is the group leader, but its workers can outlive it
 * (accelerate's single-process launcher dies of the SIGTERM its worker handles), so the group, not the leader,
 * tells when the run is over. On Linux zombies do not count: a worker reparented to an init that never reaps
 * would otherwise keep the group "alive" forever.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/** Resolves once no process of the group runs, checking every `intervalMs`. */
export async function waitForGroupExit(pgid: number, intervalMs = 200): Promise<void> {
  while (groupAlive(pgid)) await new Promise((resolveWait) => setTimeout(resolveWait, intervalMs));
}
