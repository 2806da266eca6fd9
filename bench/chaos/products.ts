// The product's worker(s) and API during a chaos run: killed on purpose by the scenarios, and restarted here
// (not by npm start's supervisor). An exit nobody asked for is an incident: logged with the process's last lines,
// then restarted with backoff (1 s doubling, up to 10 s).
import type { Connection } from '@temporalio/client';
import type { Proc } from '../../scripts/services/process.js';
import type { ProductRole, StackControl } from '../stack.js';

export interface Slot {
  role: ProductRole;
  proc: Proc;
}

export interface ProductsOptions {
  control: StackControl;
  connection: Connection;
  taskQueue: string;
  apiUrl: string;
  /** A fault-log line (what was done, when). */
  note: (line: string) => void;
  /** Something that should not have happened, with evidence. */
  incident: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pidOf = (proc: Proc) => proc.child.pid ?? -1;

export class Products {
  readonly workers: Slot[] = [];
  readonly api: Slot;
  private readonly killed = new WeakSet<Proc>();
  private readonly crashes = new Map<Slot, number[]>();
  private closed = false;

  constructor(private readonly o: ProductsOptions) {
    this.workers.push(this.adopt({ role: 'worker', proc: o.control.first.worker }));
    this.api = this.adopt({ role: 'api', proc: o.control.first.api });
  }

  /** Stops restarting anything: the stack is being torn down. */
  close(): void {
    this.closed = true;
  }

  /** SIGKILLs the slot's process group (node and its esbuild helper) and waits until it is gone. */
  async kill(slot: Slot): Promise<void> {
    const { proc } = slot;
    this.killed.add(proc);
    try {
      process.kill(-pidOf(proc), 'SIGKILL');
    } catch {
      proc.child.kill('SIGKILL');
    }
    await proc.exited;
    this.o.note(`SIGKILL ${slot.role} ${pidOf(proc)}`);
  }

  /** Starts a new process in the slot and reports, in the background, when it serves. */
  async restart(slot: Slot): Promise<void> {
    if (this.closed) return;
    const t = Date.now();
    slot.proc = await this.o.control.spawn(slot.role);
    this.watch(slot, slot.proc);
    const pid = pidOf(slot.proc);
    this.o.note(`${slot.role} ${pid} started`);
    void this.serving(slot.proc, 180_000).then(
      () => this.o.note(`${slot.role} ${pid} serving ${((Date.now() - t) / 1000).toFixed(1)} s after its start`),
      () => undefined,
    );
  }

  async addWorker(): Promise<Slot> {
    const slot = this.adopt({ role: 'worker', proc: await this.o.control.spawn('worker') });
    this.workers.push(slot);
    this.o.note(`worker ${pidOf(slot.proc)} added`);
    return slot;
  }

  /** Forgets a slot whose process was killed and is not to come back. */
  remove(slot: Slot): void {
    this.workers.splice(this.workers.indexOf(slot), 1);
  }

  /** Resolves once the process serves: a worker polls its task queue, the API answers /healthz. */
  async serving(proc: Proc, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const worker = proc.name === 'worker';
    while (Date.now() < deadline) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.name} ${pidOf(proc)} exited`);
      const ok = await (worker ? this.polls(pidOf(proc)) : this.answers('/healthz')).catch(() => false);
      if (ok) return;
      await sleep(250);
    }
    throw new Error(`${proc.name} ${pidOf(proc)} not serving after ${timeoutMs / 1000} s`);
  }

  /** Every process serves and the API is ready (PostgreSQL, Redis and Temporal answer it). */
  async healthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const slot of [...this.workers, this.api]) {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${slot.role} is not serving after ${timeoutMs / 1000} s`);
        // A slot whose process died is being restarted by watch(): wait for its successor.
        const proc = slot.proc;
        const ok = await this.serving(proc, left).then(
          () => true,
          () => false,
        );
        if (ok) break;
        await sleep(500);
      }
    }
    while (!(await this.answers('/readyz').catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`the API's /readyz is not 200 after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  }

  private adopt(slot: Slot): Slot {
    this.watch(slot, slot.proc);
    return slot;
  }

  private watch(slot: Slot, proc: Proc): void {
    void proc.exited.then(async (code) => {
      if (this.closed || this.killed.has(proc)) return;
      this.o.incident(`${slot.role} ${pidOf(proc)} exited by itself (${code}); its last lines:\n${proc.output()}`);
      const recent = [...(this.crashes.get(slot) ?? []), Date.now()].filter((t) => t > Date.now() - 60_000);
      this.crashes.set(slot, recent);
      await sleep(Math.min(10_000, 1_000 * 2 ** (recent.length - 1)));
      if (slot.proc === proc) await this.restart(slot);
    });
  }

  private async polls(pid: number): Promise<boolean> {
    const { pollers } = await this.o.connection.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: this.o.taskQueue },
    });
    // A worker's identity is `<pid>@<host>`; a killed worker's poller stays listed for a while, so match the pid.
    return (pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
  }

  private async answers(path: string): Promise<boolean> {
    const res = await fetch(`${this.o.apiUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.ok;
  }
}
