// Which call a leg belongs to, remembered by this API process so a pipeline's events skip Redis.

/**
 * Safe to remember because a leg changes owner only after the call that owned it closed (`ownLeg`
 * with `replace`): a remembered owner that no longer takes signals is forgotten and the leg resolved
 * again. Bounded in size, and each answer kept a minute.
 */
export class LegMemo {
  private readonly owners = new Map<string, { callId: string; until: number }>();

  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 60_000,
  ) {}

  get(sid: string, now = Date.now()): string | undefined {
    const owner = this.owners.get(sid);
    if (owner && owner.until > now) return owner.callId;
    if (owner) this.owners.delete(sid);
    return undefined;
  }

  set(sid: string, callId: string, now = Date.now()): void {
    this.owners.delete(sid);
    // A Map iterates in insertion order: the first key is the oldest answer.
    if (this.owners.size >= this.max) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(sid, { callId, until: now + this.ttlMs });
  }

  forget(sid: string): void {
    this.owners.delete(sid);
  }
}
