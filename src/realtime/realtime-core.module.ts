import { Global, Module } from '@nestjs/common';
import { ConnectionCounter } from './connection-counter.js';

/** What other modules need from real-time without depending on its transports. */
@Global()
@Module({ providers: [ConnectionCounter], exports: [ConnectionCounter] })
export class RealtimeCoreModule {}
