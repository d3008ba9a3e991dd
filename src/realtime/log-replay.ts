import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { eventIdFromStreamId } from '../common/ids.js';
import { EventLog } from '../events/event-log.js';
import { HistoryService } from '../events/history.service.js';
import { compareStreamIds } from '../common/stream-ids.js';
import { FanoutEvent } from './fanout-event.js';

const PAGE = 1000;

/** Reads what a reconnecting client missed: SQL history for what the Redis Stream no longer retains, then the stream. */
@Injectable()
export class LogReplay {
  constructor(
    private readonly log: EventLog,
    private readonly history: HistoryService,
  ) {}

  /**
   * A resume point newer than anything in the organization's partition was never issued by us: 400 rather than a
   * silent empty replay.
   */
  async assertKnown(organizationId: string, afterStreamId: string): Promise<void> {
    const partition = this.log.partitionOf(organizationId);
    if (compareStreamIds(afterStreamId, await this.log.lastStreamId(partition)) > 0) {
      throw new ApiError(
        400,
        'unknown_last_event_id',
        `Last-Event-ID ${eventIdFromStreamId(afterStreamId, partition)} is newer than any event in the log`,
      );
    }
  }

  /** The organization's events in (after, upTo] of its partition, oldest first, page by page. */
  async *pages(organizationId: string, afterStreamId: string, upToStreamId: string): AsyncGenerator<FanoutEvent[]> {
    if (compareStreamIds(afterStreamId, upToStreamId) >= 0) return;
    const partition = this.log.partitionOf(organizationId);
    const oldest = await this.log.oldestStreamId(partition);
    if (oldest === null || compareStreamIds(afterStreamId, oldest) < 0) {
      yield* this.fromHistory(organizationId, partition, afterStreamId, upToStreamId, oldest);
    }
    let cursor = afterStreamId;
    for (;;) {
      // Only this organization's entries are parsed; the others are skipped by their organization field.
      const { events, scanned, last } = await this.log.readAfterFor(organizationId, cursor, PAGE);
      const page: FanoutEvent[] = [];
      let done = scanned < PAGE || last === null || compareStreamIds(last, upToStreamId) >= 0;
      for (const e of events) {
        if (compareStreamIds(e.streamId, upToStreamId) > 0) {
          done = true;
          break;
        }
        page.push(new FanoutEvent(e));
      }
      if (page.length) yield page;
      if (done || last === null) return;
      cursor = last;
    }
  }

  /** SQL rows in (after, upTo] older than the stream's oldest entry (the stream replays from there on). */
  private async *fromHistory(
    organizationId: string,
    partition: number,
    afterStreamId: string,
    upToStreamId: string,
    streamStart: string | null,
  ): AsyncGenerator<FanoutEvent[]> {
    const toId = eventIdFromStreamId(upToStreamId, partition);
    let cursor = eventIdFromStreamId(afterStreamId, partition);
    for (;;) {
      const rows = await this.history.after(organizationId, cursor, PAGE, toId);
      const page: FanoutEvent[] = [];
      for (const row of rows) {
        const ev = FanoutEvent.fromEnvelope(row);
        if (streamStart !== null && compareStreamIds(ev.streamId, streamStart) >= 0) {
          if (page.length) yield page;
          return;
        }
        page.push(ev);
      }
      if (page.length) yield page;
      if (rows.length < PAGE) return;
      cursor = rows[rows.length - 1].id;
    }
  }
}
