// What a call's history says about its cost: local activities (markers) and regular activities.
import type { Harness } from './harness.js';

export async function historyCounts(h: Harness, callId: string) {
  const { events } = await h.handle(callId).fetchHistory();
  const list = events ?? [];
  return {
    localActivities: list.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    activities: list
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name),
    timers: list.filter((e) => e.timerStartedEventAttributes).length,
    events: list.length,
  };
}
