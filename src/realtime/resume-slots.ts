import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

export type ReleaseSlot = () => void;

/** A resume that could not get a slot in time (or found the queue full). */
export class ResumeBusyError extends ApiError {
  constructor(
    readonly retryAfterSeconds: number,
    why: string,
  ) {
    const message = `Too many streams are resuming on this server (${why}); reconnect with the same Last-Event-ID after ${retryAfterSeconds} s`;
    super(503, 'resume_busy', message, [], { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * Per-process cap on concurrent stream resumes (Last-Event-ID replays read the log and SQL history page by page):
 * MAX_CONCURRENT_RESUMES run at once, up to RESUME_QUEUE_MAX more wait (first come, first served) at most
 * RESUME_WAIT_MS each; anything beyond is refused with ResumeBusyError (SSE: 503 before the stream opens, WebSocket
 * and Socket.IO: an error naming `resume_busy`, then close).
 */
@Injectable()
export class ResumeSlots {
  private active = 0;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(): Promise<ReleaseSlot> {
    const { maxConcurrentResumes, resumeQueueMax, resumeWaitMs } = this.config;
    const retryAfter = Math.max(1, Math.ceil(resumeWaitMs / 1000));
    if (this.active < maxConcurrentResumes) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= resumeQueueMax)
      return Promise.reject(new ResumeBusyError(retryAfter, `${this.active} running, ${this.waiting.length} waiting`));
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const entry = {
        grant: () => {
          clearTimeout(timer);
          resolve(this.releaser());
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new ResumeBusyError(retryAfter, `waited ${resumeWaitMs} ms for a slot`));
      }, resumeWaitMs);
      this.waiting.push(entry);
    });
  }

  /** Hands the slot to the next waiter (the count stays) or frees it; idempotent. */
  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.active--;
    };
  }
}
