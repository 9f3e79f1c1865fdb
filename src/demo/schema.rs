//! The demo's grid-planning tables and the hub's starting data.

/// `CREATE TABLE` statements, identical on every node.
pub const TABLES: &[&str] = &[
    r#"CREATE TABLE "变电站表" (
        "单位序号" TEXT NOT NULL, "年份" INTEGER NOT NULL, "ID" INTEGER NOT NULL,
        "名称" TEXT, "容量MVA" REAL, "电压等级kV" INTEGER,
        "X坐标" REAL, "Y坐标" REAL, "颜色" TEXT,
        PRIMARY KEY ("单位序号", "年份", "ID"))"#,
    r#"CREATE TABLE "高压线路表" (
        "单位序号" TEXT NOT NULL, "年份" INTEGER NOT NULL, "ID" INTEGER NOT NULL,
        "名称" TEXT, "起点变电站" TEXT, "终点变电站" TEXT, "长度km" REAL, "导线型号" TEXT,
        PRIMARY KEY ("单位序号", "年份", "ID"))"#,
    r#"CREATE TABLE "开关设施表" (
        "单位序号" TEXT NOT NULL, "年份" INTEGER NOT NULL, "ID" INTEGER NOT NULL,
        "名称" TEXT, "类型" TEXT, "所属线路" TEXT, "X坐标" REAL, "Y坐标" REAL,
        PRIMARY KEY ("单位序号", "年份", "ID"))"#,
    r#"CREATE TABLE "负荷电量表" (
        "单位序号" TEXT NOT NULL, "年份" INTEGER NOT NULL, "ID" INTEGER NOT NULL,
        "最大负荷MW" REAL, "用电量GWh" REAL, "备注" TEXT,
        PRIMARY KEY ("单位序号", "年份", "ID"))"#,
    r#"CREATE TABLE "单位信息表" (
        "序号" TEXT PRIMARY KEY, "单位名称" TEXT, "负责人" TEXT, "联系电话" TEXT)"#,
    r#"CREATE TABLE "地区概况表" (
        "ID" INTEGER PRIMARY KEY, "地区名称" TEXT, "面积km2" REAL, "人口万人" REAL, "概况" TEXT)"#,
];

/// The `[[table]]` part of the demo's `hetsync.toml`.
pub const CONFIG_TABLES: &str = r#"
# Graphics-linked tables merge per field: two planners editing different
# columns of one substation both keep their edit.
[[table]]
name = "变电站表"
code = ["单位序号", "年份", "ID"]
form = "field"

[[table]]
name = "高压线路表"
code = ["单位序号", "年份", "ID"]
form = "field"

[[table]]
name = "开关设施表"
code = ["单位序号", "年份", "ID"]
form = "field"

# Ledger tables sync whole rows.
[[table]]
name = "负荷电量表"
code = ["单位序号", "年份", "ID"]
form = "table"

[[table]]
name = "单位信息表"
code = ["序号"]        # no ID column: the serial number is the combined code
form = "table"

[[table]]
name = "地区概况表"
code = ["ID"]          # no serial number: the ID is the combined code
form = "table"
"#;

/// The hub's data before anyone starts planning.
pub const SEED: &[&str] = &[
    r#"INSERT INTO "变电站表" VALUES
        ('ZZ01', 2024, 1, '荷塘110kV变电站', 100.0, 110, 112.95, 27.83, '绿'),
        ('ZZ01', 2024, 2, '芦淞110kV变电站', 80.0, 110, 113.15, 27.79, '绿'),
        ('ZZ01', 2024, 3, '天元220kV变电站', 360.0, 220, 113.08, 27.82, '黄')"#,
    r#"INSERT INTO "高压线路表" VALUES
        ('ZZ01', 2024, 1, '荷芦线', '荷塘110kV变电站', '芦淞110kV变电站', 12.4, 'LGJ-240'),
        ('ZZ01', 2024, 2, '天荷线', '天元220kV变电站', '荷塘110kV变电站', 18.9, 'LGJ-400'),
        ('ZZ01', 2024, 3, '天芦线', '天元220kV变电站', '芦淞110kV变电站', 15.2, 'LGJ-300')"#,
    r#"INSERT INTO "开关设施表" VALUES
        ('ZZ01', 2024, 1, '荷塘环网柜1号', '环网柜', '荷芦线', 112.97, 27.82),
        ('ZZ01', 2024, 2, '芦淞开关站', '开关站', '天芦线', 113.12, 27.80)"#,
    r#"INSERT INTO "负荷电量表" VALUES
        ('ZZ01', 2024, 1, 420.5, 2310.0, '实测'),
        ('ZZ01', 2025, 1, 455.0, 2480.0, '预测'),
        ('ZZ01', 2030, 1, 610.0, 3350.0, '规划')"#,
    r#"INSERT INTO "单位信息表" VALUES
        ('ZZ01', '株洲供电公司', '周工', '0731-28000001'),
        ('ZZ02', '株洲经开区供电所', '吴工', '0731-28000002')"#,
    r#"INSERT INTO "地区概况表" VALUES
        (1, '荷塘区', 151.0, 40.2, '老城区，负荷密度高'),
        (2, '天元区', 327.0, 52.1, '新区，负荷增长快')"#,
];
