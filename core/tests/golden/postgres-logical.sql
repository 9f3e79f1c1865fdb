-- bookkeeping tables
CREATE TABLE IF NOT EXISTS "_hetsync_tracking" (
    seq bigserial PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    table_name text NOT NULL,
    code jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted boolean NOT NULL DEFAULT false,
    user_name text DEFAULT current_user,
    fields jsonb,
    origin text);
CREATE INDEX IF NOT EXISTS "_hetsync_tracking_by_position" ON "_hetsync_tracking"(xid, seq);
DROP INDEX IF EXISTS "_hetsync_tracking_by_xid";
CREATE TABLE IF NOT EXISTS "_hetsync_peer" (
    peer text PRIMARY KEY,
    watermark bigint NOT NULL,
    within_seq bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS "_hetsync_installed" (
    table_name text PRIMARY KEY,
    installed_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS "_hetsync_meta" (
    name text PRIMARY KEY,
    value text NOT NULL);

-- install: hetsync's objects to drop
SELECT 'FUNCTION', p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND left(p.proname, 9) = '_hetsync_' UNION ALL SELECT 'PUBLISHED', tablename::text FROM pg_publication_tables WHERE pubname = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) AND schemaname = current_schema() ORDER BY 2;

-- install: drop one
DROP FUNCTION IF EXISTS "_hetsync_x" CASCADE;

-- install: layout version
SELECT name, value FROM "_hetsync_meta";
INSERT INTO "_hetsync_meta"(name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- install: columns an older layout lacks
SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(quote_ident($1)) AND attname = $2 AND NOT attisdropped;
ALTER TABLE "_hetsync_peer" ADD COLUMN within_seq BIGINT NOT NULL DEFAULT 0;

-- install: record a table
INSERT INTO "_hetsync_installed"(table_name, installed_at) VALUES ($1, now());

-- is installed
SELECT count(*) FROM (SELECT to_regclass(quote_ident($1)) AS r) AS x WHERE r IS NOT NULL;

-- capture on 变电站表
CREATE OR REPLACE FUNCTION "_hetsync_apply_变电站表"(phase "char") RETURNS bigint[] LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $hetsync$DECLARE n_ins bigint := 0; n_upd bigint := 0; n_del bigint := 0; BEGIN IF phase = 'D' THEN DELETE FROM "变电站表" t USING pg_temp."_hetsync_stage_变电站表" s WHERE s.op = 'D' AND t."单位编号" = s.c0 AND t."年份" = s.c1 AND t."ID" = s.c2; GET DIAGNOSTICS n_del = ROW_COUNT; ELSE UPDATE "变电站表" t SET "名称" = CASE WHEN s.m3 THEN s.c3 ELSE t."名称" END, "容量" = CASE WHEN s.m4 THEN s.c4 ELSE t."容量" END, "备注 ""x""" = CASE WHEN s.m5 THEN s.c5 ELSE t."备注 ""x""" END FROM pg_temp."_hetsync_stage_变电站表" s WHERE s.op = 'U' AND t."单位编号" = s.c0 AND t."年份" = s.c1 AND t."ID" = s.c2 AND ((s.m3 AND t."名称" IS DISTINCT FROM s.c3) OR (s.m4 AND t."容量" IS DISTINCT FROM s.c4) OR (s.m5 AND t."备注 ""x""" IS DISTINCT FROM s.c5)); GET DIAGNOSTICS n_upd = ROW_COUNT; INSERT INTO "变电站表" ("单位编号", "年份", "ID", "名称", "容量", "备注 ""x""") SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5 FROM pg_temp."_hetsync_stage_变电站表" s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM "变电站表" t WHERE t."单位编号" = s.c0 AND t."年份" = s.c1 AND t."ID" = s.c2); GET DIAGNOSTICS n_ins = ROW_COUNT; END IF; RETURN ARRAY[n_ins, n_upd, n_del]; END$hetsync$;
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = n) THEN EXECUTE format('CREATE PUBLICATION %I WITH (publish = ''insert, update, delete'')', n); END IF; EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', '变电站表'); EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I', n, '变电站表'); END $hetsync$;

-- staging of 变电站表
CREATE TEMPORARY TABLE IF NOT EXISTS "_hetsync_stage_变电站表" (c0 varchar(20), c1 integer, c2 integer, c3 varchar(100), c4 numeric(12,4), c5 text, m0 boolean, m1 boolean, m2 boolean, m3 boolean, m4 boolean, m5 boolean, op "char" NOT NULL) ON COMMIT DELETE ROWS;

-- apply phase D of 变电站表
SELECT n[1], n[2], n[3] FROM (SELECT "_hetsync_apply_变电站表"('D') AS n OFFSET 0) AS x;

-- apply phase U of 变电站表
SELECT n[1], n[2], n[3] FROM (SELECT "_hetsync_apply_变电站表"('U') AS n OFFSET 0) AS x;

-- row update of 变电站表
UPDATE "变电站表" SET "名称" = $1, "容量" = $2, "备注 ""x""" = $3 WHERE "单位编号" = $4 AND "年份" = $5 AND "ID" = $6 AND ("名称" IS DISTINCT FROM $7 OR "容量" IS DISTINCT FROM $8 OR "备注 ""x""" IS DISTINCT FROM $9);

-- row insert and delete of 变电站表
INSERT INTO "变电站表" ("单位编号", "年份", "ID", "名称", "容量", "备注 ""x""") SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM "变电站表" WHERE "单位编号" = $7 AND "年份" = $8 AND "ID" = $9);
DELETE FROM "变电站表" WHERE "单位编号" = $1 AND "年份" = $2 AND "ID" = $3;

-- reading 变电站表
SELECT t.* FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") IN (($1, $2, $3), ($4, $5, $6));
SELECT t.* FROM "变电站表" AS t ORDER BY t."单位编号", t."年份", t."ID" LIMIT $1;
SELECT t.* FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") > ($1, $2, $3) ORDER BY t."单位编号", t."年份", t."ID" LIMIT $4;
SELECT count(*) FROM "变电站表";
SELECT count(*) FROM "变电站表" WHERE "单位编号" IS NULL OR "年份" IS NULL OR "ID" IS NULL;
SELECT t."单位编号", t."年份", t."ID", count(*) FROM "变电站表" AS t WHERE t."单位编号" IS NOT NULL AND t."年份" IS NOT NULL AND t."ID" IS NOT NULL GROUP BY t."单位编号", t."年份", t."ID" HAVING count(*) > 1 ORDER BY t."单位编号", t."年份", t."ID" LIMIT 5;

-- digest of 变电站表
SELECT d.b, count(*), sum(d.h)::text FROM (SELECT ('x' || substr(md5((COALESCE(('i' || t."单位编号"::text || ';'), '-') || COALESCE(('t' || octet_length(t."年份"::text)::text || ':' || t."年份"::text), '-') || COALESCE(('b' || CASE WHEN t."ID" THEN '1' WHEN NOT t."ID" THEN '0' END || ';'), '-'))), 1, 7))::bit(28)::bigint % 1024 AS b, ('x' || substr(md5((COALESCE(('i' || t."单位编号"::text || ';'), '-') || COALESCE(('t' || octet_length(t."年份"::text)::text || ':' || t."年份"::text), '-') || COALESCE(('b' || CASE WHEN t."ID" THEN '1' WHEN NOT t."ID" THEN '0' END || ';'), '-') || COALESCE(('x' || encode(t."名称", 'hex') || ';'), '-') || COALESCE(('t' || octet_length(to_char(t."容量", 'YYYY-MM-DD'))::text || ':' || to_char(t."容量", 'YYYY-MM-DD')), '-') || COALESCE(('f' || encode(float8send(t."备注 ""x"""), 'hex') || ';'), '-'))), 1, 12))::bit(48)::bigint AS h FROM "变电站表" AS t) AS d GROUP BY d.b;
SELECT (COALESCE(('i' || t."单位编号"::text || ';'), '-') || COALESCE(('t' || octet_length(t."年份"::text)::text || ':' || t."年份"::text), '-') || COALESCE(('b' || CASE WHEN t."ID" THEN '1' WHEN NOT t."ID" THEN '0' END || ';'), '-')), md5((COALESCE(('i' || t."单位编号"::text || ';'), '-') || COALESCE(('t' || octet_length(t."年份"::text)::text || ':' || t."年份"::text), '-') || COALESCE(('b' || CASE WHEN t."ID" THEN '1' WHEN NOT t."ID" THEN '0' END || ';'), '-') || COALESCE(('x' || encode(t."名称", 'hex') || ';'), '-') || COALESCE(('t' || octet_length(to_char(t."容量", 'YYYY-MM-DD'))::text || ':' || to_char(t."容量", 'YYYY-MM-DD')), '-') || COALESCE(('f' || encode(float8send(t."备注 ""x"""), 'hex') || ';'), '-'))) FROM "变电站表" AS t WHERE ('x' || substr(md5((COALESCE(('i' || t."单位编号"::text || ';'), '-') || COALESCE(('t' || octet_length(t."年份"::text)::text || ':' || t."年份"::text), '-') || COALESCE(('b' || CASE WHEN t."ID" THEN '1' WHEN NOT t."ID" THEN '0' END || ';'), '-'))), 1, 7))::bit(28)::bigint % 1024 IN ($1, $2);

-- lock 变电站表
LOCK TABLE "变电站表" IN SHARE ROW EXCLUSIVE MODE;

-- lock rows of 变电站表
SELECT t."单位编号", t."年份", t."ID" FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") IN (($1, $2, $3), ($4, $5, $6)) ORDER BY t."单位编号", t."年份", t."ID" FOR UPDATE;

-- capture on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE OR REPLACE FUNCTION "_hetsync_apply_高压线路表高压线路表_9758e70a25fdd71c"(phase "char") RETURNS bigint[] LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $hetsync$DECLARE n_ins bigint := 0; n_upd bigint := 0; n_del bigint := 0; BEGIN IF phase = 'D' THEN DELETE FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" t USING pg_temp."_hetsync_stage_高压线路表高压线路表_9758e70a25fdd71c" s WHERE s.op = 'D' AND t."ID" = s.c0; GET DIAGNOSTICS n_del = ROW_COUNT; ELSE UPDATE "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" t SET "颜色" = CASE WHEN s.m1 THEN s.c1 ELSE t."颜色" END FROM pg_temp."_hetsync_stage_高压线路表高压线路表_9758e70a25fdd71c" s WHERE s.op = 'U' AND t."ID" = s.c0 AND ((s.m1 AND t."颜色" IS DISTINCT FROM s.c1)); GET DIAGNOSTICS n_upd = ROW_COUNT; INSERT INTO "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ("ID", "颜色") SELECT s.c0, s.c1 FROM pg_temp."_hetsync_stage_高压线路表高压线路表_9758e70a25fdd71c" s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" t WHERE t."ID" = s.c0); GET DIAGNOSTICS n_ins = ROW_COUNT; END IF; RETURN ARRAY[n_ins, n_upd, n_del]; END$hetsync$;
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = n) THEN EXECUTE format('CREATE PUBLICATION %I WITH (publish = ''insert, update, delete'')', n); END IF; EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted'''); EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I', n, '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted'''); END $hetsync$;

-- staging of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE TEMPORARY TABLE IF NOT EXISTS "_hetsync_stage_高压线路表高压线路表_9758e70a25fdd71c" (c0 bigint, c1 text, m0 boolean, m1 boolean, op "char" NOT NULL) ON COMMIT DELETE ROWS;

-- apply phase D of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT n[1], n[2], n[3] FROM (SELECT "_hetsync_apply_高压线路表高压线路表_9758e70a25fdd71c"('D') AS n OFFSET 0) AS x;

-- apply phase U of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT n[1], n[2], n[3] FROM (SELECT "_hetsync_apply_高压线路表高压线路表_9758e70a25fdd71c"('U') AS n OFFSET 0) AS x;

-- row update of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
UPDATE "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" SET "颜色" = $1 WHERE "ID" = $2 AND ("颜色" IS DISTINCT FROM $3);

-- row insert and delete of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
INSERT INTO "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ("ID", "颜色") SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" = $3);
DELETE FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" = $1;

-- reading 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IN ($1, $2);
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t ORDER BY t."ID" LIMIT $1;
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE (t."ID") > ($1) ORDER BY t."ID" LIMIT $2;
SELECT count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
SELECT count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" IS NULL;
SELECT t."ID", count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IS NOT NULL GROUP BY t."ID" HAVING count(*) > 1 ORDER BY t."ID" LIMIT 5;

-- digest of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT d.b, count(*), sum(d.h)::text FROM (SELECT ((t."ID" % 1024) + 1024) % 1024 AS b, ('x' || substr(md5((COALESCE(('i' || t."ID"::text || ';'), '-') || COALESCE(('t' || octet_length(t."颜色"::text)::text || ':' || t."颜色"::text), '-'))), 1, 12))::bit(48)::bigint AS h FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t) AS d GROUP BY d.b;
SELECT (COALESCE(('i' || t."ID"::text || ';'), '-')), md5((COALESCE(('i' || t."ID"::text || ';'), '-') || COALESCE(('t' || octet_length(t."颜色"::text)::text || ':' || t."颜色"::text), '-'))) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE ((t."ID" % 1024) + 1024) % 1024 IN ($1, $2);

-- lock 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
LOCK TABLE "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" IN SHARE ROW EXCLUSIVE MODE;

-- lock rows of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t."ID" FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IN ($1, $2) ORDER BY t."ID" FOR UPDATE;

-- capture on k
CREATE OR REPLACE FUNCTION "_hetsync_apply_k"(phase "char") RETURNS bigint[] LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $hetsync$DECLARE n_ins bigint := 0; n_upd bigint := 0; n_del bigint := 0; BEGIN IF phase = 'D' THEN DELETE FROM "k" t USING pg_temp."_hetsync_stage_k" s WHERE s.op = 'D' AND t."a" = s.c0; GET DIAGNOSTICS n_del = ROW_COUNT; ELSE  INSERT INTO "k" ("a") SELECT s.c0 FROM pg_temp."_hetsync_stage_k" s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM "k" t WHERE t."a" = s.c0); GET DIAGNOSTICS n_ins = ROW_COUNT; END IF; RETURN ARRAY[n_ins, n_upd, n_del]; END$hetsync$;
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = n) THEN EXECUTE format('CREATE PUBLICATION %I WITH (publish = ''insert, update, delete'')', n); END IF; EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', 'k'); EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I', n, 'k'); END $hetsync$;

-- staging of k
CREATE TEMPORARY TABLE IF NOT EXISTS "_hetsync_stage_k" (c0 bigint, m0 boolean, op "char" NOT NULL) ON COMMIT DELETE ROWS;

-- apply phase D of k
SELECT n[1], n[2], n[3] FROM (SELECT "_hetsync_apply_k"('D') AS n OFFSET 0) AS x;

-- apply phase U of k
SELECT n[1], n[2], n[3] FROM (SELECT "_hetsync_apply_k"('U') AS n OFFSET 0) AS x;

-- row insert and delete of k
INSERT INTO "k" ("a") SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM "k" WHERE "a" = $2);
DELETE FROM "k" WHERE "a" = $1;

-- reading k
SELECT t.* FROM "k" AS t WHERE t."a" IN ($1, $2);
SELECT t.* FROM "k" AS t ORDER BY t."a" LIMIT $1;
SELECT t.* FROM "k" AS t WHERE (t."a") > ($1) ORDER BY t."a" LIMIT $2;
SELECT count(*) FROM "k";
SELECT count(*) FROM "k" WHERE "a" IS NULL;
SELECT t."a", count(*) FROM "k" AS t WHERE t."a" IS NOT NULL GROUP BY t."a" HAVING count(*) > 1 ORDER BY t."a" LIMIT 5;

-- digest of k
SELECT d.b, count(*), sum(d.h)::text FROM (SELECT ((t."a" % 1024) + 1024) % 1024 AS b, ('x' || substr(md5((COALESCE(('i' || t."a"::text || ';'), '-'))), 1, 12))::bit(48)::bigint AS h FROM "k" AS t) AS d GROUP BY d.b;
SELECT (COALESCE(('i' || t."a"::text || ';'), '-')), md5((COALESCE(('i' || t."a"::text || ';'), '-'))) FROM "k" AS t WHERE ((t."a" % 1024) + 1024) % 1024 IN ($1, $2);

-- lock k
LOCK TABLE "k" IN SHARE ROW EXCLUSIVE MODE;

-- lock rows of k
SELECT t."a" FROM "k" AS t WHERE t."a" IN ($1, $2) ORDER BY t."a" FOR UPDATE;

-- read changes
SELECT seq, table_name::text, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin::text, user_name::text FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND (xid, seq) <= ($3::bigint::text::xid8, $4::bigint) ORDER BY seq;
SELECT seq, table_name::text, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin::text, user_name::text FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND (xid, seq) <= ($3::bigint::text::xid8, $4::bigint) AND (origin IS NULL OR origin <> $5) ORDER BY seq;

-- capture objects with their definitions
SELECT 'trigger ' || t.tgname || ' on ' || c.relname, pg_get_triggerdef(t.oid) || ' ENABLED ' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND left(t.tgname, 9) = '_hetsync_' AND NOT t.tgisinternal UNION ALL SELECT 'function ' || p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND left(p.proname, 9) = '_hetsync_' UNION ALL SELECT 'replication slot ' || slot_name, plugin || ' on ' || database FROM pg_replication_slots WHERE slot_name = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) UNION ALL SELECT 'publication ' || p.pubname, concat_ws(' ', p.pubinsert, p.pubupdate, p.pubdelete, (SELECT string_agg(quote_ident(tablename), ', ' ORDER BY tablename) FROM pg_publication_tables t WHERE t.pubname = p.pubname AND t.schemaname = current_schema())) FROM pg_publication p WHERE p.pubname = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) UNION ALL SELECT 'replica identity of ' || c.relname, c.relreplident::text FROM pg_publication_tables t JOIN pg_namespace s ON s.nspname = t.schemaname JOIN pg_class c ON c.relnamespace = s.oid AND c.relname = t.tablename WHERE t.pubname = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) AND t.schemaname = current_schema() ORDER BY 1;

-- bounded read
SELECT seq, table_name::text, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin::text, user_name::text, xid::text::bigint AS position_xid, seq FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND (xid, seq) <= ($3::bigint::text::xid8, $4::bigint) ORDER BY xid, seq LIMIT $5;
SELECT seq, table_name::text, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin::text, user_name::text, xid::text::bigint AS position_xid, seq FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND (xid, seq) <= ($3::bigint::text::xid8, $4::bigint) AND (origin IS NULL OR origin <> $5) ORDER BY xid, seq LIMIT $6;

-- count events
SELECT count(*) FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint);
SELECT count(*) FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND (origin IS NULL OR origin <> $3);

-- peer watermark
SELECT watermark, within_seq FROM "_hetsync_peer" WHERE peer = $1;
INSERT INTO "_hetsync_peer"(peer, watermark, within_seq, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT (peer) DO UPDATE SET watermark = excluded.watermark, within_seq = excluded.within_seq, updated_at = excluded.updated_at;

-- guard
SET LOCAL enable_seqscan = off;
SET LOCAL enable_sort = off;
SELECT seq, table_name::text, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin::text, user_name::text, xid::text::bigint AS position_xid, seq FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND origin IS NULL ORDER BY xid, seq LIMIT $3;
SELECT seq, table_name::text, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin::text, user_name::text, xid::text::bigint AS position_xid, seq FROM "_hetsync_tracking" WHERE (xid, seq) > ($1::bigint::text::xid8, $2::bigint) AND (origin IS NULL OR origin <> $3) ORDER BY xid, seq LIMIT $4;
SET LOCAL enable_seqscan = DEFAULT;
SET LOCAL enable_sort = DEFAULT;

-- conflicts recorded until the engine logged them
CREATE TABLE IF NOT EXISTS "_hetsync_conflict" (
    uid VARCHAR(200) NOT NULL PRIMARY KEY,
    body TEXT NOT NULL);
INSERT INTO "_hetsync_conflict"(uid, body) VALUES ($1, $2), ($3, $4);
SELECT uid, body FROM "_hetsync_conflict" ORDER BY uid;
DELETE FROM "_hetsync_conflict" WHERE uid IN ($1, $2);

-- trimming superseded local edits
DELETE FROM "_hetsync_tracking" WHERE seq = $1;
UPDATE "_hetsync_tracking" SET fields = $1::jsonb WHERE seq = $2;

-- purging integrated tracking rows
SELECT min(seq), max(seq) FROM "_hetsync_tracking";
SELECT seq FROM "_hetsync_tracking" WHERE seq >= $1 ORDER BY seq LIMIT 1 OFFSET 1000;
DELETE FROM "_hetsync_tracking" WHERE seq >= $1 AND seq < $2 AND (xid, seq) <= ($3::bigint::text::xid8, $4::bigint) AND (extract(epoch FROM changed_at) * 1000000)::bigint < $5;

-- tracking rows written by the engine
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) VALUES ($1, $2, (timestamptz 'epoch' + $3::bigint * interval '1 microsecond'), $4, $5, $6, $7), ($8, $9, (timestamptz 'epoch' + $10::bigint * interval '1 microsecond'), $11, $12, $13, $14);

-- transactions
BEGIN;
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN IF NOT pg_replication_origin_session_is_setup() THEN PERFORM pg_replication_origin_session_setup(n); END IF; END $hetsync$;
SELECT pg_replication_origin_session_reset() WHERE pg_replication_origin_session_is_setup();

-- logical: before install
SELECT current_setting('wal_level');
SELECT pg_replication_origin_create(n) FROM (SELECT ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) AS n) x WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = x.n);
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = n) THEN PERFORM pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = n; EXECUTE format('CREATE PUBLICATION %I WITH (publish = ''insert, update, delete'')', n); END IF; END $hetsync$;
SELECT pg_create_logical_replication_slot(n, 'pgoutput') FROM (SELECT ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) AS n) x WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = x.n);

-- logical: release
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN FOR t IN SELECT tablename FROM pg_publication_tables WHERE pubname = n AND schemaname = current_schema() LOOP EXECUTE format('ALTER TABLE %I REPLICA IDENTITY DEFAULT', t.tablename); END LOOP; EXECUTE format('DROP PUBLICATION IF EXISTS %I', n); END $hetsync$;
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20));
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN IF EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = n) THEN IF pg_replication_origin_session_is_setup() THEN PERFORM pg_replication_origin_session_reset(); END IF; PERFORM pg_replication_origin_drop(n); END IF; END $hetsync$;

-- logical: install drops a published table
DO $hetsync$ DECLARE t record; n text := ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); BEGIN EXECUTE format('ALTER PUBLICATION %I DROP TABLE %I', n, '变电站表'); EXECUTE format('ALTER TABLE %I REPLICA IDENTITY DEFAULT', '变电站表'); END $hetsync$;

-- logical: how far a read is final
SELECT (SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) x WHERE x::text::xid IN (SELECT backend_xid FROM pg_stat_activity WHERE application_name = 'hetsync' AND backend_xid IS NOT NULL));

-- logical: drain
SELECT value FROM "_hetsync_meta" WHERE name = 'logical_lsn';
SELECT slot_name::text, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20));
SELECT pg_replication_slot_advance(slot_name, $1::text::pg_lsn) FROM pg_replication_slots WHERE slot_name = ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)) AND confirmed_flush_lsn < $1::text::pg_lsn;
SELECT pg_current_wal_flush_lsn()::text;
DECLARE _hetsync_decoded NO SCROLL CURSOR FOR SELECT data FROM pg_logical_slot_peek_binary_changes(('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)), '16/B374D848'::pg_lsn, NULL, 'proto_version', '1', 'publication_names', ('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)));
FETCH 5000 FROM _hetsync_decoded;
CLOSE _hetsync_decoded;
CREATE TEMPORARY TABLE IF NOT EXISTS "_hetsync_drained" (ord bigint NOT NULL, table_name text NOT NULL, code jsonb NOT NULL, changed_at timestamptz NOT NULL, deleted boolean NOT NULL, fields jsonb) ON COMMIT DELETE ROWS;
TRUNCATE pg_temp."_hetsync_drained";
COPY pg_temp."_hetsync_drained" (ord, table_name, code, changed_at, deleted, fields) FROM STDIN;
INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, deleted, user_name, fields) SELECT d.table_name, CASE d.table_name WHEN '变电站表' THEN jsonb_build_array((d.code->>0)::varchar(20), (d.code->>1)::integer, (d.code->>2)::integer) WHEN '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''' THEN jsonb_build_array((d.code->>0)::bigint) WHEN 'k' THEN jsonb_build_array((d.code->>0)::bigint) END, d.changed_at, d.deleted, NULL, d.fields FROM pg_temp."_hetsync_drained" d ORDER BY d.ord;

