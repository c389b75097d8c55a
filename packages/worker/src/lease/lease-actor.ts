import { backoffDelay } from '../backoff.js';
import type { ActorContext, ActorRef, Behavior } from '../actor/runtime.js';
import { serializeError } from '../errors.js';
import type { HostEnv } from '../host-env.js';
import type { LeaseSnapshot } from '../protocol.js';
import type { ReaderMessage } from '../reader/reader-actor.js';
import type { SubscriptionMessage } from '../reader/subscription-reader.js';
import { anchorFor, laterPosition, startFrom, type Position } from '../position.js';
import type { TimerHandle } from '../clock.js';
import { CheckpointPace } from './checkpoint-pace.js';
import { EXPIRED, beforeDeadline, processNow, type LeaseFence } from './fence.js';
import { SHARD_END, holderOf, type HeldWrite } from './lease.js';

export type LeaseMessage =
  | { type: 'acquire' }
  | { type: 'renew' }
  /** `idle`: the shard has nothing else to hand over now (see CheckpointPace). */
  | { type: 'checkpoint'; sequenceNumber: string; subSequenceNumber: number; idle: boolean }
  | { type: 'flush' }
  | { type: 'position'; replyTo: ActorRef<ReaderMessage | SubscriptionMessage> }
  | { type: 'shardEnd'; childShardIds: string[] }
  /** With `to`, the lease goes straight to that worker (the pending handoff to it is completed); else it is freed. */
  | { type: 'release'; done: (released: boolean) => void; to?: string };

interface LeaseActorHooks {
  /** The lease is no longer ours (or never was: a lost race to take it): stop reading at once. */
  onLost(reason: string, wasHeld: boolean): void;
  /** A handoff of the lease to `to` is pending (this worker is its checkpointOwner): drain the shard, then hand it over. */
  onHandoff(to: string): void;
  /** SHARD_END is written: the shard's actors may stop for good. */
  onEnded(childShardIds: string[]): void;
  /** The lease is ours (taken, or still ours after a restart). */
  onAcquired(): void;
  /** The last position this shard handled in this process, across every incarnation of its actors. */
  handled(): Position | undefined;
}

/**
 * Holds one shard's lease: takes it, renews it every renewIntervalMs, writes checkpoints and
 * releases it. Writes are serialised by the mailbox, so leaseCounter never races with itself;
 * every write is conditional on leaseCounter and the holder (leaseOwner, or checkpointOwner while
 * it hands the lease over), so a worker that lost the lease can never checkpoint.
 */
/** `leaseKey`: the shard's row in the store (the shard id in a single-stream table). */
export function leaseActor(env: HostEnv, shardId: string, observed: LeaseSnapshot | undefined, hooks: LeaseActorHooks, fence: LeaseFence, leaseKey = shardId) {
  return (ctx: ActorContext<LeaseMessage>): Behavior<LeaseMessage> => {
    const { config, leases, report } = env;
    const me = config.workerId;
    let counter = 0;
    let written: Position | undefined;
    let pending: Position | undefined;
    const pace = new CheckpointPace(config.lease.checkpointIntervalMs);
    /** The next flush, when one is due. */
    let flushAt: { at: number; timer: TimerHandle | undefined } | undefined;
    let flushFailures = 0;
    let lastRenewedAt = ctx.clock.now();
    let held = false;
    let handingOff = false;
    /** Where a sentinel checkpoint is read from (checkpointTimestamp); see docs/positions.md. */
    let anchor: number | undefined;
    /** This owner wrote the anchor at LATEST: its first reader takes LATEST itself. */
    let exactFirst = false;

    const lose = (reason: string, wasHeld = true) => {
      fence.revoke();
      if (!held) return;
      held = false;
      hooks.onLost(reason, wasHeld);
      ctx.exit({ kind: 'normal' });
    };

    /** A write of the lease, abandoned once others may consider the lease expired (see beforeDeadline). */
    const beforeLost = <T>(call: Promise<T>) => beforeDeadline(call, fence.lostAt() - processNow(), ctx.clock);
    const expired = () => processNow() >= fence.lostAt();

    /** The shard handled more than this actor has been told (its checkpoint message was lost with an incarnation): write that. */
    const catchUp = () => {
      const known = pending ?? written;
      const newer = laterPosition(known, hooks.handled());
      if (!newer || newer === known) return;
      pending = newer;
      flushBy(ctx.clock.now());
    };

    /** A flush at `at` at the latest: an earlier one stays, a later one is brought forward. */
    const flushBy = (at: number) => {
      if (flushAt && flushAt.at <= at) return;
      if (flushAt?.timer) ctx.cancel(flushAt.timer);
      const wait = at - ctx.clock.now();
      flushAt = { at, timer: wait > 0 ? ctx.sendAfter(wait, { type: 'flush' }) : undefined };
      if (wait <= 0) ctx.send(ctx.self, { type: 'flush' });
    };

    let renewFailures = 0;
    /** A write threw (a CALL_TIMEOUT, a reset): it may still have landed and moved the counter. */
    let uncertain = false;

    /**
     * Renewals and checkpoints go through here. After a write that threw, a failed condition may
     * only mean that write landed after all: if the row is still ours one counter further, take
     * that counter and write again, rather than give up a lease that is ours.
     */
    const ownWrite = async (write: (counter: number) => Promise<false | HeldWrite>): Promise<false | HeldWrite> => {
      try {
        let ok = await write(counter);
        if (!ok && uncertain) {
          const row = await leases.get(leaseKey);
          if (row && holderOf(row) === me && row.leaseCounter === counter + 1) {
            counter++;
            ok = await write(counter);
          }
        }
        uncertain = false;
        return ok;
      } catch (error) {
        uncertain = true;
        throw error;
      }
    };

    /** Every renewal and checkpoint reads the row back: a pending handoff is noticed without extra reads. */
    const noticeHandoff = (write: HeldWrite) => {
      if (!write.nextOwner || write.nextOwner === me || handingOff) return;
      handingOff = true;
      hooks.onHandoff(write.nextOwner);
    };

    const scheduleRenew = () => ctx.sendAfter(config.lease.renewIntervalMs, { type: 'renew' });

    /** Writes the newest successful position; false when the lease turned out to be gone. */
    const flush = async (): Promise<boolean> => {
      const target = pending;
      if (!target) return true;
      const sentLocal = ctx.clock.now();
      pace.writing(sentLocal);
      const sent = processNow();
      const ok = await beforeLost(ownWrite((n) => leases.checkpoint(leaseKey, n, me, target.sequenceNumber, target.subSequenceNumber)));
      if (ok === EXPIRED) {
        lose('checkpoint unanswered until the lease could expire');
        return false;
      }
      if (!ok) {
        lose('checkpoint condition failed: leaseCounter or leaseOwner changed');
        return false;
      }
      counter++;
      fence.renewed(sent);
      lastRenewedAt = sentLocal;
      written = target;
      anchor = undefined;
      if (pending === target) {
        pending = undefined;
        pace.caughtUp();
      }
      report({ type: 'checkpoint', shardId, sequenceNumber: target.sequenceNumber, subSequenceNumber: target.subSequenceNumber });
      noticeHandoff(ok);
      return true;
    };

    const acquire = async () => {
      let current: LeaseSnapshot | undefined = observed;
      if (!current) {
        // a restarted incarnation: the lease may still be ours, or lost while we were down
        current = await leases.get(leaseKey);
        // still ours while we are handing it off: the renewal then notices the handoff again
        if (!current || holderOf(current) !== me) {
          held = true;
          lose('lease changed owner while the lease actor restarted');
          return;
        }
        counter = current.leaseCounter;
        anchor = current.checkpointTimestamp;
      } else {
        // the first owner of a LATEST or AT_TIMESTAMP lease anchors it in its take (docs/positions.md)
        const take = async (lease: LeaseSnapshot) => {
          const wanted = lease.checkpointTimestamp ?? anchorFor(lease.checkpoint, config.initialTimestamp, Date.now());
          const sent = processNow();
          // the counter condition means no other take (the only writer of an anchor) came in between
          const ok = await leases.take(lease, me, wanted);
          if (!ok) return false;
          fence.renewed(sent);
          anchor = wanted;
          exactFirst = lease.checkpointTimestamp === undefined && lease.checkpoint === 'LATEST';
          return true;
        };
        let taken = await take(current);
        if (!taken) {
          // a thread of ours that died may have renewed once more after the coordinator read the row
          const fresh = await leases.get(leaseKey);
          if (fresh?.leaseOwner === me && fresh.checkpointOwner === undefined) {
            current = { ...fresh, leaseOwner: current.leaseOwner, checkpointOwner: current.checkpointOwner };
            taken = await take(current);
          }
        }
        if (!taken) {
          held = true;
          // a race lost to another worker's take or renewal: normal, and nothing was ours to lose
          lose('lease was taken or renewed by another worker first', false);
          return;
        }
        counter = current.leaseCounter + 1;
      }
      held = true;
      lastRenewedAt = ctx.clock.now();
      written = { sequenceNumber: current.checkpoint, subSequenceNumber: current.checkpointSubSequenceNumber };
      hooks.onAcquired();
      report({ type: 'lease:acquired', shardId, workerId: env.config.workerId, leaseCounter: counter, checkpoint: current.checkpoint });
      scheduleRenew();
      catchUp();
    };

    return {
      async receive(message) {
        switch (message.type) {
          case 'acquire':
            return acquire();
          case 'renew': {
            if (!held) return;
            // a checkpoint renews the lease too: while they keep coming, a renewal would be a wasted write
            const sinceRenewal = ctx.clock.now() - lastRenewedAt;
            if (sinceRenewal < config.lease.renewIntervalMs) return void ctx.sendAfter(config.lease.renewIntervalMs - sinceRenewal, { type: 'renew' });
            // past the point where others may take it, a renewal could only race them: the lease is gone
            if (expired()) return lose('no renewal held for failoverMs');
            try {
              const sent = processNow();
              // the next renewal is due an interval after this one was sent, not answered: a slow answer must not push it back
              const sentLocal = ctx.clock.now();
              const ok = await beforeLost(ownWrite((n) => leases.renew(leaseKey, n, me)));
              if (ok === EXPIRED) return lose('renewal unanswered for failoverMs since the last successful one was sent');
              if (!ok) return lose('renewal condition failed: another worker holds the lease');
              counter++;
              fence.renewed(sent);
              lastRenewedAt = sentLocal;
              renewFailures = 0;
              noticeHandoff(ok);
            } catch (error) {
              report({ type: 'error', shardId, error: serializeError(error) });
              // still ours until others may consider it expired
              if (expired()) return lose('renewals failed for failoverMs');
              // throttled or unreachable: try again well before the lease could expire, and at the latest when it does
              const retry = backoffDelay(++renewFailures, { baseMs: 100, maxMs: config.lease.renewIntervalMs });
              ctx.sendAfter(Math.min(retry, Math.max(0, fence.lostAt() - processNow())), { type: 'renew' });
              return;
            }
            scheduleRenew();
            return;
          }
          case 'checkpoint':
            pending = { sequenceNumber: message.sequenceNumber, subSequenceNumber: message.subSequenceNumber };
            // at most one checkpoint write per interval: later batches ride on the next one
            flushBy(pace.handled(ctx.clock.now(), message.idle));
            return;
          case 'flush': {
            flushAt = undefined;
            if (!held) return;
            try {
              await flush();
              flushFailures = 0;
            } catch (error) {
              report({ type: 'checkpoint:failed', shardId, error: serializeError(error) });
              report({ type: 'error', shardId, error: serializeError(error) });
              if (expired()) return lose('checkpoints failed for failoverMs');
              flushBy(ctx.clock.now() + backoffDelay(++flushFailures, config.batchers.backoff));
            }
            return;
          }
          case 'position': {
            if (!held) return;
            catchUp();
            const at = pending ?? written;
            if (!at) return;
            const from = startFrom(at, anchor, exactFirst);
            exactFirst = false;
            ctx.send(message.replyTo, {
              type: 'start',
              checkpoint: from.sequenceNumber,
              subSequenceNumber: from.subSequenceNumber,
              ...(from.timestamp === undefined ? {} : { timestamp: from.timestamp }),
            });
            return;
          }
          case 'shardEnd': {
            if (!held) return;
            if (!(await flush())) return;
            const ok = await beforeLost(ownWrite((n) => leases.checkpoint(leaseKey, n, me, SHARD_END, 0, message.childShardIds)));
            if (ok === EXPIRED) return lose('SHARD_END checkpoint unanswered until the lease could expire');
            if (!ok) return lose('SHARD_END checkpoint condition failed');
            counter++;
            report({ type: 'checkpoint', shardId, sequenceNumber: SHARD_END, subSequenceNumber: 0 });
            fence.revoke();
            held = false;
            hooks.onEnded(message.childShardIds);
            ctx.exit({ kind: 'normal' });
            return;
          }
          case 'release': {
            if (!held) return message.done(false);
            let released = false;
            try {
              if (await flush()) {
                // the receiver may have cancelled (it is stopping, or gave up waiting): then free the lease for anyone
                const give = async () => (message.to !== undefined && (await leases.completeHandoff(leaseKey, me, message.to))) || (await leases.release(leaseKey, me));
                released = (await beforeLost(give())) === true;
              }
            } finally {
              fence.revoke();
              held = false;
              if (released) report({ type: 'lease:released', shardId, ...(message.to ? { to: message.to } : {}) });
              message.done(released);
              ctx.exit({ kind: 'normal' });
            }
            return;
          }
        }
      },
    };
  };
}
