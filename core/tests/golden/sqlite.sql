-- bookkeeping tables
CREATE TABLE IF NOT EXISTS "_hetsync_tracking" (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT NOT NULL,
    code TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    user_name TEXT,
    fields TEXT,
    origin TEXT);
CREATE INDEX IF NOT EXISTS "_hetsync_tracking_by_code" ON "_hetsync_tracking"(table_name, code);
CREATE TABLE IF NOT EXISTS "_hetsync_apply" (origin TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS "_hetsync_peer" (
    peer TEXT PRIMARY KEY,
    watermark INTEGER NOT NULL,
    within_seq INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS "_hetsync_installed" (
    table_name TEXT PRIMARY KEY,
    installed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS "_hetsync_meta" (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL);

-- install: hetsync's objects to drop
SELECT upper(type), name FROM sqlite_master WHERE (type = 'trigger' AND substr(name, 1, 9) = '_hetsync_') OR (type = 'table' AND (substr(name, 1, 14) = '_hetsync_snap_' OR substr(name, 1, 18) = '_hetsync_snapcode_')) ORDER BY name;

-- install: drop one
DROP TRIGGER IF EXISTS "_hetsync_x";

-- install: layout version
SELECT name, value FROM "_hetsync_meta";
INSERT INTO "_hetsync_meta"(name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- install: columns an older layout lacks
SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2;
ALTER TABLE "_hetsync_peer" ADD COLUMN within_seq BIGINT NOT NULL DEFAULT 0;

-- install: record a table
INSERT INTO "_hetsync_installed"(table_name, installed_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ','now'));

-- is installed
SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1;

-- capture on 变电站表
CREATE TRIGGER "_hetsync_insert_变电站表" AFTER INSERT ON "变电站表" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(NEW."单位编号", NEW."年份", NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL; END;
CREATE TRIGGER "_hetsync_update_变电站表" AFTER UPDATE ON "变电站表" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(OLD."单位编号", OLD."年份", OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL WHERE json_array(OLD."单位编号", OLD."年份", OLD."ID") IS NOT json_array(NEW."单位编号", NEW."年份", NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(NEW."单位编号", NEW."年份", NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL WHERE json_array(OLD."单位编号", OLD."年份", OLD."ID") IS NOT json_array(NEW."单位编号", NEW."年份", NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(NEW."单位编号", NEW."年份", NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, json_group_array(f) FROM (SELECT '名称' AS f WHERE OLD."名称" IS NOT NEW."名称" COLLATE BINARY UNION ALL SELECT '容量' AS f WHERE OLD."容量" IS NOT NEW."容量" COLLATE BINARY UNION ALL SELECT '备注 "x"' AS f WHERE OLD."备注 ""x""" IS NOT NEW."备注 ""x""" COLLATE BINARY) WHERE json_array(OLD."单位编号", OLD."年份", OLD."ID") IS json_array(NEW."单位编号", NEW."年份", NEW."ID") HAVING count(*) > 0; END;
CREATE TRIGGER "_hetsync_delete_变电站表" AFTER DELETE ON "变电站表" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(OLD."单位编号", OLD."年份", OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL; END;

-- staging of 变电站表
CREATE TEMP TABLE IF NOT EXISTS "_hetsync_stage_变电站表" (c0 varchar(20), c1 integer, c2 integer, c3 varchar(100), c4 numeric(12,4), c5 text, m0 INTEGER NOT NULL, m1 INTEGER NOT NULL, m2 INTEGER NOT NULL, m3 INTEGER NOT NULL, m4 INTEGER NOT NULL, m5 INTEGER NOT NULL, op TEXT NOT NULL); CREATE TEMP TABLE IF NOT EXISTS "_hetsync_apply_counts" (n INTEGER);

-- apply phase D of 变电站表
DELETE FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") IN (SELECT s.c0, s.c1, s.c2 FROM "_hetsync_stage_变电站表" AS s WHERE s.op = 'D');
SELECT 0, 0, changes();

-- apply phase U of 变电站表
DELETE FROM "_hetsync_apply_counts";
UPDATE "变电站表" AS t SET "名称" = CASE WHEN s.m3 THEN s.c3 ELSE t."名称" END, "容量" = CASE WHEN s.m4 THEN s.c4 ELSE t."容量" END, "备注 ""x""" = CASE WHEN s.m5 THEN s.c5 ELSE t."备注 ""x""" END FROM "_hetsync_stage_变电站表" AS s WHERE s.op = 'U' AND t."单位编号" = s.c0 AND t."年份" = s.c1 AND t."ID" = s.c2 AND ((s.m3 AND t."名称" IS NOT s.c3 COLLATE BINARY) OR (s.m4 AND t."容量" IS NOT s.c4 COLLATE BINARY) OR (s.m5 AND t."备注 ""x""" IS NOT s.c5 COLLATE BINARY));
INSERT INTO "_hetsync_apply_counts" SELECT changes();
INSERT INTO "变电站表" ("单位编号", "年份", "ID", "名称", "容量", "备注 ""x""") SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5 FROM "_hetsync_stage_变电站表" AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM "变电站表" AS t WHERE t."单位编号" = s.c0 AND t."年份" = s.c1 AND t."ID" = s.c2);
SELECT changes(), (SELECT n FROM "_hetsync_apply_counts"), 0;

-- row update of 变电站表
UPDATE "变电站表" SET "名称" = ?1, "容量" = ?2, "备注 ""x""" = ?3 WHERE "单位编号" = ?4 AND "年份" = ?5 AND "ID" = ?6 AND ("名称" IS NOT ?7 COLLATE BINARY OR "容量" IS NOT ?8 COLLATE BINARY OR "备注 ""x""" IS NOT ?9 COLLATE BINARY);

-- row insert and delete of 变电站表
INSERT INTO "变电站表" ("单位编号", "年份", "ID", "名称", "容量", "备注 ""x""") SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM "变电站表" WHERE "单位编号" = ?7 AND "年份" = ?8 AND "ID" = ?9);
DELETE FROM "变电站表" WHERE "单位编号" = ?1 AND "年份" = ?2 AND "ID" = ?3;

-- reading 变电站表
SELECT t.* FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") IN (VALUES (?, ?, ?), (?, ?, ?));
SELECT t.* FROM "变电站表" AS t ORDER BY t."单位编号", t."年份", t."ID" LIMIT ?1;
SELECT t.* FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") > (?1, ?2, ?3) ORDER BY t."单位编号", t."年份", t."ID" LIMIT ?4;
SELECT count(*) FROM "变电站表";
SELECT count(*) FROM "变电站表" WHERE "单位编号" IS NULL OR "年份" IS NULL OR "ID" IS NULL;
SELECT t."单位编号", t."年份", t."ID", count(*) FROM "变电站表" AS t WHERE t."单位编号" IS NOT NULL AND t."年份" IS NOT NULL AND t."ID" IS NOT NULL GROUP BY t."单位编号", t."年份", t."ID" HAVING count(*) > 1 ORDER BY t."单位编号", t."年份", t."ID" LIMIT 5;

-- digest of 变电站表

-- bulk begin on 变电站表
DROP TABLE IF EXISTS "_hetsync_bulk_变电站表";
CREATE TABLE "_hetsync_bulk_变电站表" AS SELECT "单位编号", "年份", "ID", "名称", "容量", "备注 ""x""" FROM "变电站表";
CREATE INDEX "_hetsync_bulkcode_变电站表" ON "_hetsync_bulk_变电站表" ("单位编号", "年份", "ID");
DROP TRIGGER IF EXISTS "_hetsync_insert_变电站表";
DROP TRIGGER IF EXISTS "_hetsync_update_变电站表";
DROP TRIGGER IF EXISTS "_hetsync_delete_变电站表";

-- bulk end on 变电站表
DROP TRIGGER IF EXISTS "_hetsync_insert_变电站表";
DROP TRIGGER IF EXISTS "_hetsync_update_变电站表";
DROP TRIGGER IF EXISTS "_hetsync_delete_变电站表";
CREATE TRIGGER "_hetsync_insert_变电站表" AFTER INSERT ON "变电站表" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(NEW."单位编号", NEW."年份", NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL; END;
CREATE TRIGGER "_hetsync_update_变电站表" AFTER UPDATE ON "变电站表" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(OLD."单位编号", OLD."年份", OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL WHERE json_array(OLD."单位编号", OLD."年份", OLD."ID") IS NOT json_array(NEW."单位编号", NEW."年份", NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(NEW."单位编号", NEW."年份", NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL WHERE json_array(OLD."单位编号", OLD."年份", OLD."ID") IS NOT json_array(NEW."单位编号", NEW."年份", NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(NEW."单位编号", NEW."年份", NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, json_group_array(f) FROM (SELECT '名称' AS f WHERE OLD."名称" IS NOT NEW."名称" COLLATE BINARY UNION ALL SELECT '容量' AS f WHERE OLD."容量" IS NOT NEW."容量" COLLATE BINARY UNION ALL SELECT '备注 "x"' AS f WHERE OLD."备注 ""x""" IS NOT NEW."备注 ""x""" COLLATE BINARY) WHERE json_array(OLD."单位编号", OLD."年份", OLD."ID") IS json_array(NEW."单位编号", NEW."年份", NEW."ID") HAVING count(*) > 0; END;
CREATE TRIGGER "_hetsync_delete_变电站表" AFTER DELETE ON "变电站表" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '变电站表', json_array(OLD."单位编号", OLD."年份", OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL; END;
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, json_array(t."单位编号", t."年份", t."ID"), ?, ?, NULL, NULL, ? FROM "变电站表" AS t LEFT JOIN "_hetsync_bulk_变电站表" AS s ON t."单位编号" = s."单位编号" AND t."年份" = s."年份" AND t."ID" = s."ID" WHERE t."单位编号" IS NOT NULL AND t."年份" IS NOT NULL AND t."ID" IS NOT NULL AND (s."单位编号" IS NULL OR t."单位编号" IS NOT s."单位编号" COLLATE BINARY OR t."年份" IS NOT s."年份" COLLATE BINARY OR t."ID" IS NOT s."ID" COLLATE BINARY OR t."名称" IS NOT s."名称" COLLATE BINARY OR t."容量" IS NOT s."容量" COLLATE BINARY OR t."备注 ""x""" IS NOT s."备注 ""x""" COLLATE BINARY);
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, json_array(s."单位编号", s."年份", s."ID"), ?, ?, NULL, NULL, ? FROM "_hetsync_bulk_变电站表" AS s WHERE s."单位编号" IS NOT NULL AND s."年份" IS NOT NULL AND s."ID" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "变电站表" AS t WHERE t."单位编号" = s."单位编号" AND t."年份" = s."年份" AND t."ID" = s."ID" AND NOT (t."单位编号" IS NOT s."单位编号" COLLATE BINARY OR t."年份" IS NOT s."年份" COLLATE BINARY OR t."ID" IS NOT s."ID" COLLATE BINARY));
DROP TABLE IF EXISTS "_hetsync_bulk_变电站表";

-- capture on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE TRIGGER "_hetsync_insert_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AFTER INSERT ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL; END;
CREATE TRIGGER "_hetsync_update_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AFTER UPDATE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL WHERE json_array(OLD."ID") IS NOT json_array(NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL WHERE json_array(OLD."ID") IS NOT json_array(NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, json_group_array(f) FROM (SELECT '颜色' AS f WHERE OLD."颜色" IS NOT NEW."颜色" COLLATE BINARY) WHERE json_array(OLD."ID") IS json_array(NEW."ID") HAVING count(*) > 0; END;
CREATE TRIGGER "_hetsync_delete_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AFTER DELETE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL; END;

-- staging of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE TEMP TABLE IF NOT EXISTS "_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" (c0 bigint, c1 text, m0 INTEGER NOT NULL, m1 INTEGER NOT NULL, op TEXT NOT NULL); CREATE TEMP TABLE IF NOT EXISTS "_hetsync_apply_counts" (n INTEGER);

-- apply phase D of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DELETE FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE (t."ID") IN (SELECT s.c0 FROM "_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS s WHERE s.op = 'D');
SELECT 0, 0, changes();

-- apply phase U of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DELETE FROM "_hetsync_apply_counts";
UPDATE "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t SET "颜色" = CASE WHEN s.m1 THEN s.c1 ELSE t."颜色" END FROM "_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS s WHERE s.op = 'U' AND t."ID" = s.c0 AND ((s.m1 AND t."颜色" IS NOT s.c1 COLLATE BINARY));
INSERT INTO "_hetsync_apply_counts" SELECT changes();
INSERT INTO "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ("ID", "颜色") SELECT s.c0, s.c1 FROM "_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" = s.c0);
SELECT changes(), (SELECT n FROM "_hetsync_apply_counts"), 0;

-- row update of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
UPDATE "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" SET "颜色" = ?1 WHERE "ID" = ?2 AND ("颜色" IS NOT ?3 COLLATE BINARY);

-- row insert and delete of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
INSERT INTO "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ("ID", "颜色") SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" = ?3);
DELETE FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" = ?1;

-- reading 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IN (?, ?);
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t ORDER BY t."ID" LIMIT ?1;
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE (t."ID") > (?1) ORDER BY t."ID" LIMIT ?2;
SELECT count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
SELECT count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" IS NULL;
SELECT t."ID", count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IS NOT NULL GROUP BY t."ID" HAVING count(*) > 1 ORDER BY t."ID" LIMIT 5;

-- digest of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT d.b, count(*), CAST(sum(d.h) AS TEXT) FROM (SELECT ((t."ID" % 1024) + 1024) % 1024 AS b, hetsync_hex_int(hetsync_md5(hetsync_row_text('it', t."ID", t."颜色")), 12) AS h FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t) AS d GROUP BY d.b;
SELECT hetsync_row_text('i', t."ID"), hetsync_md5(hetsync_row_text('it', t."ID", t."颜色")) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE ((t."ID" % 1024) + 1024) % 1024 IN (?1, ?2);

-- bulk begin on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TABLE IF EXISTS "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
CREATE TABLE "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS SELECT "ID", "颜色" FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
CREATE INDEX "_hetsync_bulkcode_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ON "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ("ID");
DROP TRIGGER IF EXISTS "_hetsync_insert_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
DROP TRIGGER IF EXISTS "_hetsync_update_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
DROP TRIGGER IF EXISTS "_hetsync_delete_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";

-- bulk end on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TRIGGER IF EXISTS "_hetsync_insert_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
DROP TRIGGER IF EXISTS "_hetsync_update_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
DROP TRIGGER IF EXISTS "_hetsync_delete_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
CREATE TRIGGER "_hetsync_insert_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AFTER INSERT ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL; END;
CREATE TRIGGER "_hetsync_update_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AFTER UPDATE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL WHERE json_array(OLD."ID") IS NOT json_array(NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL WHERE json_array(OLD."ID") IS NOT json_array(NEW."ID"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(NEW."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, json_group_array(f) FROM (SELECT '颜色' AS f WHERE OLD."颜色" IS NOT NEW."颜色" COLLATE BINARY) WHERE json_array(OLD."ID") IS json_array(NEW."ID") HAVING count(*) > 0; END;
CREATE TRIGGER "_hetsync_delete_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AFTER DELETE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT '高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', json_array(OLD."ID"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL; END;
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, json_array(t."ID"), ?, ?, NULL, NULL, ? FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t LEFT JOIN "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS s ON t."ID" = s."ID" WHERE t."ID" IS NOT NULL AND (s."ID" IS NULL OR t."ID" IS NOT s."ID" COLLATE BINARY OR t."颜色" IS NOT s."颜色" COLLATE BINARY);
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, json_array(s."ID"), ?, ?, NULL, NULL, ? FROM "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS s WHERE s."ID" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" = s."ID" AND NOT (t."ID" IS NOT s."ID" COLLATE BINARY));
DROP TABLE IF EXISTS "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";

-- capture on k
CREATE TRIGGER "_hetsync_insert_k" AFTER INSERT ON "k" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(NEW."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL; END;
CREATE TRIGGER "_hetsync_update_k" AFTER UPDATE ON "k" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(OLD."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL WHERE json_array(OLD."a") IS NOT json_array(NEW."a"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(NEW."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL WHERE json_array(OLD."a") IS NOT json_array(NEW."a"); END;
CREATE TRIGGER "_hetsync_delete_k" AFTER DELETE ON "k" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(OLD."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL; END;

-- staging of k
CREATE TEMP TABLE IF NOT EXISTS "_hetsync_stage_k" (c0 bigint, m0 INTEGER NOT NULL, op TEXT NOT NULL); CREATE TEMP TABLE IF NOT EXISTS "_hetsync_apply_counts" (n INTEGER);

-- apply phase D of k
DELETE FROM "k" AS t WHERE (t."a") IN (SELECT s.c0 FROM "_hetsync_stage_k" AS s WHERE s.op = 'D');
SELECT 0, 0, changes();

-- apply phase U of k
DELETE FROM "_hetsync_apply_counts";
INSERT INTO "_hetsync_apply_counts" VALUES (0);
INSERT INTO "k" ("a") SELECT s.c0 FROM "_hetsync_stage_k" AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM "k" AS t WHERE t."a" = s.c0);
SELECT changes(), (SELECT n FROM "_hetsync_apply_counts"), 0;

-- row insert and delete of k
INSERT INTO "k" ("a") SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM "k" WHERE "a" = ?2);
DELETE FROM "k" WHERE "a" = ?1;

-- reading k
SELECT t.* FROM "k" AS t WHERE t."a" IN (?, ?);
SELECT t.* FROM "k" AS t ORDER BY t."a" LIMIT ?1;
SELECT t.* FROM "k" AS t WHERE (t."a") > (?1) ORDER BY t."a" LIMIT ?2;
SELECT count(*) FROM "k";
SELECT count(*) FROM "k" WHERE "a" IS NULL;
SELECT t."a", count(*) FROM "k" AS t WHERE t."a" IS NOT NULL GROUP BY t."a" HAVING count(*) > 1 ORDER BY t."a" LIMIT 5;

-- digest of k
SELECT d.b, count(*), CAST(sum(d.h) AS TEXT) FROM (SELECT ((t."a" % 1024) + 1024) % 1024 AS b, hetsync_hex_int(hetsync_md5(hetsync_row_text('i', t."a")), 12) AS h FROM "k" AS t) AS d GROUP BY d.b;
SELECT hetsync_row_text('i', t."a"), hetsync_md5(hetsync_row_text('i', t."a")) FROM "k" AS t WHERE ((t."a" % 1024) + 1024) % 1024 IN (?1, ?2);

-- bulk begin on k
DROP TABLE IF EXISTS "_hetsync_bulk_k";
CREATE TABLE "_hetsync_bulk_k" AS SELECT "a" FROM "k";
CREATE INDEX "_hetsync_bulkcode_k" ON "_hetsync_bulk_k" ("a");
DROP TRIGGER IF EXISTS "_hetsync_insert_k";
DROP TRIGGER IF EXISTS "_hetsync_update_k";
DROP TRIGGER IF EXISTS "_hetsync_delete_k";

-- bulk end on k
DROP TRIGGER IF EXISTS "_hetsync_insert_k";
DROP TRIGGER IF EXISTS "_hetsync_update_k";
DROP TRIGGER IF EXISTS "_hetsync_delete_k";
CREATE TRIGGER "_hetsync_insert_k" AFTER INSERT ON "k" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(NEW."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL; END;
CREATE TRIGGER "_hetsync_update_k" AFTER UPDATE ON "k" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(OLD."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL WHERE json_array(OLD."a") IS NOT json_array(NEW."a"); INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(NEW."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0, NULL WHERE json_array(OLD."a") IS NOT json_array(NEW."a"); END;
CREATE TRIGGER "_hetsync_delete_k" AFTER DELETE ON "k" WHEN NOT EXISTS (SELECT 1 FROM "_hetsync_apply") BEGIN INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields) SELECT 'k', json_array(OLD."a"), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 1, NULL; END;
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, json_array(t."a"), ?, ?, NULL, NULL, ? FROM "k" AS t LEFT JOIN "_hetsync_bulk_k" AS s ON t."a" = s."a" WHERE t."a" IS NOT NULL AND (s."a" IS NULL OR t."a" IS NOT s."a" COLLATE BINARY);
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, json_array(s."a"), ?, ?, NULL, NULL, ? FROM "_hetsync_bulk_k" AS s WHERE s."a" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "k" AS t WHERE t."a" = s."a" AND NOT (t."a" IS NOT s."a" COLLATE BINARY));
DROP TABLE IF EXISTS "_hetsync_bulk_k";

-- read changes
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name FROM "_hetsync_tracking" WHERE seq > ?1 AND seq <= ?2 ORDER BY seq;
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name FROM "_hetsync_tracking" WHERE seq > ?1 AND seq <= ?2 AND (origin IS NULL OR origin <> ?3) ORDER BY seq;

-- capture objects with their definitions
SELECT type || ' ' || name || ' on ' || tbl_name, sql FROM sqlite_master WHERE (type = 'trigger' AND substr(name, 1, 9) = '_hetsync_') OR (type IN ('table', 'index') AND (substr(name, 1, 14) = '_hetsync_snap_' OR substr(name, 1, 18) = '_hetsync_snapcode_')) ORDER BY 1;

-- bounded read
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3;
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ?1 AND seq <= ?2 AND (origin IS NULL OR origin <> ?3) ORDER BY seq LIMIT ?4;

-- count events
SELECT count(*) FROM "_hetsync_tracking" WHERE seq > ?1;
SELECT count(*) FROM "_hetsync_tracking" WHERE seq > ?1 AND (origin IS NULL OR origin <> ?2);

-- peer watermark
SELECT watermark, within_seq FROM "_hetsync_peer" WHERE peer = ?1;
INSERT INTO "_hetsync_peer"(peer, watermark, within_seq, updated_at) VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT (peer) DO UPDATE SET watermark = excluded.watermark, within_seq = excluded.within_seq, updated_at = excluded.updated_at;

-- guard
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ?1 AND origin IS NULL ORDER BY seq LIMIT ?2;
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ?1 AND (origin IS NULL OR origin <> ?2) ORDER BY seq LIMIT ?3;

-- conflicts recorded until the engine logged them
CREATE TABLE IF NOT EXISTS "_hetsync_conflict" (
    uid VARCHAR(200) NOT NULL PRIMARY KEY,
    body TEXT NOT NULL);
INSERT INTO "_hetsync_conflict"(uid, body) VALUES (?, ?), (?, ?);
SELECT uid, body FROM "_hetsync_conflict" ORDER BY uid;
DELETE FROM "_hetsync_conflict" WHERE uid IN (?, ?);

-- trimming superseded local edits
DELETE FROM "_hetsync_tracking" WHERE seq = ?1;
UPDATE "_hetsync_tracking" SET fields = ?1 WHERE seq = ?2;

-- purging integrated tracking rows
SELECT min(seq), max(seq) FROM "_hetsync_tracking";
SELECT seq FROM "_hetsync_tracking" WHERE seq >= ?1 ORDER BY seq LIMIT 1 OFFSET 1000;
DELETE FROM "_hetsync_tracking" WHERE seq >= ?1 AND seq < ?2 AND seq <= ?3 AND changed_at < ?4;

-- tracking rows written by the engine
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?);

-- transactions
BEGIN IMMEDIATE;
BEGIN;
INSERT INTO "_hetsync_apply"(origin) VALUES ('hetsync');
DELETE FROM "_hetsync_apply";

