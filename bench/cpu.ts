// CPU seconds of process groups, from /proc: where each phase's work went (Linux only).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  comm: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, plus the CPU of children it has reaped (PostgreSQL's exited backends). */
  ticks: number;
}

function readStat(pid: string): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // comm may hold spaces and parentheses: the fields after it start at the last ')'.
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): ppid 4, pgrp 5, utime 14, stime 15, cutime 16, cstime 17.
  return {
    pid: Number(pid),
    comm: text.slice(text.indexOf('(') + 1, close),
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
  };
}

function allStats(): Stat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(readStat)
    .filter((s): s is Stat => s !== undefined);
}

/** This process's direct children by command name: the servers the stack spawned, each its own group. */
export function childrenByName(): Map<string, number> {
  return new Map(
    allStats()
      .filter((s) => s.ppid === process.pid)
      .map((s) => [s.comm, s.pid]),
  );
}

/**
 * CPU seconds used so far by each named process group (children spawned detached lead their own group).
 * A process that left its group for one of its own still counts for the group of the ancestor that did
 * not: PostgreSQL's backends call setsid(), and counted by group alone their CPU would show only when
 * they exit, in whatever phase that happens.
 */
export function groupCpu(groups: Record<string, number>): Record<string, number> {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const leaders = new Set(Object.values(groups));
  const groupOf = (s: Stat): number | undefined => {
    for (let p: Stat | undefined = s, hops = 0; p && hops < 32; p = byPid.get(p.ppid), hops++) if (leaders.has(p.pgrp)) return p.pgrp;
    return undefined;
  };
  const byGroup = new Map<number, number>();
  for (const s of stats) {
    const group = groupOf(s);
    if (group !== undefined) byGroup.set(group, (byGroup.get(group) ?? 0) + s.ticks);
  }
  const out: Record<string, number> = {};
  for (const [name, pgid] of Object.entries(groups)) out[name] = (byGroup.get(pgid) ?? 0) / ticksPerSecond;
  const self = process.cpuUsage();
  out.bench = (self.user + self.system) / 1e6;
  return out;
}

export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
}
