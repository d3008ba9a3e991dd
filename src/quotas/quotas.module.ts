import { Module } from '@nestjs/common';
import { OrganizationLimits } from './organization-limits.js';
import { QuotaGate } from './quota-gate.js';

/** Per-organization quotas and rate limits on publishing (a gate of EventPublisher). */
@Module({ providers: [OrganizationLimits, QuotaGate] })
export class QuotasModule {}
