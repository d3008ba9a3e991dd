import { Injectable } from '@nestjs/common';
import type { Delivery } from './delivery.entity.js';

/** Called with each delivery state the log commits (metrics, logs); must not throw. */
export type DeliveryRecordListener = (row: Delivery) => void;

/** The seam through which other modules observe deliveries as they are recorded, in the process that makes them. */
@Injectable()
export class DeliveryOutcomes {
  private readonly listeners: DeliveryRecordListener[] = [];

  onRecord(listener: DeliveryRecordListener): void {
    this.listeners.push(listener);
  }

  recorded(row: Delivery): void {
    for (const listener of this.listeners) listener(row);
  }
}
