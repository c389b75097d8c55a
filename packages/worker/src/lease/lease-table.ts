/**
 * The lease table, in the Java KCL's layout so that a table it wrote is usable as is:
 * hash key `leaseKey` (shard id); leaseOwner S, leaseCounter N, checkpoint S,
 * checkpointSubSequenceNumber N, ownerSwitchesSinceCheckpoint N, parentShardId SS,
 * childShardIds SS, startingHashKey/endingHashKey S, and the Java KCL 3.x's checkpointOwner S
 * and entityType S. Empty sets and strings are never written. Every write is conditional, on a
 * lease row only (IS_LEASE); a failed condition is reported as `false`, not thrown.
 * The DynamoDB adapter of LeaseStore (lease.ts holds the semantics in domain terms).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbSdk } from '../sdk.js';
import { SHARD_END, holderOf, type HeldWrite, type LeaseSnapshot, type LeaseStore, type NewLease, type UnreadableRow } from './lease.js';
import { IS_LEASE, IS_LEASE_VALUES, LEASE_OWNER_INDEX, canonical, itemFromNewLease, leaseFromItem, leaseRowProblem, notALease, type Item } from './lease-item.js';

const {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
} = dynamodbSdk;

export { SHARD_END, type HeldWrite, type UnreadableRow };

/** The holder's condition (see holderOf): the checkpointOwner, or the leaseOwner while no handoff is pending. */
const HOLDER_IS_ME = '((checkpointOwner = :me AND attribute_exists(leaseOwner)) OR (leaseOwner = :me AND attribute_not_exists(checkpointOwner)))';

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write; `false` when the condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export class LeaseTable implements LeaseStore {
  private update(leaseKey: string, condition: string, expression: string, values: Item): Promise<boolean> {
    return conditional(() => this.send(leaseKey, condition, expression, values));
  }

  /** The holder's write: it reads the row back, so a pending handoff is seen without extra reads. */
  private async ownerUpdate(leaseKey: string, owner: string, condition: string, expression: string, values: Item): Promise<false | HeldWrite> {
    let nextOwner: string | undefined;
    const ok = await conditional(async () => {
      const row = (await this.send(leaseKey, condition, expression, values, true)).Attributes;
      nextOwner = row?.checkpointOwner?.S === owner ? row.leaseOwner?.S : undefined;
    });
    return ok && { nextOwner };
  }

  private send(leaseKey: string, condition: string, expression: string, values: Item, returnRow = false) {
    return this.ddb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { leaseKey: { S: leaseKey } },
        ConditionExpression: `${IS_LEASE} AND ${condition}`,
        UpdateExpression: expression,
        ExpressionAttributeValues: { ...IS_LEASE_VALUES, ...values },
        ...(returnRow ? { ReturnValues: 'ALL_NEW' as const } : {}),
      }),
    );
  }

  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /**
   * Creates the table (PAY_PER_REQUEST) if it is missing, with the Java KCL 3.x's GSI on
   * leaseOwner as 3.x creates it (it adds the index to an existing table itself), and waits until
   * it is ACTIVE. A table without the index works as well: nothing here queries it.
   */
  async ensure(timeoutMs = 60_000): Promise<'existed' | 'created'> {
    let created = false;
    try {
      const { Table } = await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }));
      if (Table?.TableStatus === 'ACTIVE') return 'existed';
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException) && (error as { name?: string })?.name !== 'ResourceNotFoundException') throw error;
      try {
        await this.ddb.send(
          new CreateTableCommand({
            TableName: this.tableName,
            AttributeDefinitions: [
              { AttributeName: 'leaseKey', AttributeType: 'S' },
              { AttributeName: 'leaseOwner', AttributeType: 'S' },
            ],
            KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
            GlobalSecondaryIndexes: [
              {
                IndexName: LEASE_OWNER_INDEX,
                KeySchema: [
                  { AttributeName: 'leaseOwner', KeyType: 'HASH' },
                  { AttributeName: 'leaseKey', KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            ],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        created = true;
      } catch (createError) {
        // another worker created it first
        if ((createError as { name?: string })?.name !== 'ResourceInUseException') throw createError;
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { Table } = await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }));
      if (Table?.TableStatus === 'ACTIVE') return created ? 'created' : 'existed';
      if (Date.now() > deadline) throw new Error(`lease table ${this.tableName} not ACTIVE after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Every readable lease; rows that cannot be read are left out (scanRows reports them). */
  async scan(): Promise<LeaseSnapshot[]> {
    return (await this.scanRows()).leases;
  }

  /**
   * The whole table: readable leases, and the lease rows that are not (see leaseRowProblem).
   * Rows that are not leases (notALease: the Java KCL 3.x's worker metrics, leader lock,
   * migration state) are neither: they are skipped.
   */
  async scanRows(): Promise<{ leases: LeaseSnapshot[]; unreadable: UnreadableRow[] }> {
    const leases: LeaseSnapshot[] = [];
    const unreadable: UnreadableRow[] = [];
    let start: Item | undefined;
    do {
      const page = await this.ddb.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        if (notALease(item)) continue;
        const reason = leaseRowProblem(item);
        if (reason) unreadable.push({ leaseKey: item.leaseKey?.S ?? JSON.stringify(item.leaseKey ?? null), reason, fingerprint: canonical(item) });
        else leases.push(leaseFromItem(item));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { leases, unreadable };
  }

  /**
   * Deletes a finished lease (lease cleanup), on `checkpoint = SHARD_END`: false when the row is
   * gone already or is not finished.
   */
  deleteFinished(leaseKey: string): Promise<boolean> {
    return this.deleteWhen(leaseKey, 'checkpoint = :end', { ':end': { S: SHARD_END } });
  }

  /** Deletes a lease nobody holds (a removed stream's): false when it is held or gone. */
  deleteReleased(leaseKey: string): Promise<boolean> {
    return this.deleteWhen(leaseKey, 'attribute_exists(leaseKey) AND attribute_not_exists(leaseOwner)', {});
  }

  private deleteWhen(leaseKey: string, condition: string, values: Item): Promise<boolean> {
    return conditional(() =>
      this.ddb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          ConditionExpression: `${IS_LEASE} AND ${condition}`,
          ExpressionAttributeValues: { ...IS_LEASE_VALUES, ...values },
        }),
      ),
    );
  }

  async get(leaseKey: string): Promise<LeaseSnapshot | undefined> {
    const { Item } = await this.ddb.send(
      new GetItemCommand({ TableName: this.tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }),
    );
    return Item && !notALease(Item) ? leaseFromItem(Item) : undefined;
  }

  /** `attribute_not_exists(leaseKey)`: losing the race to another worker is fine. */
  create(lease: NewLease): Promise<boolean> {
    const item = itemFromNewLease(lease);
    return conditional(() =>
      this.ddb.send(new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(leaseKey)' })),
    );
  }

  /**
   * Take on `leaseCounter = :n`; a change of holder counts in ownerSwitchesSinceCheckpoint. A
   * pending handoff is ended (REMOVE checkpointOwner, as the Java KCL 3.x's takeLease does), and so
   * is an earlier version's handoffTo. `anchor` (epoch ms), for a LATEST or AT_TIMESTAMP
   * checkpoint, is written as checkpointTimestamp unless one is there.
   */
  take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean> {
    const switching = holderOf(lease) !== owner;
    const set = `SET leaseOwner = :me, leaseCounter = :next${anchor === undefined ? '' : ', checkpointTimestamp = if_not_exists(checkpointTimestamp, :ts)'}`;
    return this.update(lease.leaseKey, 'leaseCounter = :n', `${set} REMOVE checkpointOwner, handoffTo${switching ? ' ADD ownerSwitchesSinceCheckpoint :one' : ''}`, {
      ':n': { N: String(lease.leaseCounter) },
      ':next': { N: String(lease.leaseCounter + 1) },
      ':me': { S: owner },
      ...(switching ? { ':one': { N: '1' } } : {}),
      ...(anchor === undefined ? {} : { ':ts': { N: String(Math.floor(anchor)) } }),
    });
  }

  /** Renew on `leaseCounter = :n` by the holder (HOLDER_IS_ME). */
  renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite> {
    return this.ownerUpdate(leaseKey, owner, `leaseCounter = :n AND ${HOLDER_IS_ME}`, 'SET leaseCounter = :next', {
      ':n': { N: String(counter) },
      ':next': { N: String(counter + 1) },
      ':me': { S: owner },
    });
  }

  /**
   * Checkpoint on `leaseCounter = :n` by the holder; it renews the lease too, as the Java KCL's
   * does. A concrete checkpoint makes the start anchor (checkpointTimestamp) useless: removed.
   */
  checkpoint(
    leaseKey: string,
    counter: number,
    owner: string,
    checkpoint: string,
    subSequenceNumber: number,
    childShardIds: readonly string[] = [],
  ): Promise<false | HeldWrite> {
    return this.ownerUpdate(
      leaseKey,
      owner,
      `leaseCounter = :n AND ${HOLDER_IS_ME}`,
      'SET leaseCounter = :next, checkpoint = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero REMOVE checkpointTimestamp' +
        (childShardIds.length > 0 ? ' ADD childShardIds :children' : ''),
      {
        ':n': { N: String(counter) },
        ':next': { N: String(counter + 1) },
        ':me': { S: owner },
        ':cp': { S: checkpoint },
        ':sub': { N: String(subSequenceNumber) },
        ':zero': { N: '0' },
        ...(childShardIds.length > 0 ? { ':children': { SS: [...childShardIds] } } : {}),
      },
    );
  }

  /**
   * Records a shard's children as ListShards shows them. Metadata only: leaseCounter is left
   * alone, so it never fences out the owner's renewals or checkpoints.
   */
  addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    return this.update(leaseKey, 'attribute_exists(leaseKey)', 'ADD childShardIds :children', { ':children': { SS: [...childShardIds] } });
  }

  /**
   * As the Java KCL 3.x's evictLease: a plain owner (`leaseOwner = :me`, no handoff pending)
   * frees the lease (REMOVE leaseOwner); a checkpointOwner removes checkpointOwner, so the lease
   * goes to the worker it was being handed to. Counter + 1 either way.
   */
  async release(leaseKey: string, owner: string): Promise<boolean> {
    const values = { ':me': { S: owner }, ':one': { N: '1' } };
    return (
      (await this.update(leaseKey, 'leaseOwner = :me AND attribute_not_exists(checkpointOwner)', 'REMOVE leaseOwner, handoffTo ADD leaseCounter :one', values)) ||
      (await this.update(leaseKey, 'checkpointOwner = :me AND attribute_exists(leaseOwner)', 'REMOVE checkpointOwner, handoffTo ADD leaseCounter :one, ownerSwitchesSinceCheckpoint :one', values))
    );
  }

  /** The Java KCL 3.x's initiateGracefulLeaseHandoff: its condition and update, exactly. */
  initiateHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'attribute_exists(leaseKey) AND leaseOwner = :owner AND attribute_not_exists(checkpointOwner)', 'SET leaseOwner = :to, checkpointOwner = :owner', {
      ':owner': { S: owner },
      ':to': { S: to },
    });
  }

  /** The Java KCL 3.x's assignLease as its old owner calls it after shutdown, plus owner switches + 1. */
  completeHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(
      leaseKey,
      'attribute_exists(leaseKey) AND leaseOwner = :to AND checkpointOwner = :me',
      'REMOVE checkpointOwner, handoffTo ADD leaseCounter :one, ownerSwitchesSinceCheckpoint :one',
      { ':me': { S: owner }, ':to': { S: to }, ':one': { N: '1' } },
    );
  }

  /** Back to the owner that never let go; counter untouched, so its renewals keep holding. */
  cancelHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseOwner = :to AND checkpointOwner = :owner', 'SET leaseOwner = :owner REMOVE checkpointOwner, handoffTo', {
      ':owner': { S: owner },
      ':to': { S: to },
    });
  }
}
