// A store outage during a webhook is a 503 (providers retry it), never an opaque 500.
import { ApiError } from '../errors.js';

export async function or503<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    console.error('webhook store access failed', err);
    throw new ApiError('unavailable', 'the call store is unavailable; retry later');
  }
}
