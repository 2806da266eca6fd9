// The raw baselines' one activity: does nothing, so it measures what a local activity costs Temporal and the SDK.
export async function noop(): Promise<void> {}
