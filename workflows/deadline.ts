// The call's one durable timer. It is kept while the deadline only moves later (each turn pushes the
// idle timeout on), so a turn costs no timer events; a timer that fires early re-arms for the rest.
import { CancellationScope, condition, sleep } from '@temporalio/workflow';

interface Due {
  at: number;
  summary: string;
}

export class Deadline {
  private timer: { at: number; scope: CancellationScope; fired: boolean } | undefined;

  /** Waits for work or the deadline: true when the deadline has passed and no work is queued. */
  async wait(due: Due, hasWork: () => boolean): Promise<boolean> {
    if (due.at <= Date.now()) return !hasWork();
    if (this.timer && (this.timer.fired || this.timer.at > due.at)) this.cancel();
    const timer = (this.timer ??= this.start(due));
    await condition(() => hasWork() || timer.fired);
    if (hasWork()) return false;
    this.timer = undefined;
    return Date.now() >= due.at;
  }

  private start(due: Due) {
    const scope = new CancellationScope();
    const timer = { at: due.at, scope, fired: false };
    scope
      .run(() => sleep(due.at - Date.now(), { summary: due.summary }))
      .then(
        () => void (timer.fired = true),
        () => undefined, // cancelled: a nearer deadline replaced it
      );
    return timer;
  }

  private cancel(): void {
    if (!this.timer?.fired) this.timer?.scope.cancel();
    this.timer = undefined;
  }
}
