import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { MAINTENANCE_QUEUE, MaintenanceRegistry } from '../src/scheduling/maintenance-registry.js';

@Processor(MAINTENANCE_QUEUE)
export class MaintenanceProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('Maintenance');

  constructor(
    private readonly registry: MaintenanceRegistry,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
  ) {
    super();
  }

  /** Job schedulers are upserts: every worker process may call this, Redis keeps one schedule per task. */
  async onApplicationBootstrap(): Promise<void> {
    for (const task of this.registry.all()) {
      await this.queue.upsertJobScheduler(
        task.name,
        { every: task.everyMs },
        { name: task.name, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    }
  }

  async process(job: Job): Promise<Record<string, unknown>> {
    const task = this.registry.get(job.name);
    if (!task) throw new Error(`unknown maintenance task ${job.name}`);
    const result = await task.run();
    this.logger.log(`${job.name}: ${JSON.stringify(result)}`);
    return result;
  }
}
