-- bookkeeping tables
IF OBJECT_ID(N'[_hetsync_tracking]', N'U') IS NULL CREATE TABLE [_hetsync_tracking] (
    seq BIGINT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
    rv ROWVERSION NOT NULL,
    table_name NVARCHAR(256) NOT NULL,
    code NVARCHAR(4000) NOT NULL,
    changed_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME(),
    deleted BIT NOT NULL DEFAULT 0,
    user_name NVARCHAR(256) NULL DEFAULT ORIGINAL_LOGIN(),
    fields NVARCHAR(MAX) NULL,
    origin NVARCHAR(255) NULL);
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'[_hetsync_tracking]') AND name = N'_hetsync_tracking_by_position') CREATE INDEX [_hetsync_tracking_by_position] ON [_hetsync_tracking](rv);
IF OBJECT_ID(N'[_hetsync_peer]', N'U') IS NULL CREATE TABLE [_hetsync_peer] (
    peer NVARCHAR(255) NOT NULL PRIMARY KEY,
    watermark BIGINT NOT NULL,
    within_seq BIGINT NOT NULL DEFAULT 0,
    updated_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME());
IF OBJECT_ID(N'[_hetsync_installed]', N'U') IS NULL CREATE TABLE [_hetsync_installed] (
    table_name NVARCHAR(256) NOT NULL PRIMARY KEY,
    installed_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME());
IF OBJECT_ID(N'[_hetsync_meta]', N'U') IS NULL CREATE TABLE [_hetsync_meta] (
    name NVARCHAR(64) NOT NULL PRIMARY KEY,
    value NVARCHAR(MAX) NOT NULL);

-- install: hetsync's objects to drop
SELECT CASE o.type WHEN 'TR' THEN 'TRIGGER' ELSE 'PROCEDURE' END, o.name FROM sys.objects AS o WHERE o.type IN ('TR', 'P') AND o.schema_id = SCHEMA_ID() AND LEFT(o.name, 9) = N'_hetsync_' ORDER BY 2;

-- install: drop one
DROP TRIGGER IF EXISTS [_hetsync_x];

-- install: layout version
SELECT name, value FROM [_hetsync_meta];
DELETE FROM [_hetsync_meta] WHERE name = @P1;
INSERT INTO [_hetsync_meta](name, value) VALUES (@P1, @P2);

-- install: columns an older layout lacks
SELECT COUNT(*) FROM sys.columns AS c JOIN sys.tables AS t ON t.object_id = c.object_id WHERE t.name = @P1 AND t.schema_id = SCHEMA_ID() AND c.name = @P2;
ALTER TABLE [_hetsync_peer] ADD within_seq BIGINT NOT NULL DEFAULT 0;

-- install: record a table
INSERT INTO [_hetsync_installed](table_name, installed_at) VALUES (@P1, SYSUTCDATETIME());

-- is installed
SELECT COUNT(*) FROM sys.tables WHERE name = @P1 AND schema_id = SCHEMA_ID();

-- capture on 变电站表
CREATE OR ALTER TRIGGER [_hetsync_capture_变电站表] ON [变电站表] AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  IF SESSION_CONTEXT(N'hetsync.apply') IS NOT NULL RETURN;
  INSERT INTO [_hetsync_tracking](table_name, code, deleted, fields)
  SELECT N'变电站表', x.code, x.deleted, CASE WHEN x.moved = 1 THEN NULL ELSE x.f END
  FROM (SELECT CASE WHEN n.[单位编号] IS NULL THEN N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(o.[单位编号] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(o.[单位编号] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(o.[单位编号] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(o.[年份] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(o.[年份] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(o.[年份] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(o.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(o.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(o.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']' ELSE N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(n.[单位编号] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(n.[单位编号] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(n.[单位编号] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(n.[年份] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(n.[年份] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(n.[年份] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(n.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(n.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(n.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']' END AS code,
          CASE WHEN n.[单位编号] IS NULL THEN 1 ELSE 0 END AS deleted,
          CASE WHEN o.[单位编号] IS NULL OR n.[单位编号] IS NULL THEN 1 ELSE 0 END AS moved,
          N'[' + STUFF(ISNULL(CASE WHEN EXISTS (SELECT CAST(o.[名称] AS VARBINARY(MAX)) EXCEPT SELECT CAST(n.[名称] AS VARBINARY(MAX))) THEN N',"名称"' END, N'')
                 + ISNULL(CASE WHEN EXISTS (SELECT CAST(o.[容量] AS VARBINARY(MAX)) EXCEPT SELECT CAST(n.[容量] AS VARBINARY(MAX))) THEN N',"容量"' END, N'')
                 + ISNULL(CASE WHEN EXISTS (SELECT CAST(o.[备注 "x"] AS VARBINARY(MAX)) EXCEPT SELECT CAST(n.[备注 "x"] AS VARBINARY(MAX))) THEN N',"备注 \"x\""' END, N''), 1, 1, N'') + N']' AS f
        FROM deleted AS o FULL JOIN inserted AS n ON CAST(o.[单位编号] AS VARBINARY(MAX)) = CAST(n.[单位编号] AS VARBINARY(MAX)) AND CAST(o.[年份] AS VARBINARY(MAX)) = CAST(n.[年份] AS VARBINARY(MAX)) AND CAST(o.[ID] AS VARBINARY(MAX)) = CAST(n.[ID] AS VARBINARY(MAX))) AS x
  WHERE x.moved = 1 OR x.f IS NOT NULL;
END;
CREATE OR ALTER PROCEDURE [_hetsync_apply_变电站表] (@phase CHAR(1)) AS
BEGIN
  SET NOCOUNT ON;
  SET XACT_ABORT ON;
  DECLARE @ins BIGINT = 0, @upd BIGINT = 0, @del BIGINT = 0;
  IF @phase = 'D'
  BEGIN
    DELETE t FROM [变电站表] AS t JOIN [#_hetsync_stage_变电站表] AS s ON t.[单位编号] = s.c0 AND t.[年份] = s.c1 AND t.[ID] = s.c2 WHERE s.op = 'D';
    SET @del = @@ROWCOUNT;
  END
  ELSE
  BEGIN
    UPDATE t SET [名称] = CASE WHEN s.m3 = 1 THEN s.c3 ELSE t.[名称] END, [容量] = CASE WHEN s.m4 = 1 THEN s.c4 ELSE t.[容量] END, [备注 "x"] = CASE WHEN s.m5 = 1 THEN s.c5 ELSE t.[备注 "x"] END FROM [变电站表] AS t JOIN [#_hetsync_stage_变电站表] AS s ON t.[单位编号] = s.c0 AND t.[年份] = s.c1 AND t.[ID] = s.c2 WHERE s.op = 'U' AND ((s.m3 = 1 AND EXISTS (SELECT CAST(t.[名称] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.c3 AS VARBINARY(MAX)))) OR (s.m4 = 1 AND EXISTS (SELECT CAST(t.[容量] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.c4 AS VARBINARY(MAX)))) OR (s.m5 = 1 AND EXISTS (SELECT CAST(t.[备注 "x"] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.c5 AS VARBINARY(MAX)))));
    SET @upd = @@ROWCOUNT;
    INSERT INTO [变电站表] ([单位编号], [年份], [ID], [名称], [容量], [备注 "x"]) SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5 FROM [#_hetsync_stage_变电站表] AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM [变电站表] AS t WHERE t.[单位编号] = s.c0 AND t.[年份] = s.c1 AND t.[ID] = s.c2);
    SET @ins = @@ROWCOUNT;
  END;
  SELECT @ins, @upd, @del;
END;

-- staging of 变电站表
IF OBJECT_ID(N'tempdb..[#_hetsync_stage_变电站表]') IS NULL CREATE TABLE [#_hetsync_stage_变电站表] (c0 varchar(20), c1 integer, c2 integer, c3 varchar(100), c4 numeric(12,4), c5 text, m0 BIT, m1 BIT, m2 BIT, m3 BIT, m4 BIT, m5 BIT, op CHAR(1) NOT NULL);

-- apply phase D of 变电站表
EXEC [_hetsync_apply_变电站表] @phase = 'D';

-- apply phase U of 变电站表
EXEC [_hetsync_apply_变电站表] @phase = 'U';

-- row update of 变电站表
UPDATE [变电站表] SET [名称] = @P1, [容量] = @P2, [备注 "x"] = @P3 WHERE [单位编号] = @P4 AND [年份] = @P5 AND [ID] = @P6 AND (EXISTS (SELECT CAST([名称] AS VARBINARY(MAX)) EXCEPT SELECT CAST(@P7 AS VARBINARY(MAX))) OR EXISTS (SELECT CAST([容量] AS VARBINARY(MAX)) EXCEPT SELECT CAST(@P8 AS VARBINARY(MAX))) OR EXISTS (SELECT CAST([备注 "x"] AS VARBINARY(MAX)) EXCEPT SELECT CAST(@P9 AS VARBINARY(MAX))));

-- row insert and delete of 变电站表
INSERT INTO [变电站表] ([单位编号], [年份], [ID], [名称], [容量], [备注 "x"]) SELECT @P1, @P2, @P3, @P4, @P5, @P6 WHERE NOT EXISTS (SELECT 1 FROM [变电站表] WHERE [单位编号] = @P7 AND [年份] = @P8 AND [ID] = @P9);
DELETE FROM [变电站表] WHERE [单位编号] = @P1 AND [年份] = @P2 AND [ID] = @P3;

-- reading 变电站表
SELECT t.* FROM [变电站表] AS t WHERE ((t.[单位编号] = @P1 AND t.[年份] = @P2 AND t.[ID] = @P3) OR (t.[单位编号] = @P4 AND t.[年份] = @P5 AND t.[ID] = @P6));
SELECT t.* FROM [变电站表] AS t  ORDER BY t.[单位编号], t.[年份], t.[ID] OFFSET 0 ROWS FETCH NEXT @P1 ROWS ONLY;
SELECT t.* FROM [变电站表] AS t WHERE (t.[单位编号] > @P1) OR (t.[单位编号] = @P2 AND t.[年份] > @P3) OR (t.[单位编号] = @P4 AND t.[年份] = @P5 AND t.[ID] > @P6) ORDER BY t.[单位编号], t.[年份], t.[ID] OFFSET 0 ROWS FETCH NEXT @P7 ROWS ONLY;
SELECT count(*) FROM [变电站表];
SELECT count(*) FROM [变电站表] WHERE [单位编号] IS NULL OR [年份] IS NULL OR [ID] IS NULL;
SELECT t.[单位编号], t.[年份], t.[ID], count(*) FROM [变电站表] AS t WHERE t.[单位编号] IS NOT NULL AND t.[年份] IS NOT NULL AND t.[ID] IS NOT NULL GROUP BY t.[单位编号], t.[年份], t.[ID] HAVING count(*) > 1 ORDER BY t.[单位编号], t.[年份], t.[ID] OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY;

-- digest of 变电站表

-- lock 变电站表
SELECT TOP (1) 1 FROM [变电站表] WITH (TABLOCKX, HOLDLOCK);

-- lock rows of 变电站表
SELECT t.[单位编号], t.[年份], t.[ID] FROM [变电站表] AS t WITH (UPDLOCK, HOLDLOCK, ROWLOCK) WHERE ((t.[单位编号] = @P1 AND t.[年份] = @P2 AND t.[ID] = @P3) OR (t.[单位编号] = @P4 AND t.[年份] = @P5 AND t.[ID] = @P6)) ORDER BY t.[单位编号], t.[年份], t.[ID];

-- bulk begin on 变电站表
DROP TABLE IF EXISTS [_hetsync_bulk_变电站表];
SELECT [单位编号], [年份], [ID], [名称], [容量], [备注 "x"] INTO [_hetsync_bulk_变电站表] FROM [变电站表];
CREATE INDEX [_hetsync_bulkcode_变电站表] ON [_hetsync_bulk_变电站表] ([单位编号], [年份], [ID]);
ALTER TABLE [变电站表] DISABLE TRIGGER [_hetsync_capture_变电站表];

-- bulk end on 变电站表
ALTER TABLE [变电站表] ENABLE TRIGGER [_hetsync_capture_变电站表];
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) SELECT @P1, N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(t.[单位编号] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(t.[单位编号] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(t.[单位编号] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(t.[年份] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(t.[年份] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(t.[年份] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(t.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(t.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(t.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']', CAST(@P2 AS DATETIME2(6)), @P3, NULL, NULL, @P4 FROM [变电站表] AS t LEFT JOIN [_hetsync_bulk_变电站表] AS s ON t.[单位编号] = s.[单位编号] AND t.[年份] = s.[年份] AND t.[ID] = s.[ID] WHERE t.[单位编号] IS NOT NULL AND t.[年份] IS NOT NULL AND t.[ID] IS NOT NULL AND (s.[单位编号] IS NULL OR EXISTS (SELECT CAST(t.[单位编号] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[单位编号] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[年份] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[年份] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[ID] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[ID] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[名称] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[名称] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[容量] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[容量] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[备注 "x"] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[备注 "x"] AS VARBINARY(MAX))));
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) SELECT @P1, N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(s.[单位编号] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(s.[单位编号] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(s.[单位编号] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(s.[年份] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(s.[年份] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(s.[年份] AS NVARCHAR(4000)), 'json') + N'"' END + N',' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(s.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(s.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(s.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']', CAST(@P2 AS DATETIME2(6)), @P3, NULL, NULL, @P4 FROM [_hetsync_bulk_变电站表] AS s WHERE s.[单位编号] IS NOT NULL AND s.[年份] IS NOT NULL AND s.[ID] IS NOT NULL AND NOT EXISTS (SELECT 1 FROM [变电站表] AS t WHERE t.[单位编号] = s.[单位编号] AND t.[年份] = s.[年份] AND t.[ID] = s.[ID] AND NOT (EXISTS (SELECT CAST(t.[单位编号] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[单位编号] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[年份] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[年份] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[ID] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[ID] AS VARBINARY(MAX)))));
DROP TABLE IF EXISTS [_hetsync_bulk_变电站表];

-- capture on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
CREATE OR ALTER TRIGGER [_hetsync_capture_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] ON [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  IF SESSION_CONTEXT(N'hetsync.apply') IS NOT NULL RETURN;
  INSERT INTO [_hetsync_tracking](table_name, code, deleted, fields)
  SELECT N'高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted''', x.code, x.deleted, CASE WHEN x.moved = 1 THEN NULL ELSE x.f END
  FROM (SELECT CASE WHEN n.[ID] IS NULL THEN N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(o.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(o.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(o.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']' ELSE N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(n.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(n.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(n.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']' END AS code,
          CASE WHEN n.[ID] IS NULL THEN 1 ELSE 0 END AS deleted,
          CASE WHEN o.[ID] IS NULL OR n.[ID] IS NULL THEN 1 ELSE 0 END AS moved,
          N'[' + STUFF(ISNULL(CASE WHEN EXISTS (SELECT CAST(o.[颜色] AS VARBINARY(MAX)) EXCEPT SELECT CAST(n.[颜色] AS VARBINARY(MAX))) THEN N',"颜色"' END, N''), 1, 1, N'') + N']' AS f
        FROM deleted AS o FULL JOIN inserted AS n ON CAST(o.[ID] AS VARBINARY(MAX)) = CAST(n.[ID] AS VARBINARY(MAX))) AS x
  WHERE x.moved = 1 OR x.f IS NOT NULL;
END;
CREATE OR ALTER PROCEDURE [_hetsync_apply_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] (@phase CHAR(1)) AS
BEGIN
  SET NOCOUNT ON;
  SET XACT_ABORT ON;
  DECLARE @ins BIGINT = 0, @upd BIGINT = 0, @del BIGINT = 0;
  IF @phase = 'D'
  BEGIN
    DELETE t FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t JOIN [#_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS s ON t.[ID] = s.c0 WHERE s.op = 'D';
    SET @del = @@ROWCOUNT;
  END
  ELSE
  BEGIN
    UPDATE t SET [颜色] = CASE WHEN s.m1 = 1 THEN s.c1 ELSE t.[颜色] END FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t JOIN [#_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS s ON t.[ID] = s.c0 WHERE s.op = 'U' AND ((s.m1 = 1 AND EXISTS (SELECT CAST(t.[颜色] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.c1 AS VARBINARY(MAX)))));
    SET @upd = @@ROWCOUNT;
    INSERT INTO [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] ([ID], [颜色]) SELECT s.c0, s.c1 FROM [#_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t WHERE t.[ID] = s.c0);
    SET @ins = @@ROWCOUNT;
  END;
  SELECT @ins, @upd, @del;
END;

-- staging of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
IF OBJECT_ID(N'tempdb..[#_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_''quoted'']') IS NULL CREATE TABLE [#_hetsync_stage_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] (c0 bigint, c1 text, m0 BIT, m1 BIT, op CHAR(1) NOT NULL);

-- apply phase D of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
EXEC [_hetsync_apply_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] @phase = 'D';

-- apply phase U of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
EXEC [_hetsync_apply_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] @phase = 'U';

-- row update of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
UPDATE [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] SET [颜色] = @P1 WHERE [ID] = @P2 AND (EXISTS (SELECT CAST([颜色] AS VARBINARY(MAX)) EXCEPT SELECT CAST(@P3 AS VARBINARY(MAX))));

-- row insert and delete of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
INSERT INTO [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] ([ID], [颜色]) SELECT @P1, @P2 WHERE NOT EXISTS (SELECT 1 FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] WHERE [ID] = @P3);
DELETE FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] WHERE [ID] = @P1;

-- reading 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.* FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t WHERE t.[ID] IN (@P1, @P2);
SELECT t.* FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t  ORDER BY t.[ID] OFFSET 0 ROWS FETCH NEXT @P1 ROWS ONLY;
SELECT t.* FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t WHERE (t.[ID] > @P1) ORDER BY t.[ID] OFFSET 0 ROWS FETCH NEXT @P2 ROWS ONLY;
SELECT count(*) FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'];
SELECT count(*) FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] WHERE [ID] IS NULL;
SELECT t.[ID], count(*) FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t WHERE t.[ID] IS NOT NULL GROUP BY t.[ID] HAVING count(*) > 1 ORDER BY t.[ID] OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY;

-- digest of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'

-- lock 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT TOP (1) 1 FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] WITH (TABLOCKX, HOLDLOCK);

-- lock rows of 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
SELECT t.[ID] FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t WITH (UPDLOCK, HOLDLOCK, ROWLOCK) WHERE t.[ID] IN (@P1, @P2) ORDER BY t.[ID];

-- bulk begin on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
DROP TABLE IF EXISTS [_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'];
SELECT [ID], [颜色] INTO [_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'];
CREATE INDEX [_hetsync_bulkcode_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] ON [_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] ([ID]);
ALTER TABLE [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] DISABLE TRIGGER [_hetsync_capture_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'];

-- bulk end on 高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'
ALTER TABLE [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] ENABLE TRIGGER [_hetsync_capture_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'];
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) SELECT @P1, N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(t.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(t.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(t.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']', CAST(@P2 AS DATETIME2(6)), @P3, NULL, NULL, @P4 FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t LEFT JOIN [_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS s ON t.[ID] = s.[ID] WHERE t.[ID] IS NOT NULL AND (s.[ID] IS NULL OR EXISTS (SELECT CAST(t.[ID] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[ID] AS VARBINARY(MAX))) OR EXISTS (SELECT CAST(t.[颜色] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[颜色] AS VARBINARY(MAX))));
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) SELECT @P1, N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(s.[ID] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(s.[ID] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(s.[ID] AS NVARCHAR(4000)), 'json') + N'"' END + N']', CAST(@P2 AS DATETIME2(6)), @P3, NULL, NULL, @P4 FROM [_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS s WHERE s.[ID] IS NOT NULL AND NOT EXISTS (SELECT 1 FROM [高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'] AS t WHERE t.[ID] = s.[ID] AND NOT (EXISTS (SELECT CAST(t.[ID] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[ID] AS VARBINARY(MAX)))));
DROP TABLE IF EXISTS [_hetsync_bulk_高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表高压线路表_'quoted'];

-- capture on k
CREATE OR ALTER TRIGGER [_hetsync_capture_k] ON [k] AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  IF SESSION_CONTEXT(N'hetsync.apply') IS NOT NULL RETURN;
  INSERT INTO [_hetsync_tracking](table_name, code, deleted, fields)
  SELECT N'k', x.code, x.deleted, CASE WHEN x.moved = 1 THEN NULL ELSE x.f END
  FROM (SELECT CASE WHEN n.[a] IS NULL THEN N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(o.[a] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(o.[a] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(o.[a] AS NVARCHAR(4000)), 'json') + N'"' END + N']' ELSE N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(n.[a] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(n.[a] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(n.[a] AS NVARCHAR(4000)), 'json') + N'"' END + N']' END AS code,
          CASE WHEN n.[a] IS NULL THEN 1 ELSE 0 END AS deleted,
          CASE WHEN o.[a] IS NULL OR n.[a] IS NULL THEN 1 ELSE 0 END AS moved,
          CAST(NULL AS NVARCHAR(MAX)) AS f
        FROM deleted AS o FULL JOIN inserted AS n ON CAST(o.[a] AS VARBINARY(MAX)) = CAST(n.[a] AS VARBINARY(MAX))) AS x
  WHERE x.moved = 1 OR x.f IS NOT NULL;
END;
CREATE OR ALTER PROCEDURE [_hetsync_apply_k] (@phase CHAR(1)) AS
BEGIN
  SET NOCOUNT ON;
  SET XACT_ABORT ON;
  DECLARE @ins BIGINT = 0, @upd BIGINT = 0, @del BIGINT = 0;
  IF @phase = 'D'
  BEGIN
    DELETE t FROM [k] AS t JOIN [#_hetsync_stage_k] AS s ON t.[a] = s.c0 WHERE s.op = 'D';
    SET @del = @@ROWCOUNT;
  END
  ELSE
  BEGIN
    INSERT INTO [k] ([a]) SELECT s.c0 FROM [#_hetsync_stage_k] AS s WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM [k] AS t WHERE t.[a] = s.c0);
    SET @ins = @@ROWCOUNT;
  END;
  SELECT @ins, @upd, @del;
END;

-- staging of k
IF OBJECT_ID(N'tempdb..[#_hetsync_stage_k]') IS NULL CREATE TABLE [#_hetsync_stage_k] (c0 bigint, m0 BIT, op CHAR(1) NOT NULL);

-- apply phase D of k
EXEC [_hetsync_apply_k] @phase = 'D';

-- apply phase U of k
EXEC [_hetsync_apply_k] @phase = 'U';

-- row insert and delete of k
INSERT INTO [k] ([a]) SELECT @P1 WHERE NOT EXISTS (SELECT 1 FROM [k] WHERE [a] = @P2);
DELETE FROM [k] WHERE [a] = @P1;

-- reading k
SELECT t.* FROM [k] AS t WHERE t.[a] IN (@P1, @P2);
SELECT t.* FROM [k] AS t  ORDER BY t.[a] OFFSET 0 ROWS FETCH NEXT @P1 ROWS ONLY;
SELECT t.* FROM [k] AS t WHERE (t.[a] > @P1) ORDER BY t.[a] OFFSET 0 ROWS FETCH NEXT @P2 ROWS ONLY;
SELECT count(*) FROM [k];
SELECT count(*) FROM [k] WHERE [a] IS NULL;
SELECT t.[a], count(*) FROM [k] AS t WHERE t.[a] IS NOT NULL GROUP BY t.[a] HAVING count(*) > 1 ORDER BY t.[a] OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY;

-- digest of k

-- lock k
SELECT TOP (1) 1 FROM [k] WITH (TABLOCKX, HOLDLOCK);

-- lock rows of k
SELECT t.[a] FROM [k] AS t WITH (UPDLOCK, HOLDLOCK, ROWLOCK) WHERE t.[a] IN (@P1, @P2) ORDER BY t.[a];

-- bulk begin on k
DROP TABLE IF EXISTS [_hetsync_bulk_k];
SELECT [a] INTO [_hetsync_bulk_k] FROM [k];
CREATE INDEX [_hetsync_bulkcode_k] ON [_hetsync_bulk_k] ([a]);
ALTER TABLE [k] DISABLE TRIGGER [_hetsync_capture_k];

-- bulk end on k
ALTER TABLE [k] ENABLE TRIGGER [_hetsync_capture_k];
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) SELECT @P1, N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(t.[a] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(t.[a] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(t.[a] AS NVARCHAR(4000)), 'json') + N'"' END + N']', CAST(@P2 AS DATETIME2(6)), @P3, NULL, NULL, @P4 FROM [k] AS t LEFT JOIN [_hetsync_bulk_k] AS s ON t.[a] = s.[a] WHERE t.[a] IS NOT NULL AND (s.[a] IS NULL OR EXISTS (SELECT CAST(t.[a] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[a] AS VARBINARY(MAX))));
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) SELECT @P1, N'[' + CASE WHEN SQL_VARIANT_PROPERTY(CAST(s.[a] AS sql_variant), 'BaseType') IN ('tinyint', 'smallint', 'int', 'bigint') THEN CAST(s.[a] AS NVARCHAR(20)) ELSE N'"' + STRING_ESCAPE(CAST(s.[a] AS NVARCHAR(4000)), 'json') + N'"' END + N']', CAST(@P2 AS DATETIME2(6)), @P3, NULL, NULL, @P4 FROM [_hetsync_bulk_k] AS s WHERE s.[a] IS NOT NULL AND NOT EXISTS (SELECT 1 FROM [k] AS t WHERE t.[a] = s.[a] AND NOT (EXISTS (SELECT CAST(t.[a] AS VARBINARY(MAX)) EXCEPT SELECT CAST(s.[a] AS VARBINARY(MAX)))));
DROP TABLE IF EXISTS [_hetsync_bulk_k];

-- read changes
SELECT seq, table_name, code, CONVERT(NVARCHAR(27), changed_at, 121), deleted, fields, origin, user_name FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND rv < CAST(@P2 AS BINARY(8)) ORDER BY seq;
SELECT seq, table_name, code, CONVERT(NVARCHAR(27), changed_at, 121), deleted, fields, origin, user_name FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND rv < CAST(@P2 AS BINARY(8)) AND (origin IS NULL OR origin <> @P3) ORDER BY seq;

-- capture objects with their definitions
SELECT CASE o.type WHEN 'TR' THEN N'trigger ' + o.name + N' on ' + OBJECT_NAME(o.parent_object_id) ELSE N'procedure ' + o.name END, m.definition + CASE WHEN tr.is_disabled = 1 THEN N' DISABLED' ELSE N'' END FROM sys.objects AS o JOIN sys.sql_modules AS m ON m.object_id = o.object_id LEFT JOIN sys.triggers AS tr ON tr.object_id = o.object_id WHERE o.type IN ('TR', 'P') AND o.schema_id = SCHEMA_ID() AND LEFT(o.name, 9) = N'_hetsync_' ORDER BY 1;

-- bounded read
SELECT seq, table_name, code, CONVERT(NVARCHAR(27), changed_at, 121), deleted, fields, origin, user_name, CAST(rv AS BIGINT) + 1 FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND rv < CAST(@P2 AS BINARY(8)) ORDER BY rv OFFSET 0 ROWS FETCH NEXT @P3 ROWS ONLY;
SELECT seq, table_name, code, CONVERT(NVARCHAR(27), changed_at, 121), deleted, fields, origin, user_name, CAST(rv AS BIGINT) + 1 FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND rv < CAST(@P2 AS BINARY(8)) AND (origin IS NULL OR origin <> @P3) ORDER BY rv OFFSET 0 ROWS FETCH NEXT @P4 ROWS ONLY;

-- count events
SELECT count(*) FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8));
SELECT count(*) FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND (origin IS NULL OR origin <> @P2);

-- peer watermark
SELECT watermark, within_seq FROM [_hetsync_peer] WHERE peer = @P1;
DELETE FROM [_hetsync_peer] WHERE peer = @P1;
INSERT INTO [_hetsync_peer](peer, watermark, within_seq, updated_at) VALUES (@P1, @P2, @P3, SYSUTCDATETIME());

-- guard
SELECT seq, table_name, code, CONVERT(NVARCHAR(27), changed_at, 121), deleted, fields, origin, user_name, CAST(rv AS BIGINT) + 1 FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND origin IS NULL ORDER BY rv OFFSET 0 ROWS FETCH NEXT @P2 ROWS ONLY;
SELECT seq, table_name, code, CONVERT(NVARCHAR(27), changed_at, 121), deleted, fields, origin, user_name, CAST(rv AS BIGINT) + 1 FROM [_hetsync_tracking] WHERE rv >= CAST(@P1 AS BINARY(8)) AND (origin IS NULL OR origin <> @P2) ORDER BY rv OFFSET 0 ROWS FETCH NEXT @P3 ROWS ONLY;

-- conflicts recorded until the engine logged them
IF OBJECT_ID(N'[_hetsync_conflict]', N'U') IS NULL CREATE TABLE [_hetsync_conflict] (
    uid NVARCHAR(200) NOT NULL PRIMARY KEY,
    body NVARCHAR(MAX) NOT NULL);
INSERT INTO [_hetsync_conflict](uid, body) VALUES (@P1, @P2), (@P3, @P4);
SELECT uid, body FROM [_hetsync_conflict] ORDER BY uid;
DELETE FROM [_hetsync_conflict] WHERE uid IN (@P1, @P2);

-- trimming superseded local edits
DELETE FROM [_hetsync_tracking] WHERE seq = @P1;
UPDATE [_hetsync_tracking] SET fields = @P1 WHERE seq = @P2;

-- purging integrated tracking rows
SELECT min(seq), max(seq) FROM [_hetsync_tracking];
SELECT seq FROM [_hetsync_tracking] WHERE seq >= @P1 ORDER BY seq OFFSET 1000 ROWS FETCH NEXT 1 ROWS ONLY;
DELETE FROM [_hetsync_tracking] WHERE seq >= @P1 AND seq < @P2 AND rv < CAST(@P3 AS BINARY(8)) AND CONVERT(NVARCHAR(27), changed_at, 121) < @P4;

-- tracking rows written by the engine
INSERT INTO [_hetsync_tracking](table_name, code, changed_at, deleted, fields, origin, user_name) VALUES (@P1, @P2, CAST(@P3 AS DATETIME2(6)), @P4, @P5, @P6, @P7), (@P8, @P9, CAST(@P10 AS DATETIME2(6)), @P11, @P12, @P13, @P14);

-- transactions
SET XACT_ABORT ON;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
BEGIN TRANSACTION;
SET XACT_ABORT ON;
SET TRANSACTION ISOLATION LEVEL SNAPSHOT;
BEGIN TRANSACTION;
IF SESSION_CONTEXT(N'hetsync.apply') IS NULL EXEC sys.sp_set_session_context @key = N'hetsync.apply', @value = 1, @read_only = 1;

-- mssql: before install
SELECT CASE snapshot_isolation_state WHEN 1 THEN 1 ELSE 0 END FROM sys.databases WHERE name = DB_NAME();
DECLARE @r INT; EXEC @r = sys.sp_getapplock @Resource = N'hetsync install', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 60000; SELECT @r;

-- mssql: positions
SELECT CAST(MIN_ACTIVE_ROWVERSION() AS BIGINT);
SELECT CAST(@@DBTS AS BIGINT) + 1;

-- mssql: the integration lock
DECLARE @r INT; EXEC @r = sys.sp_getapplock @Resource = N'hetsync integration', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = -1; SELECT @r;

