import path from 'node:path';
import { z } from 'zod';
import { decodeSecretsKey } from '../common/secret-box.js';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

const KEY_FORMAT = '32 bytes as base64 or 64 hex characters (e.g. `openssl rand -base64 32`)';
const secretsKey = z.string().refine((s) => decodeSecretsKey(s) !== null, `must be ${KEY_FORMAT}`);

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  REDIS_URL: z.string().url().optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'must be host:port[,host:port…]')
    .optional(),
  REDIS_MIN_REPLICAS_ACK: z.coerce.number().int().min(0).max(16).default(0),
  REDIS_WAIT_TIMEOUT_MS: positiveInt.max(60_000).default(1_000),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or postgres://…')
    .default('sqlite:.data/humana-events.sqlite'),
  STARTUP_TIMEOUT_MS: positiveInt.default(30_000),
  BOOTSTRAP_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ALLOW_PRIVATE_WEBHOOK_URLS: bool.optional(),
  HEARTBEAT_INTERVAL_MS: positiveInt.default(30_000),
  DLQ_RETENTION_DAYS: positiveInt.default(30),
  EVENT_RETENTION_DAYS: positiveInt.default(7),
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  MAX_BATCH_BODY_BYTES: positiveInt.default(5 * 1024 * 1024),
  PAGE_MAX_BYTES: positiveInt.min(64 * 1024).default(4 * 1024 * 1024),
  REPLAY_RATE_PER_MINUTE: positiveInt.default(10),
  REPLAY_MAX_EVENTS: positiveInt.max(100_000).default(10_000),
  MAX_CONCURRENT_RESUMES: positiveInt.default(64),
  RESUME_QUEUE_MAX: z.coerce.number().int().min(0).default(256),
  RESUME_WAIT_MS: positiveInt.default(10_000),
  WEBHOOK_INDEX_REFRESH_MS: positiveInt.min(100).default(2_000),
  WEBHOOK_INDEX_PUBSUB: bool.default(true),
  EVENT_LOG_MAXLEN: positiveInt.default(1_000_000),
  EVENT_LOG_RETENTION_MINUTES: positiveInt.default(15),
  EVENT_LOG_PARTITIONS: positiveInt.max(256).default(1),
  EVENT_LOG_PARTITIONS_FORCE: bool.default(false),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, 'letters, digits, ":", "_" and "-" only')
    .default('humana'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_CONNECTIONS_PER_ORG: positiveInt.default(10_000),
  STREAM_BUFFER_BYTES: positiveInt.default(1024 * 1024),
  WEBHOOK_CONCURRENCY: positiveInt.max(2000).default(32),
  WORKER_LANE: z.enum(['all', 'main', 'overflow']).default('all'),
  PROCESS_NICE: z.coerce.number().int().min(0).max(19).optional(),
  WEBHOOK_STALL_MS: positiveInt.min(1000).default(30_000),
  DLQ_PURGE_INTERVAL_MS: positiveInt.min(100).default(3600_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('humana-events'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PUBLIC_URL: z.string().url().optional(),
  PERF_P95_THRESHOLD_MS: positiveInt.default(5_000),
  PERF_ERROR_RATE_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.1),
  PERF_RECOVERY_RATIO: z.coerce.number().gt(0).max(1).default(0.8),
  PERF_WINDOW_MS: positiveInt.default(300_000),
  PERF_CHECK_INTERVAL_MS: positiveInt.default(60_000),
  PERF_MIN_SAMPLES: positiveInt.default(20),
  SECRETS_KEY: secretsKey.optional(),
  SECRETS_KEY_PREVIOUS: secretsKey.optional(),
  SECRETS_KEY_FILE: z.string().optional(),
  TRANSFORM_TIMEOUT_MS: positiveInt.min(10).max(10_000).default(100),
  TRANSFORM_MAX_OUTPUT_BYTES: positiveInt
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  TRANSFORM_THREADS: positiveInt.max(16).default(2),
  TRANSFORM_QUEUE_MAX: positiveInt.default(2000),
});

export type Role = 'api' | 'worker' | 'all';
export type WorkerLane = 'all' | 'main' | 'overflow';
/** An overflow-lane worker yields the CPU to every other process (API, main lane, Redis) unless PROCESS_NICE says otherwise. */
const OVERFLOW_NICE = 10;

export interface AppConfig {
  nodeEnv: string;
  port: number;
  host: string;
  role: Role;
  /** Unset means "auto": resolved by resolveRedis() before the app starts (never in cluster mode). */
  redisUrl?: string;
  /**
   * Redis Cluster seed nodes (REDIS_CLUSTER_NODES, or the host of a REDIS_URL ending in `?cluster=true`); unset means one
   * Redis server. Credentials and TLS still come from REDIS_URL when it is set.
   */
  redisCluster?: { host: string; port: number }[];
  /** A publish answers 202 only once `WAIT` saw this many replicas acknowledge the append (0: no wait). */
  redisMinReplicasAck: number;
  /** How long a publish waits for those replicas before answering 503 replication_timeout. */
  redisWaitTimeoutMs: number;
  databaseUrl: string;
  /** Total time start-up waits for Redis and for the database (each) before it exits non-zero. */
  startupTimeoutMs: number;
  bootstrapApiKey?: string;
  adminToken?: string;
  allowPrivateWebhookUrls: boolean;
  heartbeatIntervalMs: number;
  dlqRetentionDays: number;
  eventRetentionDays: number;
  /** Request body limit of every JSON route except the batch publish (413 above it). */
  maxBodyBytes: number;
  /** Request body limit of POST /api/v1/events/batch (413 above it). */
  maxBatchBodyBytes: number;
  /** History and DLQ pages stop adding items once their serialized JSON reaches this many bytes (a shorter page with nextCursor). */
  pageMaxBytes: number;
  /** Range replays plus bulk DLQ retries one organization may start per minute (429 with Retry-After above it). */
  replayRatePerMinute: number;
  /** Events one range replay or bulk DLQ retry enqueues at most (the answer says `truncated`). */
  replayMaxEvents: number;
  /** Stream resumes (Last-Event-ID replays) one API process runs at once; more wait in a bounded queue. */
  maxConcurrentResumes: number;
  /** Resumes allowed to wait for a slot; beyond it (or after resumeWaitMs) the stream is refused with 503 resume_busy. */
  resumeQueueMax: number;
  resumeWaitMs: number;
  /**
   * The webhook index's full version check period, and (test hook) whether it subscribes to change messages at all.
   * The matcher never depends on either: it brings the index to the current version before matching a batch.
   */
  webhookIndex: { refreshMs: number; pubsub: boolean };
  /** Above this many entries, the log is trimmed down to what every consumer group has processed. */
  eventLogMaxLen: number;
  /** Processed entries younger than this stay in the Redis Stream (fast resume); older ones are served from SQL. */
  eventLogRetentionMinutes: number;
  /**
   * Streams the event log is split into, by organization (one organization's events are in one partition); start-up
   * refuses a count other than the one the log was created with unless `force` (EVENT_LOG_PARTITIONS_FORCE).
   */
  eventLogPartitions: { count: number; force: boolean };
  /** Prefix of every Redis key, queue and channel: separates deployments (and test runs) sharing one Redis. */
  redisPrefix: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Live stream connections (SSE + WS + Socket.IO, all instances) per organization unless its limits say otherwise. */
  maxConnectionsPerOrg: number;
  /** Bytes queued for one stream connection before it is cut off as a slow consumer. */
  streamBufferBytes: number;
  /** Delivery jobs one worker process runs at once (each job is one event's fan-out or one retry). */
  webhookConcurrency: number;
  /**
   * Which delivery lane a worker process works (ROLE=worker|all): `main` (every delivery queue but the overflow lane's,
   * and the event log's readers), `overflow` (only fan-out jobs of organizations beyond their fair share), or `all`.
   */
  workerLane: WorkerLane;
  /** The process's CPU scheduling niceness (0–19; `npm start` applies it): by default 10 for an overflow-lane worker, else 0. */
  processNice: number;
  /** How long work held by a dead worker (BullMQ job lock, matcher's pending log entries) waits before another takes it over. */
  webhookStallMs: number;
  dlqPurgeIntervalMs: number;
  /** OTLP/HTTP collector base URL; traces are exported only when set. */
  otlpEndpoint?: string;
  serviceName: string;
  /** The address users reach the app at (links to the console in Slack/PagerDuty bodies); default http://127.0.0.1:PORT. */
  publicUrl: string;
  /** ROLE=worker: serve /metrics on this port (the API serves it on PORT). */
  metricsPort?: number;
  /** `performance.degraded` thresholds; a degraded metric clears below threshold × recoveryRatio (hysteresis). */
  performance: {
    p95ThresholdMs: number;
    errorRateThreshold: number;
    recoveryRatio: number;
    windowMs: number;
    checkIntervalMs: number;
    minSamples: number;
  };
  /** Seals stored secrets and credentials (src/common/secret-box.ts); unset outside production: read from secretsKeyFile. */
  secretsKey?: string;
  /** Still opens values sealed before a key rotation; the startup pass re-seals them with secretsKey. */
  secretsKeyPrevious?: string;
  /** Where the generated development key lives: next to the SQLite file, else `.data/secrets.key`. */
  secretsKeyFile: string;
  /**
   * JSONata transforms (worker threads): wall-clock limit of one evaluation, cap on any string a function builds and on
   * the serialized result, threads per process, evaluations allowed to wait for a thread.
   */
  transforms: { timeoutMs: number; maxBytes: number; threads: number; maxQueue: number };
}

export class ConfigError extends Error {}

/** Parses the environment into a typed config; throws ConfigError with one line naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(defined);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.SECRETS_KEY) {
    throw new ConfigError(`Invalid configuration: SECRETS_KEY: required when NODE_ENV=production, ${KEY_FORMAT}`);
  }
  const redisCluster = clusterNodes(e.REDIS_URL, e.REDIS_CLUSTER_NODES);
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    role: e.ROLE,
    redisUrl: e.REDIS_URL ?? (redisCluster ? `redis://${redisCluster[0].host}:${redisCluster[0].port}?cluster=true` : undefined),
    redisCluster,
    redisMinReplicasAck: e.REDIS_MIN_REPLICAS_ACK,
    redisWaitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS,
    databaseUrl: e.DATABASE_URL,
    startupTimeoutMs: e.STARTUP_TIMEOUT_MS,
    bootstrapApiKey: e.BOOTSTRAP_API_KEY,
    adminToken: e.ADMIN_TOKEN,
    allowPrivateWebhookUrls: e.ALLOW_PRIVATE_WEBHOOK_URLS ?? e.NODE_ENV !== 'production',
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    dlqRetentionDays: e.DLQ_RETENTION_DAYS,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxBatchBodyBytes: e.MAX_BATCH_BODY_BYTES,
    pageMaxBytes: e.PAGE_MAX_BYTES,
    replayRatePerMinute: e.REPLAY_RATE_PER_MINUTE,
    replayMaxEvents: e.REPLAY_MAX_EVENTS,
    maxConcurrentResumes: e.MAX_CONCURRENT_RESUMES,
    resumeQueueMax: e.RESUME_QUEUE_MAX,
    resumeWaitMs: e.RESUME_WAIT_MS,
    webhookIndex: { refreshMs: e.WEBHOOK_INDEX_REFRESH_MS, pubsub: e.WEBHOOK_INDEX_PUBSUB },
    eventLogMaxLen: e.EVENT_LOG_MAXLEN,
    eventLogRetentionMinutes: e.EVENT_LOG_RETENTION_MINUTES,
    eventLogPartitions: { count: e.EVENT_LOG_PARTITIONS, force: e.EVENT_LOG_PARTITIONS_FORCE },
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    maxConnectionsPerOrg: e.MAX_CONNECTIONS_PER_ORG,
    streamBufferBytes: e.STREAM_BUFFER_BYTES,
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
    workerLane: e.WORKER_LANE,
    processNice: e.PROCESS_NICE ?? (e.WORKER_LANE === 'overflow' && e.ROLE === 'worker' ? OVERFLOW_NICE : 0),
    webhookStallMs: e.WEBHOOK_STALL_MS,
    dlqPurgeIntervalMs: e.DLQ_PURGE_INTERVAL_MS,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: e.OTEL_SERVICE_NAME,
    metricsPort: e.METRICS_PORT,
    publicUrl: e.PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`,
    performance: {
      p95ThresholdMs: e.PERF_P95_THRESHOLD_MS,
      errorRateThreshold: e.PERF_ERROR_RATE_THRESHOLD,
      recoveryRatio: e.PERF_RECOVERY_RATIO,
      windowMs: e.PERF_WINDOW_MS,
      checkIntervalMs: e.PERF_CHECK_INTERVAL_MS,
      minSamples: e.PERF_MIN_SAMPLES,
    },
    secretsKey: e.SECRETS_KEY,
    secretsKeyPrevious: e.SECRETS_KEY_PREVIOUS,
    secretsKeyFile: e.SECRETS_KEY_FILE ?? defaultKeyFile(e.DATABASE_URL),
    transforms: {
      timeoutMs: e.TRANSFORM_TIMEOUT_MS,
      maxBytes: e.TRANSFORM_MAX_OUTPUT_BYTES,
      threads: e.TRANSFORM_THREADS,
      maxQueue: e.TRANSFORM_QUEUE_MAX,
    },
  };
}

/** Cluster seed nodes from REDIS_CLUSTER_NODES, else from a REDIS_URL with `?cluster=true`; undefined for one server. */
function clusterNodes(redisUrl: string | undefined, nodes: string | undefined): { host: string; port: number }[] | undefined {
  if (nodes) {
    return nodes.split(',').map((n) => {
      const [host, port] = n.trim().split(':');
      if (Number(port) < 1 || Number(port) > 65535)
        throw new ConfigError(`Invalid configuration: REDIS_CLUSTER_NODES: port ${port} out of range`);
      return { host, port: Number(port) };
    });
  }
  if (!redisUrl) return undefined;
  const url = new URL(redisUrl);
  const flag = url.searchParams.get('cluster');
  if (flag === null || flag === 'false' || flag === '0') return undefined;
  if (flag !== 'true' && flag !== '1') throw new ConfigError('Invalid configuration: REDIS_URL: cluster= must be true or false');
  if (url.pathname.length > 1 && url.pathname !== '/0')
    throw new ConfigError('Invalid configuration: REDIS_URL: a Redis Cluster has only database 0');
  return [{ host: url.hostname, port: Number(url.port || 6379) }];
}

/** The development key sits in the data folder of the database it seals, so apps on different data never share it. */
function defaultKeyFile(databaseUrl: string): string {
  const file = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : ':memory:';
  return path.join(file === ':memory:' ? '.data' : path.dirname(file), 'secrets.key');
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export const hasApi = (c: AppConfig): boolean => c.role !== 'worker';
export const hasWorker = (c: AppConfig): boolean => c.role !== 'api';
/** A worker of the main lane (or of both): it reads the event log (matcher, history writer) and runs the scheduled tasks. */
export const readsEventLog = (c: AppConfig): boolean => hasWorker(c) && c.workerLane !== 'overflow';
