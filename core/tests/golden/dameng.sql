-- bookkeeping tables
CREATE TABLE IF NOT EXISTS "_hetsync_tracking" (
    seq BIGINT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
    table_name VARCHAR(512) NOT NULL,
    code VARCHAR(4000) NOT NULL,
    changed_at TIMESTAMP(6) NOT NULL,
    deleted INT DEFAULT 0 NOT NULL,
    user_name VARCHAR(400),
    fields TEXT,
    origin VARCHAR(255));
CREATE TABLE IF NOT EXISTS "_hetsync_peer" (
    peer VARCHAR(255) NOT NULL PRIMARY KEY,
    watermark BIGINT NOT NULL,
    within_seq BIGINT DEFAULT 0 NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL);
CREATE TABLE IF NOT EXISTS "_hetsync_installed" (
    table_name VARCHAR(512) NOT NULL PRIMARY KEY,
    installed_at TIMESTAMP(6) NOT NULL);
CREATE TABLE IF NOT EXISTS "_hetsync_meta" (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL);

-- install: hetsync's objects to drop
SELECT OBJECT_TYPE, OBJECT_NAME FROM USER_OBJECTS WHERE OBJECT_TYPE IN ('TRIGGER', 'PACKAGE') AND OBJECT_NAME LIKE '!_hetsync!_%' ESCAPE '!' ORDER BY CASE OBJECT_TYPE WHEN 'TRIGGER' THEN 0 ELSE 1 END, OBJECT_NAME;

-- install: drop one
DROP TRIGGER "_hetsync_x";

-- install: layout version
SELECT name, value FROM "_hetsync_meta";
DELETE FROM "_hetsync_meta" WHERE name = ?;
INSERT INTO "_hetsync_meta"(name, value) VALUES (?, ?);

-- install: columns an older layout lacks
SELECT COUNT(*) FROM USER_TAB_COLUMNS WHERE TABLE_NAME = ? AND COLUMN_NAME = ?;
ALTER TABLE "_hetsync_peer" ADD within_seq BIGINT DEFAULT 0 NOT NULL;

-- install: record a table
INSERT INTO "_hetsync_installed"(table_name, installed_at) VALUES (?, SYS_EXTRACT_UTC(SYSTIMESTAMP));

-- is installed
SELECT COUNT(*) FROM USER_TABLES WHERE TABLE_NAME = ?;

-- capture on 变电站表
CREATE OR REPLACE PACKAGE "_hetsync_pkg" AS
  apply_on INT;
  FUNCTION part(n NUMBER) RETURN VARCHAR;
  FUNCTION part(s VARCHAR) RETURN VARCHAR;
END;;
CREATE OR REPLACE PACKAGE BODY "_hetsync_pkg" AS
  FUNCTION part(n NUMBER) RETURN VARCHAR IS
  BEGIN
    RETURN TO_CHAR(n);
  END;
  FUNCTION part(s VARCHAR) RETURN VARCHAR IS
  BEGIN
    RETURN '"' || REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(s, '\', '\\'), '"', '\"'), CHR(10), '\n'), CHR(13), '\r'), CHR(9), '\t') || '"';
  END;
END;;
CREATE OR REPLACE TRIGGER "_hetsync_i_变电站表" AFTER INSERT ON "变电站表" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:NEW."单位编号") || ',' || "_hetsync_pkg".part(:NEW."年份") || ',' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_u_变电站表" AFTER UPDATE ON "变电站表" FOR EACH ROW
DECLARE f VARCHAR(8000); BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN IF DECODE(:NEW."单位编号", :OLD."单位编号", 1, 0) = 1 AND DECODE(:NEW."年份", :OLD."年份", 1, 0) = 1 AND DECODE(:NEW."ID", :OLD."ID", 1, 0) = 1 THEN f := ''; IF NOT (DECODE(:NEW."名称", :OLD."名称", 1, 0) = 1) THEN f := f || ',' || '"名称"'; END IF; IF NOT (DECODE(:NEW."容量", :OLD."容量", 1, 0) = 1) THEN f := f || ',' || '"容量"'; END IF; IF NOT (((:NEW."备注 ""x""" IS NULL AND :OLD."备注 ""x""" IS NULL) OR (:NEW."备注 ""x""" IS NOT NULL AND :OLD."备注 ""x""" IS NOT NULL AND DBMS_LOB.COMPARE(:NEW."备注 ""x""", :OLD."备注 ""x""") = 0))) THEN f := f || ',' || '"备注 \"x\""'; END IF; IF LENGTH(f) > 0 THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:NEW."单位编号") || ',' || "_hetsync_pkg".part(:NEW."年份") || ',' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, '[' || SUBSTR(f, 2) || ']'); END IF; ELSE INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:OLD."单位编号") || ',' || "_hetsync_pkg".part(:OLD."年份") || ',' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:NEW."单位编号") || ',' || "_hetsync_pkg".part(:NEW."年份") || ',' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_d_变电站表" AFTER DELETE ON "变电站表" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:OLD."单位编号") || ',' || "_hetsync_pkg".part(:OLD."年份") || ',' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); END IF; END;;

-- staging of 变电站表

-- apply phase D of 变电站表

-- apply phase U of 变电站表

-- row update of 变电站表
UPDATE "变电站表" SET "名称" = ?, "容量" = ?, "备注 ""x""" = ? WHERE "单位编号" = ? AND "年份" = ? AND "ID" = ? AND (DECODE("名称", ?, 0, 1) = 1 OR DECODE("容量", ?, 0, 1) = 1 OR DECODE("备注 ""x""", ?, 0, 1) = 1);

-- row insert and delete of 变电站表
INSERT INTO "变电站表" ("单位编号", "年份", "ID", "名称", "容量", "备注 ""x""") SELECT ?, ?, ?, ?, ?, ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM "变电站表" WHERE "单位编号" = ? AND "年份" = ? AND "ID" = ?);
DELETE FROM "变电站表" WHERE "单位编号" = ? AND "年份" = ? AND "ID" = ?;

-- reading 变电站表
SELECT t.* FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") IN ((?, ?, ?), (?, ?, ?));
SELECT t.* FROM "变电站表" AS t  ORDER BY t."单位编号", t."年份", t."ID" LIMIT ?;
SELECT t.* FROM "变电站表" AS t WHERE (t."单位编号" > ?) OR (t."单位编号" = ? AND t."年份" > ?) OR (t."单位编号" = ? AND t."年份" = ? AND t."ID" > ?) ORDER BY t."单位编号", t."年份", t."ID" LIMIT ?;
SELECT count(*) FROM "变电站表";
SELECT count(*) FROM "变电站表" WHERE "单位编号" IS NULL OR "年份" IS NULL OR "ID" IS NULL;
SELECT t."单位编号", t."年份", t."ID", count(*) FROM "变电站表" AS t WHERE t."单位编号" IS NOT NULL AND t."年份" IS NOT NULL AND t."ID" IS NOT NULL GROUP BY t."单位编号", t."年份", t."ID" HAVING count(*) > 1 ORDER BY t."单位编号", t."年份", t."ID" LIMIT 5;

-- digest of 变电站表

-- lock rows of 变电站表
SELECT t."单位编号", t."年份", t."ID" FROM "变电站表" AS t WHERE (t."单位编号", t."年份", t."ID") IN ((?, ?, ?), (?, ?, ?)) ORDER BY t."单位编号", t."年份", t."ID" FOR UPDATE;

-- bulk begin on 变电站表
DROP TABLE IF EXISTS "_hetsync_bulk_变电站表";
CREATE TABLE "_hetsync_bulk_变电站表" AS SELECT "单位编号", "年份", "ID", "名称", "容量", "备注 ""x""" FROM "变电站表";
CREATE INDEX "_hetsync_bulkcode_变电站表" ON "_hetsync_bulk_变电站表" ("单位编号", "年份", "ID");
ALTER TRIGGER "_hetsync_i_变电站表" DISABLE;
ALTER TRIGGER "_hetsync_u_变电站表" DISABLE;
ALTER TRIGGER "_hetsync_d_变电站表" DISABLE;

-- bulk end on 变电站表
CREATE OR REPLACE TRIGGER "_hetsync_i_变电站表" AFTER INSERT ON "变电站表" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:NEW."单位编号") || ',' || "_hetsync_pkg".part(:NEW."年份") || ',' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_u_变电站表" AFTER UPDATE ON "变电站表" FOR EACH ROW
DECLARE f VARCHAR(8000); BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN IF DECODE(:NEW."单位编号", :OLD."单位编号", 1, 0) = 1 AND DECODE(:NEW."年份", :OLD."年份", 1, 0) = 1 AND DECODE(:NEW."ID", :OLD."ID", 1, 0) = 1 THEN f := ''; IF NOT (DECODE(:NEW."名称", :OLD."名称", 1, 0) = 1) THEN f := f || ',' || '"名称"'; END IF; IF NOT (DECODE(:NEW."容量", :OLD."容量", 1, 0) = 1) THEN f := f || ',' || '"容量"'; END IF; IF NOT (((:NEW."备注 ""x""" IS NULL AND :OLD."备注 ""x""" IS NULL) OR (:NEW."备注 ""x""" IS NOT NULL AND :OLD."备注 ""x""" IS NOT NULL AND DBMS_LOB.COMPARE(:NEW."备注 ""x""", :OLD."备注 ""x""") = 0))) THEN f := f || ',' || '"备注 \"x\""'; END IF; IF LENGTH(f) > 0 THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:NEW."单位编号") || ',' || "_hetsync_pkg".part(:NEW."年份") || ',' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, '[' || SUBSTR(f, 2) || ']'); END IF; ELSE INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:OLD."单位编号") || ',' || "_hetsync_pkg".part(:OLD."年份") || ',' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:NEW."单位编号") || ',' || "_hetsync_pkg".part(:NEW."年份") || ',' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_d_变电站表" AFTER DELETE ON "变电站表" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', '[' || "_hetsync_pkg".part(:OLD."单位编号") || ',' || "_hetsync_pkg".part(:OLD."年份") || ',' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); END IF; END;;
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, '[' || "_hetsync_pkg".part(t."单位编号") || ',' || "_hetsync_pkg".part(t."年份") || ',' || "_hetsync_pkg".part(t."ID") || ']', TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, NULL, NULL, ? FROM "变电站表" AS t LEFT JOIN "_hetsync_bulk_变电站表" AS s ON t."单位编号" = s."单位编号" AND t."年份" = s."年份" AND t."ID" = s."ID" WHERE t."单位编号" IS NOT NULL AND t."年份" IS NOT NULL AND t."ID" IS NOT NULL AND (s."单位编号" IS NULL OR DECODE(t."单位编号", s."单位编号", 0, 1) = 1 OR DECODE(t."年份", s."年份", 0, 1) = 1 OR DECODE(t."ID", s."ID", 0, 1) = 1 OR DECODE(t."名称", s."名称", 0, 1) = 1 OR DECODE(t."容量", s."容量", 0, 1) = 1 OR DECODE(t."备注 ""x""", s."备注 ""x""", 0, 1) = 1);
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, '[' || "_hetsync_pkg".part(s."单位编号") || ',' || "_hetsync_pkg".part(s."年份") || ',' || "_hetsync_pkg".part(s."ID") || ']', TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, NULL, NULL, ? FROM "_hetsync_bulk_变电站表" AS s WHERE s."单位编号" IS NOT NULL AND s."年份" IS NOT NULL AND s."ID" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "变电站表" AS t WHERE t."单位编号" = s."单位编号" AND t."年份" = s."年份" AND t."ID" = s."ID" AND NOT (DECODE(t."单位编号", s."单位编号", 0, 1) = 1 OR DECODE(t."年份", s."年份", 0, 1) = 1 OR DECODE(t."ID", s."ID", 0, 1) = 1));
DROP TABLE IF EXISTS "_hetsync_bulk_变电站表";

-- capture on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE OR REPLACE PACKAGE "_hetsync_pkg" AS
  apply_on INT;
  FUNCTION part(n NUMBER) RETURN VARCHAR;
  FUNCTION part(s VARCHAR) RETURN VARCHAR;
END;;
CREATE OR REPLACE PACKAGE BODY "_hetsync_pkg" AS
  FUNCTION part(n NUMBER) RETURN VARCHAR IS
  BEGIN
    RETURN TO_CHAR(n);
  END;
  FUNCTION part(s VARCHAR) RETURN VARCHAR IS
  BEGIN
    RETURN '"' || REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(s, '\', '\\'), '"', '\"'), CHR(10), '\n'), CHR(13), '\r'), CHR(9), '\t') || '"';
  END;
END;;
CREATE OR REPLACE TRIGGER "_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" AFTER INSERT ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" AFTER UPDATE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" FOR EACH ROW
DECLARE f VARCHAR(8000); BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN IF DECODE(:NEW."ID", :OLD."ID", 1, 0) = 1 THEN f := ''; IF NOT (((:NEW."颜色" IS NULL AND :OLD."颜色" IS NULL) OR (:NEW."颜色" IS NOT NULL AND :OLD."颜色" IS NOT NULL AND DBMS_LOB.COMPARE(:NEW."颜色", :OLD."颜色") = 0))) THEN f := f || ',' || '"颜色"'; END IF; IF LENGTH(f) > 0 THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, '[' || SUBSTR(f, 2) || ']'); END IF; ELSE INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" AFTER DELETE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); END IF; END;;

-- staging of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- apply phase D of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- apply phase U of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- row update of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
UPDATE "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" SET "颜色" = ? WHERE "ID" = ? AND (DECODE("颜色", ?, 0, 1) = 1);

-- row insert and delete of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
INSERT INTO "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" ("ID", "颜色") SELECT ?, ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" = ?);
DELETE FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" = ?;

-- reading 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IN (?, ?);
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t  ORDER BY t."ID" LIMIT ?;
SELECT t.* FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE (t."ID" > ?) ORDER BY t."ID" LIMIT ?;
SELECT count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
SELECT count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" WHERE "ID" IS NULL;
SELECT t."ID", count(*) FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IS NOT NULL GROUP BY t."ID" HAVING count(*) > 1 ORDER BY t."ID" LIMIT 5;

-- digest of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- lock rows of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t."ID" FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" IN (?, ?) ORDER BY t."ID" FOR UPDATE;

-- bulk begin on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TABLE IF EXISTS "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压_9758e70a25fdd71c";
CREATE TABLE "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压_9758e70a25fdd71c" AS SELECT "ID", "颜色" FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'";
CREATE INDEX "_hetsync_bulkcode_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高_9758e70a25fdd71c" ON "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压_9758e70a25fdd71c" ("ID");
ALTER TRIGGER "_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" DISABLE;
ALTER TRIGGER "_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" DISABLE;
ALTER TRIGGER "_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" DISABLE;

-- bulk end on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE OR REPLACE TRIGGER "_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" AFTER INSERT ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" AFTER UPDATE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" FOR EACH ROW
DECLARE f VARCHAR(8000); BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN IF DECODE(:NEW."ID", :OLD."ID", 1, 0) = 1 THEN f := ''; IF NOT (((:NEW."颜色" IS NULL AND :OLD."颜色" IS NULL) OR (:NEW."颜色" IS NOT NULL AND :OLD."颜色" IS NOT NULL AND DBMS_LOB.COMPARE(:NEW."颜色", :OLD."颜色") = 0))) THEN f := f || ',' || '"颜色"'; END IF; IF LENGTH(f) > 0 THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, '[' || SUBSTR(f, 2) || ']'); END IF; ELSE INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:NEW."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线_9758e70a25fdd71c" AFTER DELETE ON "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', '[' || "_hetsync_pkg".part(:OLD."ID") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); END IF; END;;
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, '[' || "_hetsync_pkg".part(t."ID") || ']', TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, NULL, NULL, ? FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t LEFT JOIN "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压_9758e70a25fdd71c" AS s ON t."ID" = s."ID" WHERE t."ID" IS NOT NULL AND (s."ID" IS NULL OR DECODE(t."ID", s."ID", 0, 1) = 1 OR DECODE(t."颜色", s."颜色", 0, 1) = 1);
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, '[' || "_hetsync_pkg".part(s."ID") || ']', TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, NULL, NULL, ? FROM "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压_9758e70a25fdd71c" AS s WHERE s."ID" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'" AS t WHERE t."ID" = s."ID" AND NOT (DECODE(t."ID", s."ID", 0, 1) = 1));
DROP TABLE IF EXISTS "_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压_9758e70a25fdd71c";

-- capture on k
CREATE OR REPLACE PACKAGE "_hetsync_pkg" AS
  apply_on INT;
  FUNCTION part(n NUMBER) RETURN VARCHAR;
  FUNCTION part(s VARCHAR) RETURN VARCHAR;
END;;
CREATE OR REPLACE PACKAGE BODY "_hetsync_pkg" AS
  FUNCTION part(n NUMBER) RETURN VARCHAR IS
  BEGIN
    RETURN TO_CHAR(n);
  END;
  FUNCTION part(s VARCHAR) RETURN VARCHAR IS
  BEGIN
    RETURN '"' || REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(s, '\', '\\'), '"', '\"'), CHR(10), '\n'), CHR(13), '\r'), CHR(9), '\t') || '"';
  END;
END;;
CREATE OR REPLACE TRIGGER "_hetsync_i_k" AFTER INSERT ON "k" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:NEW."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_u_k" AFTER UPDATE ON "k" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN IF NOT (DECODE(:NEW."a", :OLD."a", 1, 0) = 1) THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:OLD."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:NEW."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_d_k" AFTER DELETE ON "k" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:OLD."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); END IF; END;;

-- staging of k

-- apply phase D of k

-- apply phase U of k

-- row insert and delete of k
INSERT INTO "k" ("a") SELECT ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM "k" WHERE "a" = ?);
DELETE FROM "k" WHERE "a" = ?;

-- reading k
SELECT t.* FROM "k" AS t WHERE t."a" IN (?, ?);
SELECT t.* FROM "k" AS t  ORDER BY t."a" LIMIT ?;
SELECT t.* FROM "k" AS t WHERE (t."a" > ?) ORDER BY t."a" LIMIT ?;
SELECT count(*) FROM "k";
SELECT count(*) FROM "k" WHERE "a" IS NULL;
SELECT t."a", count(*) FROM "k" AS t WHERE t."a" IS NOT NULL GROUP BY t."a" HAVING count(*) > 1 ORDER BY t."a" LIMIT 5;

-- digest of k

-- lock rows of k
SELECT t."a" FROM "k" AS t WHERE t."a" IN (?, ?) ORDER BY t."a" FOR UPDATE;

-- bulk begin on k
DROP TABLE IF EXISTS "_hetsync_bulk_k";
CREATE TABLE "_hetsync_bulk_k" AS SELECT "a" FROM "k";
CREATE INDEX "_hetsync_bulkcode_k" ON "_hetsync_bulk_k" ("a");
ALTER TRIGGER "_hetsync_i_k" DISABLE;
ALTER TRIGGER "_hetsync_u_k" DISABLE;
ALTER TRIGGER "_hetsync_d_k" DISABLE;

-- bulk end on k
CREATE OR REPLACE TRIGGER "_hetsync_i_k" AFTER INSERT ON "k" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:NEW."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_u_k" AFTER UPDATE ON "k" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN IF NOT (DECODE(:NEW."a", :OLD."a", 1, 0) = 1) THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:OLD."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:NEW."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 0, NULL); END IF; END IF; END;;
CREATE OR REPLACE TRIGGER "_hetsync_d_k" AFTER DELETE ON "k" FOR EACH ROW
BEGIN IF "_hetsync_pkg".apply_on IS NULL THEN INSERT INTO "_hetsync_tracking" (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', '[' || "_hetsync_pkg".part(:OLD."a") || ']', SYS_EXTRACT_UTC(SYSTIMESTAMP), SYS_CONTEXT('USERENV', 'SESSION_USER'), 1, NULL); END IF; END;;
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, '[' || "_hetsync_pkg".part(t."a") || ']', TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, NULL, NULL, ? FROM "k" AS t LEFT JOIN "_hetsync_bulk_k" AS s ON t."a" = s."a" WHERE t."a" IS NOT NULL AND (s."a" IS NULL OR DECODE(t."a", s."a", 0, 1) = 1);
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, '[' || "_hetsync_pkg".part(s."a") || ']', TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, NULL, NULL, ? FROM "_hetsync_bulk_k" AS s WHERE s."a" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "k" AS t WHERE t."a" = s."a" AND NOT (DECODE(t."a", s."a", 0, 1) = 1));
DROP TABLE IF EXISTS "_hetsync_bulk_k";

-- read changes
SELECT seq, table_name, code, TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), deleted, fields, origin, user_name FROM "_hetsync_tracking" WHERE seq > ? AND seq <= ? ORDER BY seq;
SELECT seq, table_name, code, TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), deleted, fields, origin, user_name FROM "_hetsync_tracking" WHERE seq > ? AND seq <= ? AND (origin IS NULL OR origin <> ?) ORDER BY seq;

-- capture objects with their definitions
SELECT 'trigger ' || TRIGGER_NAME || ' on ' || TABLE_NAME, TRIGGER_TYPE || ' ' || TRIGGERING_EVENT || ' ' || STATUS FROM USER_TRIGGERS WHERE TRIGGER_NAME LIKE '!_hetsync!_%' ESCAPE '!' UNION ALL SELECT 'package ' || OBJECT_NAME, OBJECT_TYPE || ' ' || STATUS FROM USER_OBJECTS WHERE OBJECT_TYPE IN ('PACKAGE', 'PACKAGE BODY') AND OBJECT_NAME LIKE '!_hetsync!_%' ESCAPE '!';

-- bounded read
SELECT seq, table_name, code, TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?;
SELECT seq, table_name, code, TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ? AND seq <= ? AND (origin IS NULL OR origin <> ?) ORDER BY seq LIMIT ?;

-- count events
SELECT count(*) FROM "_hetsync_tracking" WHERE seq > ?;
SELECT count(*) FROM "_hetsync_tracking" WHERE seq > ? AND (origin IS NULL OR origin <> ?);

-- peer watermark
SELECT watermark, within_seq FROM "_hetsync_peer" WHERE peer = ?;
DELETE FROM "_hetsync_peer" WHERE peer = ?;
INSERT INTO "_hetsync_peer"(peer, watermark, within_seq, updated_at) VALUES (?, ?, ?, SYS_EXTRACT_UTC(SYSTIMESTAMP));

-- guard
SELECT seq, table_name, code, TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ? AND origin IS NULL ORDER BY seq LIMIT ?;
SELECT seq, table_name, code, TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), deleted, fields, origin, user_name, seq FROM "_hetsync_tracking" WHERE seq > ? AND (origin IS NULL OR origin <> ?) ORDER BY seq LIMIT ?;

-- conflicts recorded until the engine logged them
CREATE TABLE IF NOT EXISTS "_hetsync_conflict" (
    uid VARCHAR(200) NOT NULL PRIMARY KEY,
    body TEXT NOT NULL);
INSERT INTO "_hetsync_conflict"(uid, body) VALUES (?, ?), (?, ?);
SELECT uid, body FROM "_hetsync_conflict" ORDER BY uid;
DELETE FROM "_hetsync_conflict" WHERE uid IN (?, ?);

-- trimming superseded local edits
DELETE FROM "_hetsync_tracking" WHERE seq = ?;
UPDATE "_hetsync_tracking" SET fields = ? WHERE seq = ?;

-- purging integrated tracking rows
SELECT min(seq), max(seq) FROM "_hetsync_tracking";
SELECT seq FROM "_hetsync_tracking" WHERE seq >= ? ORDER BY seq LIMIT 1 OFFSET 1000;
DELETE FROM "_hetsync_tracking" WHERE seq >= ? AND seq < ? AND seq <= ? AND TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6') < ?;

-- tracking rows written by the engine
INSERT INTO "_hetsync_tracking"(table_name, code, changed_at, deleted, fields, origin, user_name) VALUES (?, ?, TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, ?, ?, ?), (?, ?, TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS.FF6'), ?, ?, ?, ?);

-- transactions
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
SET TRANSACTION READ ONLY;
BEGIN "_hetsync_pkg".apply_on := 1; END;;
BEGIN "_hetsync_pkg".apply_on := NULL; END;;

-- dameng: the commit barrier
LOCK TABLE "_hetsync_tracking" IN SHARE MODE NOWAIT;
SELECT COALESCE(MAX(seq), 0) FROM "_hetsync_tracking";

