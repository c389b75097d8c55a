/**
 * Which streams an application consumes: `streamName` (one stream, bare shard-id lease keys, as
 * the Java KCL's single-stream mode) or `streams: [{ streamName | streamArn, initialPosition? }]`
 * (multi-stream mode, lease keys `account:stream:epoch:shardId` as the Java KCL's
 * MultiStreamTracker writes them, even with one entry). Both resolve to `streams`, one entry per
 * stream, and `multiStream`.
 */
import { z } from 'zod';
import { invalid } from './option-errors.js';

export const initialPositionSchema = z.union(
  [z.literal('TRIM_HORIZON'), z.literal('LATEST'), z.strictObject({ timestamp: z.date().refine((d) => !Number.isNaN(d.getTime())) })],
  { error: "expected 'TRIM_HORIZON', 'LATEST' or { timestamp: Date }" },
);

export type InitialPosition = z.output<typeof initialPositionSchema>;

/** One entry of `streams`, and what `system.addStream()` takes. */
export const streamSpecSchema = z.strictObject({
  streamName: z.string().min(1).optional(),
  /** `arn:aws:kinesis:<region>:<account>:stream/<name>`; the stream's name is read from it. */
  streamArn: z.string().min(1).optional(),
  /** Default: the application's `initialPosition`. */
  initialPosition: initialPositionSchema.optional(),
});

export type StreamSpec = z.input<typeof streamSpecSchema>;

/** A stream of the application, resolved. */
export interface StreamOptions {
  streamName: string;
  streamArn?: string;
  initialPosition: InitialPosition;
}

/** The Java KCL's StreamIdentifier ARN pattern: account (12 digits) and name. */
const STREAM_ARN = /^arn:aws[^:]*:kinesis:[-a-z0-9]+:[0-9]{12}:stream\/(.+)$/;

/** A spec's stream, resolved; throws INVALID_OPTION at `option` when it names none, two, or a bad ARN. */
export function resolveStreamSpec(spec: z.output<typeof streamSpecSchema>, fallback: InitialPosition, option: string): StreamOptions {
  const { streamName, streamArn } = spec;
  if ((streamName === undefined) === (streamArn === undefined)) {
    throw invalid(option, 'must give exactly one of streamName and streamArn', spec);
  }
  const initialPosition = spec.initialPosition ?? fallback;
  if (streamArn === undefined) return { streamName: streamName!, initialPosition };
  const name = STREAM_ARN.exec(streamArn)?.[1];
  if (name === undefined) throw invalid(`${option}.streamArn`, 'must be a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)', streamArn);
  return { streamName: name, streamArn, initialPosition };
}

/** The same stream twice would have two coordinators race for the same leases. */
export function checkDistinct(streams: readonly StreamOptions[], option: string): void {
  const seen = new Set<string>();
  streams.forEach((s, i) => {
    if (seen.has(s.streamName)) throw invalid(`${option}.${i}`, `names stream "${s.streamName}" a second time: give each stream once`, s.streamArn ?? s.streamName);
    seen.add(s.streamName);
  });
}

/** `streamName` XOR `streams`, resolved to one list. */
export function resolveStreams(
  given: { streamName?: string | undefined; streams?: z.output<typeof streamSpecSchema>[] | undefined },
  initialPosition: InitialPosition,
): { streams: StreamOptions[]; multiStream: boolean } {
  if (given.streamName !== undefined && given.streams !== undefined) {
    throw invalid('streams', 'contradicts streamName: give streamName (one stream) or streams (several), not both', given.streams);
  }
  if (given.streamName !== undefined) return { streams: [{ streamName: given.streamName, initialPosition }], multiStream: false };
  if (given.streams === undefined) throw invalid('streamName', 'is required (or streams, for several streams)', undefined);
  const streams = given.streams.map((spec, i) => resolveStreamSpec(spec, initialPosition, `streams.${i}`));
  checkDistinct(streams, 'streams');
  return { streams, multiStream: true };
}
