import { Module } from '@nestjs/common';
import { Destinations } from './destinations.js';

/** Where deliveries go: the senders per URL scheme and the SSRF guard they all apply. */
@Module({ providers: [Destinations], exports: [Destinations] })
export class DestinationsModule {}
