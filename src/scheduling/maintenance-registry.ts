import { Injectable } from '@nestjs/common';

/** The maintenance queue: scheduled clean-up jobs, run by whichever worker process takes them. */
export const MAINTENANCE_QUEUE = 'maintenance';

export interface MaintenanceTask {
  /** Job name; also the job scheduler id. */
  name: string;
  everyMs: number;
  run(): Promise<Record<string, unknown>>;
}

/** Modules register their scheduled tasks here; the maintenance processor runs them by job name. */
@Injectable()
export class MaintenanceRegistry {
  private readonly tasks = new Map<string, MaintenanceTask>();

  register(task: MaintenanceTask): void {
    this.tasks.set(task.name, task);
  }

  get(name: string): MaintenanceTask | undefined {
    return this.tasks.get(name);
  }

  all(): MaintenanceTask[] {
    return [...this.tasks.values()];
  }
}
