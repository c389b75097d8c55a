/**
 * The lease-table writes a Java KCL worker makes, as DynamoDB requests with the conditions and
 * updates of its source (awslabs/amazon-kinesis-client, DynamoDBLeaseRefresher and
 * DynamoDBLeaseSerializer; docs/java-kcl.md lists them), so a test can play a Java worker
 * sharing a table with this library. Each answers true when its condition held.
 */
import { CreateTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createStream, uniqueName, type LocalAws } from '@kinesis-client/examples/testing';

type Item = Record<string, AttributeValue>;

/** A lease table as the Java KCL creates it (key schema only; a 3.x GSI comes later, or never), once ACTIVE. */
export async function createJavaTable(aws: LocalAws, tableName: string): Promise<void> {
  await aws.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // waits until the table is ACTIVE (it creates nothing on a table that exists)
  await aws.leaseTable(tableName).ensure();
}

export class JavaKclWorker {
  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly tableName: string,
    readonly workerId: string,
  ) {}

  async row(leaseKey: string): Promise<Item | undefined> {
    return (await this.ddb.send(new GetItemCommand({ TableName: this.tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }))).Item;
  }

  private async update(leaseKey: string, condition: string, expression: string, values: Item): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          ConditionExpression: condition,
          UpdateExpression: expression,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** 2.x renewLease: expected leaseCounter only; checkpointOwner is unknown to it. */
  renew2x(leaseKey: string, counter: number): Promise<boolean> {
    return this.update(leaseKey, 'leaseCounter = :n', 'SET leaseCounter = :next', { ':n': { N: String(counter) }, ':next': { N: String(counter + 1) } });
  }

  /**
   * 3.x renewLease: expected leaseCounter and no checkpointOwner; once it has read the row and
   * found a shutdown requested (checkpointOwner = itself, leaseOwner another), leaseCounter only.
   */
  renew3x(leaseKey: string, counter: number, shutdownRequested: boolean): Promise<boolean> {
    return this.update(leaseKey, shutdownRequested ? 'leaseCounter = :n' : 'leaseCounter = :n AND attribute_not_exists(checkpointOwner)', 'SET leaseCounter = :next', {
      ':n': { N: String(counter) },
      ':next': { N: String(counter + 1) },
    });
  }

  /** 3.x takeLease (getDynamoTakeLeaseUpdate + counter): on leaseCounter; owner, counter + 1, checkpointOwner removed. */
  take3x(leaseKey: string, counter: number): Promise<boolean> {
    return this.update(leaseKey, 'leaseCounter = :n', 'SET leaseOwner = :me, leaseCounter = :next REMOVE checkpointOwner ADD ownerSwitchesSinceCheckpoint :one', {
      ':n': { N: String(counter) },
      ':next': { N: String(counter + 1) },
      ':me': { S: this.workerId },
      ':one': { N: '1' },
    });
  }

  /** 3.x updateLease (a checkpoint): expected leaseCounter only; checkpoint fields, counter + 1. */
  checkpoint(leaseKey: string, counter: number, sequenceNumber: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseCounter = :n', 'SET leaseCounter = :next, checkpoint = :cp, checkpointSubSequenceNumber = :zero, ownerSwitchesSinceCheckpoint = :zero', {
      ':n': { N: String(counter) },
      ':next': { N: String(counter + 1) },
      ':cp': { S: sequenceNumber },
      ':zero': { N: '0' },
    });
  }

  /** The 3.x leader's initiateGracefulLeaseHandoff: expected leaseOwner = owner, no checkpointOwner, the row exists; counter untouched. */
  initiateGracefulLeaseHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseOwner = :owner AND attribute_not_exists(checkpointOwner) AND leaseKey = :key', 'SET leaseOwner = :to, checkpointOwner = :owner', {
      ':owner': { S: owner },
      ':to': { S: to },
      ':key': { S: leaseKey },
    });
  }

  /**
   * 3.x assignLease as LeaseGracefulShutdownHandler.attemptLeaseTransfer calls it (the old owner,
   * after shutdown or at its timeout): expected leaseOwner = the next owner and checkpointOwner =
   * itself; checkpointOwner removed, counter + 1 (no owner switch counted: see docs/java-kcl.md).
   */
  transfer(leaseKey: string, to: string): Promise<boolean> {
    return this.update(leaseKey, 'leaseOwner = :to AND checkpointOwner = :me AND leaseKey = :key', 'SET leaseOwner = :to REMOVE checkpointOwner ADD leaseCounter :one', {
      ':to': { S: to },
      ':me': { S: this.workerId },
      ':key': { S: leaseKey },
      ':one': { N: '1' },
    });
  }

  /** Writes a row as the Java KCL writes it (PutItem), e.g. a worker-metrics or coordinator row. */
  async put(item: Item): Promise<void> {
    await this.ddb.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}

/** The stream identifier (`account:stream:epoch`) the multi-stream rows of these tests carry. */
export const javaStreamIdentifier = (stream: string) => `123456789012:${stream}:1765000000`;

/** A lease row of a Java multi-stream application (MultiStreamLease): the identifier in streamName, the shard in shardId. */
export function multiStreamLease(stream: string, shardId: string, owner: string | undefined, checkpoint = 'TRIM_HORIZON'): Item {
  const identifier = javaStreamIdentifier(stream);
  return {
    leaseKey: { S: `${identifier}:${shardId}` },
    ...(owner ? { leaseOwner: { S: owner } } : {}),
    leaseCounter: { N: '7' },
    checkpoint: { S: checkpoint },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    streamName: { S: identifier },
    shardId: { S: shardId },
    entityType: { S: 'LEASE' },
  };
}

/**
 * Two streams of two shards (`orders`, `payments`), a third name that no stream has (`gone`) and
 * an empty lease table, as a Java multi-stream application finds them; `java` writes its rows.
 */
export async function multiStreamApplication(aws: LocalAws, prefix: string) {
  const [orders, payments, gone, app] = ['orders', 'payments', 'gone', 'app'].map((n) => uniqueName(`${prefix}-${n}`)) as [string, string, string, string];
  await createStream(aws.kinesis, orders, 2);
  await createStream(aws.kinesis, payments, 2);
  await aws.dynamodb.send(
    new CreateTableCommand({ TableName: app, AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
  );
  // waits until the table is ACTIVE
  await aws.leaseTable(app).ensure();
  return { orders, payments, gone, app, java: new JavaKclWorker(aws.dynamodb, app, 'java-w1') };
}
