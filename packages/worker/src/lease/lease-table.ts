/**
 * The lease table, in the Java KCL's layout so that a table it wrote is usable as is:
 * hash key `leaseKey` (shard id); leaseOwner S, leaseCounter N, checkpoint S,
 * checkpointSubSequenceNumber N, ownerSwitchesSinceCheckpoint N, parentShardId SS,
 * childShardIds SS, startingHashKey/endingHashKey S. Empty sets and strings are never written.
 * Every write is conditional; a failed condition is reported as `false`, not thrown.
 * The DynamoDB adapter of LeaseStore (lease.ts holds the semantics in domain terms).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbSdk } from '../sdk.js';
import { SHARD_END, type HeldWrite, type LeaseSnapshot, type LeaseStore, type NewLease, type UnreadableRow } from './lease.js';

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

type Item = Record<string, AttributeValue>;

const isNumber = (v: AttributeValue | undefined) => v?.N !== undefined && Number.isFinite(Number(v.N));

/**
 * Why a row cannot be used as a lease, or undefined when it can. Such a row can never be taken
 * (a take's condition on leaseCounter would never hold), so it is reported and left alone rather
 * than read with made-up defaults. Optional attributes may be absent, but not of another type.
 */
export function leaseRowProblem(item: Item): string | undefined {
  if (!item.leaseKey?.S) return 'leaseKey is missing or not a string';
  if (!item.leaseCounter) return 'leaseCounter is missing';
  if (!isNumber(item.leaseCounter)) return 'leaseCounter is not a number';
  for (const key of ['checkpoint', 'leaseOwner', 'startingHashKey', 'endingHashKey', 'handoffTo']) {
    if (item[key] && item[key].S === undefined) return `${key} is not a string`;
  }
  for (const key of ['checkpointSubSequenceNumber', 'ownerSwitchesSinceCheckpoint']) {
    if (item[key] && !isNumber(item[key])) return `${key} is not a number`;
  }
  for (const key of ['parentShardId', 'childShardIds']) {
    if (item[key] && item[key].SS === undefined) return `${key} is not a string set`;
  }
  return undefined;
}

const canonical = (value: unknown): string =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? `{${Object.keys(value)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
        .join(',')}}`
    : JSON.stringify(value);

function leaseFromItem(item: Item): LeaseSnapshot {
  return {
    leaseKey: item.leaseKey?.S ?? '',
    leaseOwner: item.leaseOwner?.S || undefined,
    leaseCounter: Number(item.leaseCounter?.N ?? 0),
    checkpoint: item.checkpoint?.S ?? 'TRIM_HORIZON',
    checkpointSubSequenceNumber: Number(item.checkpointSubSequenceNumber?.N ?? 0),
    ownerSwitchesSinceCheckpoint: Number(item.ownerSwitchesSinceCheckpoint?.N ?? 0),
    parentShardIds: item.parentShardId?.SS ?? [],
    childShardIds: item.childShardIds?.SS ?? [],
    startingHashKey: item.startingHashKey?.S || undefined,
    endingHashKey: item.endingHashKey?.S || undefined,
    ...(item.handoffTo?.S ? { handoffTo: item.handoffTo.S } : {}),
    ...(item.checkpointTimestamp?.N ? { checkpointTimestamp: Number(item.checkpointTimestamp.N) } : {}),
  };
}

function itemFromNewLease(lease: NewLease): Item {
  const item: Item = {
    leaseKey: { S: lease.leaseKey },
    leaseCounter: { N: '0' },
    checkpoint: { S: lease.checkpoint },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
  };
  if (lease.parentShardIds.length > 0) item.parentShardId = { SS: [...lease.parentShardIds] };
  if (lease.childShardIds?.length) item.childShardIds = { SS: [...lease.childShardIds] };
  if (lease.startingHashKey) item.startingHashKey = { S: lease.startingHashKey };
  if (lease.endingHashKey) item.endingHashKey = { S: lease.endingHashKey };
  return item;
}

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

  /** An owner's write: it reads back the row's handoffTo, so a handoff request is seen without extra reads. */
  private async ownerUpdate(leaseKey: string, condition: string, expression: string, values: Item): Promise<false | HeldWrite> {
    let handoffTo: string | undefined;
    const ok = await conditional(async () => {
      const out = await this.send(leaseKey, condition, expression, values, true);
      handoffTo = out.Attributes?.handoffTo?.S || undefined;
    });
    return ok && { handoffTo };
  }

  private send(leaseKey: string, condition: string, expression: string, values: Item, returnHandoff = false) {
    return this.ddb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { leaseKey: { S: leaseKey } },
        ConditionExpression: condition,
        UpdateExpression: expression,
        ExpressionAttributeValues: values,
        ...(returnHandoff ? { ReturnValues: 'ALL_NEW' as const } : {}),
      }),
    );
  }

  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** Creates the table (PAY_PER_REQUEST) if it is missing and waits until it is ACTIVE. */
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
            AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
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

  /** The whole table: readable leases, and the rows that are not (see leaseRowProblem). */
  async scanRows(): Promise<{ leases: LeaseSnapshot[]; unreadable: UnreadableRow[] }> {
    const leases: LeaseSnapshot[] = [];
    const unreadable: UnreadableRow[] = [];
    let start: Item | undefined;
    do {
      const page = await this.ddb.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
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
    return conditional(() =>
      this.ddb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          ConditionExpression: 'checkpoint = :end',
          ExpressionAttributeValues: { ':end': { S: SHARD_END } },
        }),
      ),
    );
  }

  async get(leaseKey: string): Promise<LeaseSnapshot | undefined> {
    const { Item } = await this.ddb.send(
      new GetItemCommand({ TableName: this.tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }),
    );
    return Item ? leaseFromItem(Item) : undefined;
  }

  /** `attribute_not_exists(leaseKey)`: losing the race to another worker is fine. */
  create(lease: NewLease): Promise<boolean> {
    const item = itemFromNewLease(lease);
    return conditional(() =>
      this.ddb.send(new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(leaseKey)' })),
    );
  }

  /**
   * Take on `leaseCounter = :n`; a change of owner counts in ownerSwitchesSinceCheckpoint. A
   * pending handoff request is settled by the take, whoever asked. `anchor` (epoch ms), for a
   * LATEST or AT_TIMESTAMP checkpoint, is written as checkpointTimestamp unless one is there.
   */
  take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean> {
    const switching = lease.leaseOwner !== owner;
    const set = `SET leaseOwner = :me, leaseCounter = :next${anchor === undefined ? '' : ', checkpointTimestamp = if_not_exists(checkpointTimestamp, :ts)'}`;
    return this.update(lease.leaseKey, 'leaseCounter = :n', `${set} REMOVE handoffTo${switching ? ' ADD ownerSwitchesSinceCheckpoint :one' : ''}`, {
      ':n': { N: String(lease.leaseCounter) },
      ':next': { N: String(lease.leaseCounter + 1) },
      ':me': { S: owner },
      ...(switching ? { ':one': { N: '1' } } : {}),
      ...(anchor === undefined ? {} : { ':ts': { N: String(Math.floor(anchor)) } }),
    });
  }

  /** Renew on `leaseCounter = :n AND leaseOwner = :me`. */
  renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite> {
    return this.ownerUpdate(leaseKey, 'leaseCounter = :n AND leaseOwner = :me', 'SET leaseCounter = :next', {
      ':n': { N: String(counter) },
      ':next': { N: String(counter + 1) },
      ':me': { S: owner },
    });
  }

  /**
   * Checkpoint on `leaseCounter = :n AND leaseOwner = :me`; it renews the lease too, as the Java
   * KCL's does. A concrete checkpoint makes the start anchor (checkpointTimestamp) useless: removed.
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
      'leaseCounter = :n AND leaseOwner = :me',
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

  /** Release on `leaseOwner = :me`: REMOVE leaseOwner so any worker may take it at once. */
  release(leaseKey: string, owner: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseOwner = :me', 'REMOVE leaseOwner, handoffTo ADD leaseCounter :one', { ':me': { S: owner }, ':one': { N: '1' } });
  }

  /**
   * A worker below its target asks the owner for a lease. Metadata only, like addChildShardIds:
   * leaseCounter is left alone, so the owner keeps renewing and checkpointing until it has
   * drained the shard; one request at a time per lease.
   */
  requestHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseOwner = :owner AND attribute_not_exists(handoffTo)', 'SET handoffTo = :to', {
      ':owner': { S: owner },
      ':to': { S: to },
    });
  }

  /** A requester that stops takes its request back, so the lease is not handed to a worker that is gone. */
  withdrawHandoff(leaseKey: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'handoffTo = :to', 'REMOVE handoffTo', { ':to': { S: to } });
  }

  /**
   * The owner, after its final checkpoint, gives the lease straight to the requester on
   * `leaseOwner = :me AND handoffTo = :to`: never free in between, so no third worker takes it;
   * false when the request was withdrawn meanwhile.
   */
  handoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseOwner = :me AND handoffTo = :to', 'SET leaseOwner = :to REMOVE handoffTo ADD leaseCounter :one, ownerSwitchesSinceCheckpoint :one', {
      ':me': { S: owner },
      ':to': { S: to },
      ':one': { N: '1' },
    });
  }
}
