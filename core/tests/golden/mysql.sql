-- bookkeeping tables
CREATE TABLE IF NOT EXISTS `_hetsync_tracking` (
    seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    table_name VARCHAR(64) NOT NULL,
    code TEXT NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    deleted TINYINT(1) NOT NULL DEFAULT 0,
    user_name VARCHAR(400),
    fields TEXT,
    origin VARCHAR(255)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `_hetsync_peer` (
    peer VARCHAR(255) NOT NULL PRIMARY KEY,
    watermark BIGINT NOT NULL,
    within_seq BIGINT NOT NULL DEFAULT 0,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `_hetsync_installed` (
    table_name VARCHAR(64) NOT NULL PRIMARY KEY,
    installed_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `_hetsync_meta` (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- install: hetsync's objects to drop
SELECT 'TRIGGER', CAST(trigger_name AS CHAR) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND trigger_name LIKE '\\_hetsync\\_%' UNION ALL SELECT 'PROCEDURE', CAST(routine_name AS CHAR) FROM information_schema.routines WHERE routine_schema = DATABASE() AND routine_type = 'PROCEDURE' AND routine_name LIKE '\\_hetsync\\_%';

-- install: drop one
DROP TRIGGER IF EXISTS `_hetsync_x`;

-- install: layout version
SELECT CAST(name AS CHAR), CAST(value AS CHAR) FROM `_hetsync_meta`;
INSERT INTO `_hetsync_meta`(name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value);

-- install: columns an older layout lacks
SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?;
ALTER TABLE `_hetsync_peer` ADD COLUMN within_seq BIGINT NOT NULL DEFAULT 0;

-- install: record a table
INSERT INTO `_hetsync_installed`(table_name, installed_at) VALUES (?, UTC_TIMESTAMP(6));

-- is installed
SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?;

-- capture on 变电站表
CREATE PROCEDURE `_hetsync_apply_变电站表`(IN phase CHAR(1), OUT n_ins BIGINT, OUT n_upd BIGINT, OUT n_del BIGINT) MODIFIES SQL DATA BEGIN SET n_ins = 0, n_upd = 0, n_del = 0; IF phase = 'D' THEN DELETE t FROM `_hetsync_stage_变电站表` AS s STRAIGHT_JOIN `变电站表` AS t ON t.`单位编号` = s.c0 AND t.`年份` = s.c1 AND t.`ID` = s.c2 WHERE s.op = 'D'; SET n_del = ROW_COUNT(); ELSE UPDATE `_hetsync_stage_变电站表` AS s STRAIGHT_JOIN `变电站表` AS t ON t.`单位编号` = s.c0 AND t.`年份` = s.c1 AND t.`ID` = s.c2 SET t.`名称` = IF(s.m3, s.c3, t.`名称`), t.`容量` = IF(s.m4, s.c4, t.`容量`), t.`备注 "x"` = IF(s.m5, s.c5, t.`备注 "x"`) WHERE s.op = 'U' AND ((s.m3 AND NOT (CAST(t.`名称` AS BINARY) <=> CAST(s.c3 AS BINARY))) OR (s.m4 AND NOT (t.`容量` <=> s.c4)) OR (s.m5 AND NOT (CAST(t.`备注 "x"` AS BINARY) <=> CAST(s.c5 AS BINARY)))); SET n_upd = ROW_COUNT(); INSERT INTO `变电站表` (`单位编号`, `年份`, `ID`, `名称`, `容量`, `备注 "x"`) SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5 FROM `_hetsync_stage_变电站表` AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM `变电站表` AS t WHERE t.`单位编号` = s.c0 AND t.`年份` = s.c1 AND t.`ID` = s.c2); SET n_ins = ROW_COUNT(); END IF; END;
CREATE TRIGGER `_hetsync_i_变电站表` AFTER INSERT ON `变电站表` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(NEW.`单位编号`, NEW.`年份`, NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF;
CREATE TRIGGER `_hetsync_u_变电站表` AFTER UPDATE ON `变电站表` FOR EACH ROW IF @hetsync_apply IS NULL THEN IF CAST(NEW.`单位编号` AS BINARY) <=> CAST(OLD.`单位编号` AS BINARY) AND NEW.`年份` <=> OLD.`年份` AND NEW.`ID` <=> OLD.`ID` THEN IF (@hetsync_fields := CONCAT_WS(',', IF(CAST(NEW.`名称` AS BINARY) <=> CAST(OLD.`名称` AS BINARY), NULL, '"名称"'), IF(NEW.`容量` <=> OLD.`容量`, NULL, '"容量"'), IF(CAST(NEW.`备注 "x"` AS BINARY) <=> CAST(OLD.`备注 "x"` AS BINARY), NULL, '"备注 \\"x\\""'))) <> '' THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(NEW.`单位编号`, NEW.`年份`, NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, CONCAT('[', @hetsync_fields, ']')); END IF; ELSE INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(OLD.`单位编号`, OLD.`年份`, OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL), ('变电站表', JSON_ARRAY(NEW.`单位编号`, NEW.`年份`, NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF; END IF;
CREATE TRIGGER `_hetsync_d_变电站表` AFTER DELETE ON `变电站表` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(OLD.`单位编号`, OLD.`年份`, OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL); END IF;

-- staging of 变电站表
CREATE TEMPORARY TABLE IF NOT EXISTS `_hetsync_stage_变电站表` (c0 varchar(20) NULL, c1 integer NULL, c2 integer NULL, c3 varchar(100) NULL, c4 numeric(12,4) NULL, c5 text NULL, m0 BOOL NOT NULL, m1 BOOL NOT NULL, m2 BOOL NOT NULL, m3 BOOL NOT NULL, m4 BOOL NOT NULL, m5 BOOL NOT NULL, op CHAR(1) NOT NULL, KEY (op, c0, c1, c2));

-- apply phase D of 变电站表
CALL `_hetsync_apply_变电站表`('D', @hetsync_ins, @hetsync_upd, @hetsync_del);
SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED);

-- apply phase U of 变电站表
CALL `_hetsync_apply_变电站表`('U', @hetsync_ins, @hetsync_upd, @hetsync_del);
SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED);

-- row update of 变电站表
UPDATE `变电站表` SET `名称` = ?, `容量` = ?, `备注 "x"` = ? WHERE `单位编号` = ? AND `年份` = ? AND `ID` = ? AND (NOT (CAST(`名称` AS BINARY) <=> CAST(? AS BINARY)) OR NOT (CAST(`容量` AS BINARY) <=> CAST(? AS BINARY)) OR NOT (CAST(`备注 "x"` AS BINARY) <=> CAST(? AS BINARY)));

-- row insert and delete of 变电站表
INSERT INTO `变电站表` (`单位编号`, `年份`, `ID`, `名称`, `容量`, `备注 "x"`) SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM `变电站表` WHERE `单位编号` = ? AND `年份` = ? AND `ID` = ?);
DELETE FROM `变电站表` WHERE `单位编号` = ? AND `年份` = ? AND `ID` = ?;

-- reading 变电站表
SELECT t.* FROM `变电站表` AS t WHERE (t.`单位编号`, t.`年份`, t.`ID`) IN ((?, ?, ?), (?, ?, ?));
SELECT t.* FROM `变电站表` AS t  ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT t.* FROM `变电站表` AS t WHERE (t.`单位编号` > ?) OR (t.`单位编号` = ? AND t.`年份` > ?) OR (t.`单位编号` = ? AND t.`年份` = ? AND t.`ID` > ?) ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT ?;
SELECT count(*) FROM `变电站表`;
SELECT count(*) FROM `变电站表` WHERE `单位编号` IS NULL OR `年份` IS NULL OR `ID` IS NULL;
SELECT t.`单位编号`, t.`年份`, t.`ID`, count(*) FROM `变电站表` AS t WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL GROUP BY t.`单位编号`, t.`年份`, t.`ID` HAVING count(*) > 1 ORDER BY t.`单位编号`, t.`年份`, t.`ID` LIMIT 5;

-- digest of 变电站表

-- lock rows of 变电站表
SELECT t.`单位编号`, t.`年份`, t.`ID` FROM `变电站表` AS t WHERE (t.`单位编号`, t.`年份`, t.`ID`) IN ((?, ?, ?), (?, ?, ?)) ORDER BY t.`单位编号`, t.`年份`, t.`ID` FOR UPDATE;

-- bulk begin on 变电站表
DROP TABLE IF EXISTS `_hetsync_bulk_变电站表`;
CREATE TABLE `_hetsync_bulk_变电站表` LIKE `变电站表`;
INSERT INTO `_hetsync_bulk_变电站表` SELECT * FROM `变电站表`;
DROP TRIGGER IF EXISTS `_hetsync_i_变电站表`;
DROP TRIGGER IF EXISTS `_hetsync_u_变电站表`;
DROP TRIGGER IF EXISTS `_hetsync_d_变电站表`;

-- bulk end on 变电站表
DROP TRIGGER IF EXISTS `_hetsync_i_变电站表`;
DROP TRIGGER IF EXISTS `_hetsync_u_变电站表`;
DROP TRIGGER IF EXISTS `_hetsync_d_变电站表`;
CREATE TRIGGER `_hetsync_i_变电站表` AFTER INSERT ON `变电站表` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(NEW.`单位编号`, NEW.`年份`, NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF;
CREATE TRIGGER `_hetsync_u_变电站表` AFTER UPDATE ON `变电站表` FOR EACH ROW IF @hetsync_apply IS NULL THEN IF CAST(NEW.`单位编号` AS BINARY) <=> CAST(OLD.`单位编号` AS BINARY) AND NEW.`年份` <=> OLD.`年份` AND NEW.`ID` <=> OLD.`ID` THEN IF (@hetsync_fields := CONCAT_WS(',', IF(CAST(NEW.`名称` AS BINARY) <=> CAST(OLD.`名称` AS BINARY), NULL, '"名称"'), IF(NEW.`容量` <=> OLD.`容量`, NULL, '"容量"'), IF(CAST(NEW.`备注 "x"` AS BINARY) <=> CAST(OLD.`备注 "x"` AS BINARY), NULL, '"备注 \\"x\\""'))) <> '' THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(NEW.`单位编号`, NEW.`年份`, NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, CONCAT('[', @hetsync_fields, ']')); END IF; ELSE INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(OLD.`单位编号`, OLD.`年份`, OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL), ('变电站表', JSON_ARRAY(NEW.`单位编号`, NEW.`年份`, NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF; END IF;
CREATE TRIGGER `_hetsync_d_变电站表` AFTER DELETE ON `变电站表` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('变电站表', JSON_ARRAY(OLD.`单位编号`, OLD.`年份`, OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL); END IF;
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, JSON_ARRAY(t.`单位编号`, t.`年份`, t.`ID`), TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, NULL, NULL, ? FROM `变电站表` AS t LEFT JOIN `_hetsync_bulk_变电站表` AS s ON t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` WHERE t.`单位编号` IS NOT NULL AND t.`年份` IS NOT NULL AND t.`ID` IS NOT NULL AND (s.`单位编号` IS NULL OR NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`名称` AS BINARY) <=> CAST(s.`名称` AS BINARY)) OR NOT (CAST(t.`容量` AS BINARY) <=> CAST(s.`容量` AS BINARY)) OR NOT (CAST(t.`备注 "x"` AS BINARY) <=> CAST(s.`备注 "x"` AS BINARY)));
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, JSON_ARRAY(s.`单位编号`, s.`年份`, s.`ID`), TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, NULL, NULL, ? FROM `_hetsync_bulk_变电站表` AS s WHERE s.`单位编号` IS NOT NULL AND s.`年份` IS NOT NULL AND s.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `变电站表` AS t WHERE t.`单位编号` = s.`单位编号` AND t.`年份` = s.`年份` AND t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`单位编号` AS BINARY) <=> CAST(s.`单位编号` AS BINARY)) OR NOT (CAST(t.`年份` AS BINARY) <=> CAST(s.`年份` AS BINARY)) OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY))));
DROP TABLE IF EXISTS `_hetsync_bulk_变电站表`;

-- capture on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE PROCEDURE `_hetsync_apply_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`(IN phase CHAR(1), OUT n_ins BIGINT, OUT n_upd BIGINT, OUT n_del BIGINT) MODIFIES SQL DATA BEGIN SET n_ins = 0, n_upd = 0, n_del = 0; IF phase = 'D' THEN DELETE t FROM `_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s STRAIGHT_JOIN `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t ON t.`ID` = s.c0 WHERE s.op = 'D'; SET n_del = ROW_COUNT(); ELSE UPDATE `_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s STRAIGHT_JOIN `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t ON t.`ID` = s.c0 SET t.`颜色` = IF(s.m1, s.c1, t.`颜色`) WHERE s.op = 'U' AND ((s.m1 AND NOT (CAST(t.`颜色` AS BINARY) <=> CAST(s.c1 AS BINARY)))); SET n_upd = ROW_COUNT(); INSERT INTO `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` (`ID`, `颜色`) SELECT s.c0, s.c1 FROM `_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` = s.c0); SET n_ins = ROW_COUNT(); END IF; END;
CREATE TRIGGER `_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AFTER INSERT ON `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF;
CREATE TRIGGER `_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AFTER UPDATE ON `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` FOR EACH ROW IF @hetsync_apply IS NULL THEN IF NEW.`ID` <=> OLD.`ID` THEN IF (@hetsync_fields := CONCAT_WS(',', IF(CAST(NEW.`颜色` AS BINARY) <=> CAST(OLD.`颜色` AS BINARY), NULL, '"颜色"'))) <> '' THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, CONCAT('[', @hetsync_fields, ']')); END IF; ELSE INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL), ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF; END IF;
CREATE TRIGGER `_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AFTER DELETE ON `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL); END IF;

-- staging of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE TEMPORARY TABLE IF NOT EXISTS `_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` (c0 bigint NULL, c1 text NULL, m0 BOOL NOT NULL, m1 BOOL NOT NULL, op CHAR(1) NOT NULL, KEY (op, c0));

-- apply phase D of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CALL `_hetsync_apply_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`('D', @hetsync_ins, @hetsync_upd, @hetsync_del);
SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED);

-- apply phase U of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CALL `_hetsync_apply_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`('U', @hetsync_ins, @hetsync_upd, @hetsync_del);
SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED);

-- row update of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
UPDATE `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` SET `颜色` = ? WHERE `ID` = ? AND (NOT (CAST(`颜色` AS BINARY) <=> CAST(? AS BINARY)));

-- row insert and delete of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
INSERT INTO `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` (`ID`, `颜色`) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` = ?);
DELETE FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` = ?;

-- reading 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IN (?, ?);
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t  ORDER BY t.`ID` LIMIT ?;
SELECT t.* FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE (t.`ID` > ?) ORDER BY t.`ID` LIMIT ?;
SELECT count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
SELECT count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` WHERE `ID` IS NULL;
SELECT t.`ID`, count(*) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IS NOT NULL GROUP BY t.`ID` HAVING count(*) > 1 ORDER BY t.`ID` LIMIT 5;

-- digest of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT d.b, count(*), CAST(SUM(d.h) AS CHAR) FROM (SELECT ((t.`ID` % 1024) + 1024) % 1024 AS b, CAST(CONV(SUBSTR(MD5(CONCAT(COALESCE(CONCAT('i', CAST(t.`ID` AS CHAR), ';'), '-'), COALESCE(CONCAT('t', LENGTH(CAST(CONVERT(t.`颜色` USING utf8mb4) AS BINARY)), ':', CAST(CONVERT(t.`颜色` USING utf8mb4) AS BINARY)), '-'))), 1, 12), 16, 10) AS SIGNED) AS h FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t) AS d GROUP BY d.b;
SELECT CONCAT(COALESCE(CONCAT('i', CAST(t.`ID` AS CHAR), ';'), '-')), MD5(CONCAT(COALESCE(CONCAT('i', CAST(t.`ID` AS CHAR), ';'), '-'), COALESCE(CONCAT('t', LENGTH(CAST(CONVERT(t.`颜色` USING utf8mb4) AS BINARY)), ':', CAST(CONVERT(t.`颜色` USING utf8mb4) AS BINARY)), '-'))) FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE ((t.`ID` % 1024) + 1024) % 1024 IN (?, ?);

-- lock rows of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.`ID` FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` IN (?, ?) ORDER BY t.`ID` FOR UPDATE;

-- bulk begin on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TABLE IF EXISTS `_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
CREATE TABLE `_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` LIKE `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
INSERT INTO `_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` SELECT * FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
DROP TRIGGER IF EXISTS `_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
DROP TRIGGER IF EXISTS `_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
DROP TRIGGER IF EXISTS `_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;

-- bulk end on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TRIGGER IF EXISTS `_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
DROP TRIGGER IF EXISTS `_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
DROP TRIGGER IF EXISTS `_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;
CREATE TRIGGER `_hetsync_i_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AFTER INSERT ON `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF;
CREATE TRIGGER `_hetsync_u_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AFTER UPDATE ON `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` FOR EACH ROW IF @hetsync_apply IS NULL THEN IF NEW.`ID` <=> OLD.`ID` THEN IF (@hetsync_fields := CONCAT_WS(',', IF(CAST(NEW.`颜色` AS BINARY) <=> CAST(OLD.`颜色` AS BINARY), NULL, '"颜色"'))) <> '' THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, CONCAT('[', @hetsync_fields, ']')); END IF; ELSE INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL), ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(NEW.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF; END IF;
CREATE TRIGGER `_hetsync_d_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AFTER DELETE ON `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', JSON_ARRAY(OLD.`ID`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL); END IF;
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, JSON_ARRAY(t.`ID`), TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, NULL, NULL, ? FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t LEFT JOIN `_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s ON t.`ID` = s.`ID` WHERE t.`ID` IS NOT NULL AND (s.`ID` IS NULL OR NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY)) OR NOT (CAST(t.`颜色` AS BINARY) <=> CAST(s.`颜色` AS BINARY)));
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, JSON_ARRAY(s.`ID`), TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, NULL, NULL, ? FROM `_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS s WHERE s.`ID` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'` AS t WHERE t.`ID` = s.`ID` AND NOT (NOT (CAST(t.`ID` AS BINARY) <=> CAST(s.`ID` AS BINARY))));
DROP TABLE IF EXISTS `_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'`;

-- capture on k
CREATE PROCEDURE `_hetsync_apply_k`(IN phase CHAR(1), OUT n_ins BIGINT, OUT n_upd BIGINT, OUT n_del BIGINT) MODIFIES SQL DATA BEGIN SET n_ins = 0, n_upd = 0, n_del = 0; IF phase = 'D' THEN DELETE t FROM `_hetsync_stage_k` AS s STRAIGHT_JOIN `k` AS t ON t.`a` = s.c0 WHERE s.op = 'D'; SET n_del = ROW_COUNT(); ELSE  INSERT INTO `k` (`a`) SELECT s.c0 FROM `_hetsync_stage_k` AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM `k` AS t WHERE t.`a` = s.c0); SET n_ins = ROW_COUNT(); END IF; END;
CREATE TRIGGER `_hetsync_i_k` AFTER INSERT ON `k` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', JSON_ARRAY(NEW.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF;
CREATE TRIGGER `_hetsync_u_k` AFTER UPDATE ON `k` FOR EACH ROW IF @hetsync_apply IS NULL THEN IF NOT (NEW.`a` <=> OLD.`a`) THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', JSON_ARRAY(OLD.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL), ('k', JSON_ARRAY(NEW.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF; END IF;
CREATE TRIGGER `_hetsync_d_k` AFTER DELETE ON `k` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', JSON_ARRAY(OLD.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL); END IF;

-- staging of k
CREATE TEMPORARY TABLE IF NOT EXISTS `_hetsync_stage_k` (c0 bigint NULL, m0 BOOL NOT NULL, op CHAR(1) NOT NULL, KEY (op, c0));

-- apply phase D of k
CALL `_hetsync_apply_k`('D', @hetsync_ins, @hetsync_upd, @hetsync_del);
SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED);

-- apply phase U of k
CALL `_hetsync_apply_k`('U', @hetsync_ins, @hetsync_upd, @hetsync_del);
SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED);

-- row insert and delete of k
INSERT INTO `k` (`a`) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM `k` WHERE `a` = ?);
DELETE FROM `k` WHERE `a` = ?;

-- reading k
SELECT t.* FROM `k` AS t WHERE t.`a` IN (?, ?);
SELECT t.* FROM `k` AS t  ORDER BY t.`a` LIMIT ?;
SELECT t.* FROM `k` AS t WHERE (t.`a` > ?) ORDER BY t.`a` LIMIT ?;
SELECT count(*) FROM `k`;
SELECT count(*) FROM `k` WHERE `a` IS NULL;
SELECT t.`a`, count(*) FROM `k` AS t WHERE t.`a` IS NOT NULL GROUP BY t.`a` HAVING count(*) > 1 ORDER BY t.`a` LIMIT 5;

-- digest of k
SELECT d.b, count(*), CAST(SUM(d.h) AS CHAR) FROM (SELECT ((t.`a` % 1024) + 1024) % 1024 AS b, CAST(CONV(SUBSTR(MD5(CONCAT(COALESCE(CONCAT('i', CAST(t.`a` AS CHAR), ';'), '-'))), 1, 12), 16, 10) AS SIGNED) AS h FROM `k` AS t) AS d GROUP BY d.b;
SELECT CONCAT(COALESCE(CONCAT('i', CAST(t.`a` AS CHAR), ';'), '-')), MD5(CONCAT(COALESCE(CONCAT('i', CAST(t.`a` AS CHAR), ';'), '-'))) FROM `k` AS t WHERE ((t.`a` % 1024) + 1024) % 1024 IN (?, ?);

-- lock rows of k
SELECT t.`a` FROM `k` AS t WHERE t.`a` IN (?, ?) ORDER BY t.`a` FOR UPDATE;

-- bulk begin on k
DROP TABLE IF EXISTS `_hetsync_bulk_k`;
CREATE TABLE `_hetsync_bulk_k` LIKE `k`;
INSERT INTO `_hetsync_bulk_k` SELECT * FROM `k`;
DROP TRIGGER IF EXISTS `_hetsync_i_k`;
DROP TRIGGER IF EXISTS `_hetsync_u_k`;
DROP TRIGGER IF EXISTS `_hetsync_d_k`;

-- bulk end on k
DROP TRIGGER IF EXISTS `_hetsync_i_k`;
DROP TRIGGER IF EXISTS `_hetsync_u_k`;
DROP TRIGGER IF EXISTS `_hetsync_d_k`;
CREATE TRIGGER `_hetsync_i_k` AFTER INSERT ON `k` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', JSON_ARRAY(NEW.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF;
CREATE TRIGGER `_hetsync_u_k` AFTER UPDATE ON `k` FOR EACH ROW IF @hetsync_apply IS NULL THEN IF NOT (NEW.`a` <=> OLD.`a`) THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', JSON_ARRAY(OLD.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL), ('k', JSON_ARRAY(NEW.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 0, NULL); END IF; END IF;
CREATE TRIGGER `_hetsync_d_k` AFTER DELETE ON `k` FOR EACH ROW IF @hetsync_apply IS NULL THEN INSERT INTO `_hetsync_tracking` (table_name, code, changed_at, user_name, deleted, fields) VALUES ('k', JSON_ARRAY(OLD.`a`), UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), 1, NULL); END IF;
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, JSON_ARRAY(t.`a`), TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, NULL, NULL, ? FROM `k` AS t LEFT JOIN `_hetsync_bulk_k` AS s ON t.`a` = s.`a` WHERE t.`a` IS NOT NULL AND (s.`a` IS NULL OR NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY)));
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) SELECT ?, JSON_ARRAY(s.`a`), TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, NULL, NULL, ? FROM `_hetsync_bulk_k` AS s WHERE s.`a` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `k` AS t WHERE t.`a` = s.`a` AND NOT (NOT (CAST(t.`a` AS BINARY) <=> CAST(s.`a` AS BINARY))));
DROP TABLE IF EXISTS `_hetsync_bulk_k`;

-- read changes
SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR) FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? ORDER BY seq;
SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR) FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? AND (origin IS NULL OR origin <> ?) ORDER BY seq;

-- capture objects with their definitions
SELECT CAST(CONCAT('trigger ', trigger_name, ' on ', event_object_table) AS CHAR), CAST(CONCAT(action_timing, ' ', event_manipulation, ' ', action_statement) AS CHAR) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND trigger_name LIKE '\\_hetsync\\_%' UNION ALL SELECT CAST(CONCAT('procedure ', routine_name) AS CHAR), CAST(routine_definition AS CHAR) FROM information_schema.routines WHERE routine_schema = DATABASE() AND routine_type = 'PROCEDURE' AND routine_name LIKE '\\_hetsync\\_%';

-- bounded read
SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR), seq FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?;
SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR), seq FROM `_hetsync_tracking` WHERE seq > ? AND seq <= ? AND (origin IS NULL OR origin <> ?) ORDER BY seq LIMIT ?;

-- count events
SELECT count(*) FROM `_hetsync_tracking` WHERE seq > ?;
SELECT count(*) FROM `_hetsync_tracking` WHERE seq > ? AND (origin IS NULL OR origin <> ?);

-- peer watermark
SELECT watermark, within_seq FROM `_hetsync_peer` WHERE peer = ?;
INSERT INTO `_hetsync_peer`(peer, watermark, within_seq, updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE watermark = VALUES(watermark), within_seq = VALUES(within_seq), updated_at = VALUES(updated_at);

-- guard
SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR), seq FROM `_hetsync_tracking` WHERE seq > ? AND origin IS NULL ORDER BY seq LIMIT ?;
SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR), seq FROM `_hetsync_tracking` WHERE seq > ? AND (origin IS NULL OR origin <> ?) ORDER BY seq LIMIT ?;

-- conflicts recorded until the engine logged them
CREATE TABLE IF NOT EXISTS `_hetsync_conflict` (
    uid VARCHAR(200) NOT NULL PRIMARY KEY,
    body TEXT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO `_hetsync_conflict`(uid, body) VALUES (?, ?), (?, ?);
SELECT uid, body FROM `_hetsync_conflict` ORDER BY uid;
DELETE FROM `_hetsync_conflict` WHERE uid IN (?, ?);

-- trimming superseded local edits
DELETE FROM `_hetsync_tracking` WHERE seq = ?;
UPDATE `_hetsync_tracking` SET fields = ? WHERE seq = ?;

-- purging integrated tracking rows
SELECT min(seq), max(seq) FROM `_hetsync_tracking`;
SELECT seq FROM `_hetsync_tracking` WHERE seq >= ? ORDER BY seq LIMIT 1 OFFSET 1000;
DELETE FROM `_hetsync_tracking` WHERE seq >= ? AND seq < ? AND seq <= ? AND CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED) < ?;

-- tracking rows written by the engine
INSERT INTO `_hetsync_tracking`(table_name, code, changed_at, deleted, fields, origin, user_name) VALUES (?, ?, TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, ?, ?, ?), (?, ?, TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, ?, ?, ?);

-- transactions
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
BEGIN;
START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;
SET @hetsync_apply = 1;
SET @hetsync_apply = NULL;

