import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager, EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import {
  decryptSecret,
  encryptSecret,
  SecretKeyError,
  secretKeyIdOf,
  secretTransformer,
  type SecretKeyRing,
} from '../common/secret-box.js';

const BATCH = 500;

/**
 * The startup pass over every column that uses `secretTransformer`, in every entity: opens each stored value with
 * this configuration's keys (failing start-up, with the row named, when one cannot be opened) and re-seals with the
 * current key what is plaintext from before encryption or sealed with a previous key. Batched by primary key and
 * idempotent; each rewrite is a compare-and-set on the old stored value, so a concurrent change (a secret rotation
 * through another process) is never overwritten with a stale one. This is not a migration because migrations run
 * inside TypeORM without the configuration, hence without the keys.
 */
export async function resealSecretColumns(ds: DataSource, ring: SecretKeyRing, keysLabel: string): Promise<number> {
  let resealed = 0;
  for (const metadata of ds.entityMetadatas) {
    const columns = metadata.columns.filter((c) => [c.transformer].flat().includes(secretTransformer));
    if (columns.length) resealed += await resealEntity(ds, metadata, columns, ring, keysLabel);
  }
  if (resealed) new Logger('Secrets').log(`re-sealed ${resealed} stored secret(s) with key ${ring.current.id}`);
  return resealed;
}

async function resealEntity(
  ds: DataSource,
  metadata: EntityMetadata,
  columns: ColumnMetadata[],
  ring: SecretKeyRing,
  keysLabel: string,
): Promise<number> {
  if (metadata.primaryColumns.length !== 1) throw new Error(`${metadata.tableName}: secret columns need a single-column primary key`);
  const pk = metadata.primaryColumns[0];
  let resealed = 0;
  for (let after: string | undefined; ;) {
    const qb = ds.createQueryBuilder(metadata.target, 'r').select(`r.${pk.propertyPath}`, 'pk');
    columns.forEach((c, i) => qb.addSelect(`r.${c.propertyPath}`, `c${i}`));
    if (after !== undefined) qb.where(`r.${pk.propertyPath} > :after`, { after });
    // Raw rows: the transformer is not applied, so these are the stored values.
    const rows = await qb.orderBy(`r.${pk.propertyPath}`, 'ASC').limit(BATCH).getRawMany<Record<string, string | null>>();
    if (!rows.length) return resealed;
    const rewrites: { id: string; column: ColumnMetadata; stored: string; sealed: string }[] = [];
    for (const row of rows) {
      columns.forEach((column, i) => {
        const stored = row[`c${i}`];
        if (stored == null) return;
        let plaintext: string;
        try {
          plaintext = decryptSecret(stored, ring);
        } catch (err) {
          throw new SecretKeyError(
            `stored secrets cannot be opened: ${metadata.tableName}.${column.databaseName} of ${row.pk} is ${(err as Error).message}; ` +
              `${keysLabel}. Start with the key that sealed them as SECRETS_KEY (or as SECRETS_KEY_PREVIOUS while rotating).`,
          );
        }
        if (secretKeyIdOf(stored) !== ring.current.id)
          rewrites.push({ id: String(row.pk), column, stored, sealed: encryptSecret(plaintext, ring) });
      });
    }
    if (rewrites.length) {
      resealed += await ds.transaction(async (m) => {
        let n = 0;
        for (const r of rewrites) n += await compareAndSet(m, metadata, pk, r);
        return n;
      });
    }
    after = String(rows[rows.length - 1].pk);
  }
}

async function compareAndSet(
  m: EntityManager,
  metadata: EntityMetadata,
  pk: ColumnMetadata,
  r: { id: string; column: ColumnMetadata; stored: string; sealed: string },
): Promise<number> {
  const col = (c: ColumnMetadata) => m.connection.driver.escape(c.databaseName);
  const res = await m
    .createQueryBuilder()
    .update(metadata.target)
    // A function value is written as raw SQL: the sealed value must not pass through the transformer again.
    .set({ [r.column.propertyName]: () => ':sealed' })
    .where(`${col(pk)} = :id AND ${col(r.column)} = :stored`, { id: r.id, stored: r.stored, sealed: r.sealed })
    .execute();
  return res.affected ?? 0;
}
