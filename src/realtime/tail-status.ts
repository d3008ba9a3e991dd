import { Injectable } from '@nestjs/common';

/** Whether this process tails the event log for its live streams, and how the tail is doing (health). */
@Injectable()
export class TailStatus {
  /** False in processes that serve no live streams (ROLE=worker). */
  running = false;
  lastError: string | null = null;
}
