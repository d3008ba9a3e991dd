import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { RedisService } from '../redis/redis.service.js';
import { EventRecord } from './event-record.entity.js';
import type { LoggedEvent } from './envelope.js';
import { EventLog } from './event-log.js';
import { LogConsumer } from './log-consumer.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, 256) : null);

export function toRecord(e: LoggedEvent): EventRecord {
  return Object.assign(new EventRecord(), {
    id: e.id,
    organizationId: e.organizationId,
    type: e.type,
    companionId: str(e.data.companionId),
    userId: str(e.data.userId),
    timestamp: e.timestamp,
    data: JSON.stringify(e.data),
  });
}

/** Copies the event log into SQL in batches (one multi-row INSERT per read); duplicates from re-delivery are ignored. */
@Injectable()
export class HistoryWriter implements OnModuleInit, OnApplicationShutdown {
  private consumer!: LogConsumer;

  constructor(
    private readonly redis: RedisService,
    private readonly log: EventLog,
    @InjectRepository(EventRecord) private readonly events: Repository<EventRecord>,
  ) {}

  onModuleInit(): void {
    this.consumer = new LogConsumer(this.redis.connect('history-writer'), this.log.streamKey, {
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
    await this.events.createQueryBuilder().insert().into(EventRecord).values(batch.map(toRecord)).orIgnore().execute();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
