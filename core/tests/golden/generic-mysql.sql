-- bookkeeping tables
CREATE TABLE IF NOT EXISTS `_hetsync_tracking` (
    seq BIGINT NOT NULL PRIMARY KEY,
    table_name VARCHAR(200) NOT NULL,
    code VARCHAR(500) NOT NULL,
    changed_at BIGINT NOT NULL,
    deleted SMALLINT NOT NULL DEFAULT 0,
    user_name VARCHAR(400),
    fields TEXT,
    origin VARCHAR(255));
CREATE INDEX IF NOT EXISTS `_hetsync_tracking_by_code` ON `_hetsync_tracking`(table_name, code);
CREATE TABLE IF NOT EXISTS `_hetsync_seq` (n BIGINT NOT NULL);
INSERT INTO `_hetsync_seq` (n) SELECT k.m FROM (SELECT COALESCE(MAX(seq), 0) AS m FROM `_hetsync_tracking`) k WHERE NOT EXISTS (SELECT 1 FROM `_hetsync_seq`);
CREATE TABLE IF NOT EXISTS `_hetsync_peer` (
    peer VARCHAR(255) NOT NULL PRIMARY KEY,
    watermark BIGINT NOT NULL,
    within_seq BIGINT NOT NULL DEFAULT 0,
    updated_at VARCHAR(40) NOT NULL);
CREATE TABLE IF NOT EXISTS `_hetsync_installed` (
    table_name VARCHAR(200) NOT NULL PRIMARY KEY,
    installed_at VARCHAR(40) NOT NULL);
CREATE TABLE IF NOT EXISTS `_hetsync_meta` (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL);

-- install: hetsync's objects to drop

-- install: drop one
DROP TRIGGER IF EXISTS `_hetsync_x`;

-- install: layout version
SELECT name, value FROM `_hetsync_meta`;
DELETE FROM `_hetsync_meta` WHERE name = ?;
INSERT INTO `_hetsync_meta`(name, value) VALUES (?, ?);

-- install: columns an older layout lacks
ALTER TABLE `_hetsync_peer` ADD COLUMN within_seq BIGINT NOT NULL DEFAULT 0;

-- install: record a table
INSERT INTO `_hetsync_installed`(table_name, installed_at) VALUES (?, CURRENT_TIMESTAMP);

-- is installed

-- capture on 变电站表
DROP TABLE IF EXISTS `_hetsync_snap_变电站表`;
CREATE TABLE `_hetsync_snap_变电站表` AS SELECT `单位编号`, `年份`, `ID`, `名称`, `容量`, `备注 "x"` FROM `变电站表`;
CREATE INDEX `_hetsync_snapcode_变电站表` ON `_hetsync_snap_变电站表` (`单位编号`, `年份`, `ID`);

-- staging of 变电站表

-- apply phase D of 变电站表

-- apply phase U of 变电站表

-- row update of 变电站表
UPDATE `变电站表` SET `名称` = ?, `容量` = ?, `备注 "x"` = ? WHERE `单位编号` = ? AND `年份` = ? AND `ID` = ? AND (NOT (CAST(`名称` AS BINARY) <=> CAST(? AS BINARY)) OR NOT (CAST(`容量` AS BINARY) <=> CAST(? AS BINARY)) OR NOT (CAST(`备注 "x"` AS BINARY) <=> CAST(? AS BINARY)));

-- row insert and delete of 变电站表
INSERT INTO `变电站表` (`单位编号`, `年份`, `ID`, `名称`, `容量`, `备注 "x"`) SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM `变电站表` WHERE `单位编号` = ? AND `年份` = ? AND `ID` = ?);
DELETE FROM `变电站表` WHERE `单位编号` = ? AND `年份` = ? AND `ID` = ?;

-- reading 变电站表
SELECT t.* FROM `变电站表` AS t WHERE ((t.`单位编号` = ? AND t.`年份` = ? AND t.`ID` = ?) OR (t.`单位编号` = ? AND t.`年份` = ? AND t.`ID` = ?));
SELECT t.* FROM `变电站表` AS t ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT t.* FROM `变电站表` AS t WHERE (t.`单位编号`, t.`年份`, t.`ID`) > (?, ?, ?) ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT count(*) FROM `变电站表`;
SELECT count(*) FROM `变电站表` WHERE `单位编号` IS NULL OR `年份` IS NULL OR `ID` IS NULL;
SELECT t.`单位编号`, t.`年份`, t.`ID`, count(*) FROM `变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL GROUP BY t.`单位编号`, t.`年份`, t.`ID` HAVING count(*) > 1 ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT 5;

-- digest of 变电站表

-- snapshot comparison of 变电站表
SELECT t.* FROM `变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_变电站表` AS s WHERE t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`名称` AS BINARY) <=> CAST(s.`名称` AS BINARY)) OR NOT (CAST(t.`容量` AS BINARY) <=> CAST(s.`容量` AS BINARY)) OR NOT (CAST(t.`备注 "x"` AS BINARY) <=> CAST(s.`备注 "x"` AS BINARY)))) ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT t.* FROM `变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_变电站表` AS s WHERE t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`名称` AS BINARY) <=> CAST(s.`名称` AS BINARY)) OR NOT (CAST(t.`容量` AS BINARY) <=> CAST(s.`容量` AS BINARY)) OR NOT (CAST(t.`备注 "x"` AS BINARY) <=> CAST(s.`备注 "x"` AS BINARY)))) AND (t.`单位编号`, t.`年份`, t.`ID`) > (?, ?, ?) ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT t.* FROM `_hetsync_snap_变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `变电站表` AS s WHERE t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)))) AND (t.`单位编号`, t.`年份`, t.`ID`) > (?, ?, ?) ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT (SELECT count(*) FROM `变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_变电站表` AS s WHERE t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`名称` AS BINARY) <=> CAST(s.`名称` AS BINARY)) OR NOT (CAST(t.`容量` AS BINARY) <=> CAST(s.`容量` AS BINARY)) OR NOT (CAST(t.`备注 "x"` AS BINARY) <=> CAST(s.`备注 "x"` AS BINARY))))) + (SELECT count(*) FROM `_hetsync_snap_变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `变电站表` AS s WHERE t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)))));
DELETE FROM `_hetsync_snap_变电站表` WHERE ((`单位编号` = ? AND `年份` = ? AND `ID` = ?) OR (`单位编号` = ? AND `年份` = ? AND `ID` = ?));
INSERT INTO `_hetsync_snap_变电站表` (`单位编号`, `年份`, `ID`, `名称`, `容量`, `备注 "x"`) SELECT `单位编号`, `年份`, `ID`, `名称`, `容量`, `备注 "x"` FROM `变电站表` AS t WHERE ((t.`单位编号` = ? AND t.`年份` = ? AND t.`ID` = ?) OR (t.`单位编号` = ? AND t.`年份` = ? AND t.`ID` = ?));

-- capture on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TABLE IF EXISTS `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
CREATE TABLE `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS SELECT `ID`, `颜色` FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
CREATE INDEX `_hetsync_snapcode_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路_9758e70a25fdd71c` ON `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` (`ID`);

-- staging of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- apply phase D of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- apply phase U of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- row update of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
UPDATE `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` SET `颜色` = ? WHERE `ID` = ? AND (NOT (CAST(`颜色` AS BINARY) <=> CAST(? AS BINARY)));

-- row insert and delete of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
INSERT INTO `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` (`ID`, `颜色`) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` = ?);
DELETE FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` = ?;

-- reading 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IN (?, ?);
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t ORDER BY t.`ID` LIMIT ?;
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE (t.`ID`) > (?) ORDER BY t.`ID` LIMIT ?;
SELECT count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
SELECT count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` IS NULL;
SELECT t.`ID`, count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL GROUP BY t.`ID` HAVING count(*) > 1 ORDER BY t.`ID` LIMIT 5;

-- digest of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- snapshot comparison of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`颜色` AS BINARY) <=> CAST(s.`颜色` AS BINARY)))) ORDER BY t.`ID` LIMIT ?;
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`颜色` AS BINARY) <=> CAST(s.`颜色` AS BINARY)))) AND (t.`ID`) > (?) ORDER BY t.`ID` LIMIT ?;
SELECT t.* FROM `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)))) AND (t.`ID`) > (?) ORDER BY t.`ID` LIMIT ?;
SELECT (SELECT count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`颜色` AS BINARY) <=> CAST(s.`颜色` AS BINARY))))) + (SELECT count(*) FROM `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)))));
DELETE FROM `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` IN (?, ?);
INSERT INTO `_hetsync_snap_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` (`ID`, `颜色`) SELECT `ID`, `颜色` FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IN (?, ?);

-- capture on k
DROP TABLE IF EXISTS `_hetsync_snap_k`;
CREATE TABLE `_hetsync_snap_k` AS SELECT `a` FROM `k`;
CREATE INDEX `_hetsync_snapcode_k` ON `_hetsync_snap_k` (`a`);

-- staging of k

-- apply phase D of k

-- apply phase U of k

-- row insert and delete of k
INSERT INTO `k` (`a`) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM `k` WHERE `a` = ?);
DELETE FROM `k` WHERE `a` = ?;

-- reading k
SELECT t.* FROM `k` AS t WHERE t.`a` IN (?, ?);
SELECT t.* FROM `k` AS t ORDER BY t.`a` LIMIT ?;
SELECT t.* FROM `k` AS t WHERE (t.`a`) > (?) ORDER BY t.`a` LIMIT ?;
SELECT count(*) FROM `k`;
SELECT count(*) FROM `k` WHERE `a` IS NULL;
SELECT t.`a`, count(*) FROM `k` AS t WHERE t.`a` IS NOT NULL GROUP BY t.`a` HAVING count(*) > 1 ORDER BY t.`a` LIMIT 5;

-- digest of k

-- snapshot comparison of k
SELECT t.* FROM `k` AS t WHERE t.`a` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_k` AS s WHERE t.`a` = s.`a` AND NOT (NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY)))) ORDER BY t.`a` LIMIT ?;
SELECT t.* FROM `k` AS t WHERE t.`a` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_k` AS s WHERE t.`a` = s.`a` AND NOT (NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY)))) AND (t.`a`) > (?) ORDER BY t.`a` LIMIT ?;
SELECT t.* FROM `_hetsync_snap_k` AS t WHERE t.`a` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `k` AS s WHERE t.`a` = s.`a` AND NOT (NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY)))) AND (t.`a`) > (?) ORDER BY t.`a` LIMIT ?;
SELECT (SELECT count(*) FROM `k` AS t WHERE t.`a` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `_hetsync_snap_k` AS s WHERE t.`a` = s.`a` AND NOT (NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY))))) + (SELECT count(*) FROM `_hetsync_snap_k` AS t WHERE t.`a` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `k` AS s WHERE t.`a` = s.`a` AND NOT (NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY)))));
DELETE FROM `_hetsync_snap_k` WHERE `a` IN (?, ?);
INSERT INTO `_hetsync_snap_k` (`a`) SELECT `a` FROM `k` AS t WHERE t.`a` IN (?, ?);

-- read changes
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? ORDER BY seq;
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? AND (origin IS NULL OR origin <> ?) ORDER BY seq;

-- capture objects with their definitions

-- bounded read
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?;
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? AND (origin IS NULL OR origin <> ?) ORDER BY seq LIMIT ?;

-- count events
SELECT count(*) FROM `_hetsync_tracking` WHERE seq > ?;
SELECT count(*) FROM `_hetsync_tracking` WHERE seq > ? AND (origin IS NULL OR origin <> ?);

-- peer watermark
SELECT watermark, within_seq FROM `_hetsync_peer` WHERE peer = ?;
DELETE FROM `_hetsync_peer` WHERE peer = ?;
INSERT INTO `_hetsync_peer`(peer, watermark, within_seq, updated_at) VALUES (?, ?, ?, CURRENT_TIMESTAMP);

-- guard
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM `_hetsync_tracking` WHERE seq > ? AND origin IS NULL ORDER BY seq LIMIT ?;
SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name, seq FROM `_hetsync_tracking` WHERE seq > ? AND (origin IS NULL OR origin <> ?) ORDER BY seq LIMIT ?;

-- conflicts recorded until the engine logged them
CREATE TABLE IF NOT EXISTS `_hetsync_conflict` (
    uid VARCHAR(200) NOT NULL PRIMARY KEY,
    body TEXT NOT NULL);
INSERT INTO `_hetsync_conflict`(uid, body) VALUES (?, ?), (?, ?);
SELECT uid, body FROM `_hetsync_conflict` ORDER BY uid;
DELETE FROM `_hetsync_conflict` WHERE uid IN (?, ?);

-- trimming superseded local edits
DELETE FROM `_hetsync_tracking` WHERE seq = ?;
UPDATE `_hetsync_tracking` SET fields = ? WHERE seq = ?;

-- purging integrated tracking rows
SELECT min(seq), max(seq) FROM `_hetsync_tracking`;
SELECT seq FROM `_hetsync_tracking` WHERE seq >= ? ORDER BY seq LIMIT 1 OFFSET 1000;
DELETE FROM `_hetsync_tracking` WHERE seq >= ? AND seq < ? AND seq <= ? AND changed_at < ?;

-- tracking rows written by the engine
UPDATE `_hetsync_seq` SET n = n + 2;
INSERT INTO `_hetsync_tracking`(seq, table_name, code, changed_at, deleted, fields, origin, user_name) SELECT q.n - 1, ?, ?, ?, ?, ?, ?, ? FROM `_hetsync_seq` q UNION ALL SELECT q.n - 0, ?, ?, ?, ?, ?, ?, ? FROM `_hetsync_seq` q;

-- transactions

