import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { BulkInserter, type SqlValue } from '../database/bulk-insert.js';
import { RedisService } from '../redis/redis.service.js';
import type { LoggedEvent } from './envelope.js';
import { EventLog } from './event-log.js';
import { LogConsumer } from './log-consumer.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, 256) : null);

const COLUMNS = [
  ['id', 'text'],
  ['organization_id', 'text'],
  ['type', 'text'],
  ['companion_id', 'text'],
  ['user_id', 'text'],
  ['timestamp', 'text'],
  ['data', 'text'],
] as const;

function toRow(e: LoggedEvent): SqlValue[] {
  return [e.id, e.organizationId, e.type, str(e.data.companionId), str(e.data.userId), e.timestamp, JSON.stringify(e.data)];
}

/** Copies the event log into SQL in batches (one multi-row INSERT per read); duplicates from re-delivery are ignored. */
@Injectable()
export class HistoryWriter implements OnModuleInit, OnApplicationShutdown {
  private consumer!: LogConsumer;
  private inserter!: BulkInserter;

  constructor(
    private readonly redis: RedisService,
    private readonly log: EventLog,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  onModuleInit(): void {
    this.inserter = new BulkInserter(this.ds, 'events', COLUMNS);
    this.consumer = new LogConsumer((p) => this.redis.connect(`history-writer:p${p}`), this.log.streamKeys, {
      group: 'history',
      batchSize: 1000,
      handle: (batch) => this.write(batch),
    });
    this.consumer.start();
  }

  get written(): number {
    return this.consumer.processed;
  }

  private async write(batch: LoggedEvent[]): Promise<void> {
    await this.inserter.insert(batch.map(toRow));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
