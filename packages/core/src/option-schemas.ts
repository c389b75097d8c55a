/** The building blocks of the option schemas: durations, counts, backoffs, supervisor limits. */
import { z } from 'zod';

export const ms = (fallback: number) => z.number().finite().int().min(0).default(fallback);
export const positiveMs = (fallback: number) => z.number().finite().int().min(1).default(fallback);
export const count = (fallback: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(1).max(max).default(fallback);
export const backoff = (baseMs: number, maxMs: number) => z.strictObject({ baseMs: ms(baseMs), maxMs: ms(maxMs) }).prefault({});
/** A supervisor's intensity and restart backoff; maxRestarts 0 escalates on the first failure. */
export const supervisorLimits = (maxRestarts: number, withinMs: number, baseMs: number, maxMs: number) =>
  z
    .strictObject({
      maxRestarts: z.number().int().min(0).max(1_000).default(maxRestarts),
      withinMs: positiveMs(withinMs),
      backoff: backoff(baseMs, maxMs),
    })
    .prefault({});
