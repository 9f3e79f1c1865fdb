//! PostgreSQL (and Kingbase, which speaks it): statement-level triggers with
//! transition tables, transaction ids as positions, a transaction-local
//! setting that silences capture, per-table apply functions over temporary
//! staging tables.

use super::digest::{spelled_row_text, DigestColumn, DigestSql, Spelled, SpellsValues};
use super::{
    ColumnSql, Dialect, IdentLimit, SilenceScope, TxKind, INSTALLED, META, PEERS, PHASE_DELETE,
    TRACKING,
};
use crate::adapter::{BulkCopyKind, Capabilities};
use crate::change::Watermark;
use crate::schema::SyncTable;
use crate::types::CanonicalType;
use crate::value::Value;

/// The transaction-local setting that silences capture.
pub const APPLY_SETTING: &str = "hetsync.apply";

/// The oldest transaction still running: every change of an older
/// transaction is committed or rolled back, so reading up to it is final.
pub const XMIN: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// A position past every transaction that committed: the snapshot's xmax
/// ([`crate::adapter::Capture::committed_position`]).
pub const COMMITTED_POSITION: &str = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint";

/// Takes the integration lock: a session-level advisory lock, held by a
/// connection of its own until it closes.
pub const INTEGRATION_LOCK: &str = "SELECT pg_advisory_lock(hashtext('hetsync integration'))";

/// One installer at a time per database, until the install commits.
pub const INSTALL_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('hetsync install'))";

/// The PostgreSQL dialect, with the node's way of capturing changes.
pub struct Postgres {
    /// Capture by logical decoding of the write-ahead log
    /// ([`super::pg_logical`]) instead of statement triggers.
    pub logical: bool,
    /// Parameters are ODBC's `?` markers, bound in order, instead of
    /// numbered `$n` (PostgreSQL's SQL spoken through an ODBC driver:
    /// KingbaseES over ODBC, [`KINGBASE`]).
    pub markers: bool,
}

/// The channel capture triggers notify once per transaction that changed
/// a synced table (PostgreSQL folds a transaction's equal notifications
/// into one); `hetsync run` listens on it ([`crate::adapter::Capture::await_changes`]).
pub const NOTIFY_CHANNEL: &str = "hetsync";

/// PostgreSQL capturing by statement-level triggers.
pub const TRIGGERS: Postgres = Postgres {
    logical: false,
    markers: false,
};

/// PostgreSQL capturing by logical decoding.
pub const LOGICAL: Postgres = Postgres {
    logical: true,
    markers: false,
};

/// PostgreSQL's SQL through an ODBC driver (the ODBC adapter's `kingbase`
/// profile: KingbaseES is PostgreSQL-derived): statement triggers,
/// parameters as `?` markers.
pub const KINGBASE: Postgres = Postgres {
    logical: false,
    markers: true,
};

/// The capabilities of PostgreSQL.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: true,
    statement_triggers: true,
    merge: true,
    bulk_copy: BulkCopyKind::StagingTable,
};

/// The events of the capture triggers ([`Dialect::capture_triggers`]'s
/// order) with their transition tables.
const TRIGGER_EVENTS: [(&str, &str); 3] = [
    ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
    ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
];

/// Wraps a function body in a dollar quote that does not occur in it.
fn dollar_quote(body: &str) -> String {
    let mut tag = String::from("$hetsync$");
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    format!("{tag}{body}{tag}")
}

impl Postgres {
    /// The capture function of a table.
    pub fn capture_function(&self, table: &str) -> String {
        self.object_name("_hetsync_capture_", table)
    }

    /// The apply function of a table.
    pub fn apply_function(&self, table: &str) -> String {
        self.object_name("_hetsync_apply_", table)
    }

    /// A position in parameters `$n` (the transaction horizon) and `$n+1`
    /// (the tracking sequence within it) as an `(xid, seq)` row.
    fn position_row(&self, n: usize) -> String {
        format!(
            "{}::bigint::text::xid8, {}::bigint",
            self.placeholder(n),
            self.placeholder(n + 1)
        )
    }

    /// Enables or disables a table's capture triggers.
    fn toggle_triggers(&self, table: &SyncTable, action: &str) -> String {
        let each: Vec<String> = self
            .capture_triggers(&table.name)
            .iter()
            .map(|name| format!("{action} TRIGGER {}", self.ident(name)))
            .collect();
        format!(
            "ALTER TABLE {} {}",
            self.ident(&table.name),
            each.join(", ")
        )
    }

    /// The statement-level capture function: one set-based INSERT per statement.
    fn capture_function_sql(&self, table: &SyncTable) -> String {
        let tracking = self.ident(TRACKING);
        let name = self.literal(&table.name);
        let insert = |code: &str, deleted: bool, fields: &str, from: &str| {
            format!("INSERT INTO {tracking}(table_name, code, deleted, fields) SELECT {name}, {code}, {deleted}, {fields} FROM {from};")
        };
        let changed: Vec<String> = (0..table.columns.len())
            .filter(|&i| !table.is_code_column(i))
            .map(|i| {
                let c = self.ident(&table.columns[i]);
                format!(
                    "CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN {} END",
                    self.literal(&table.columns[i])
                )
            })
            .collect();
        // One pass over both transition tables: rows only in `old_rows` left
        // (their code changed: a delete), rows only in `new_rows` arrived (an
        // insert), rows in both changed these fields; a no-op update records nothing.
        let first_code = self.ident(&table.columns[table.code[0]]);
        let fields = if changed.is_empty() {
            "NULL::text[]".to_string()
        } else {
            format!("array_remove(ARRAY[{}], NULL)", changed.join(", "))
        };
        let update = format!(
            "INSERT INTO {tracking}(table_name, code, deleted, fields) \
             SELECT {name}, x.code, x.deleted, CASE WHEN x.moved THEN NULL ELSE to_jsonb(x.f) END \
             FROM (SELECT CASE WHEN n.{first_code} IS NULL THEN {old_code} ELSE {new_code} END AS code, \
                          n.{first_code} IS NULL AS deleted, \
                          o.{first_code} IS NULL OR n.{first_code} IS NULL AS moved, \
                          {fields} AS f \
                   FROM old_rows o FULL JOIN new_rows n ON {same_code}) x \
             WHERE x.moved OR cardinality(x.f) > 0;",
            old_code = self.code_json(table, "o"),
            new_code = self.code_json(table, "n"),
            same_code = self.code_join(table, "o", "n"),
        );
        let body = format!(
            "BEGIN \
               IF current_setting({setting}, true) = 'on' THEN RETURN NULL; END IF; \
               IF TG_OP = 'INSERT' THEN {ins} \
               ELSIF TG_OP = 'DELETE' THEN {del} \
               ELSE {update} END IF; \
               PERFORM pg_notify({channel}, ''); \
               RETURN NULL; \
             END",
            setting = self.literal(APPLY_SETTING),
            channel = self.literal(NOTIFY_CHANNEL),
            ins = insert(&self.code_json(table, "n"), false, "NULL", "new_rows n"),
            del = insert(&self.code_json(table, "o"), true, "NULL", "old_rows o"),
        );
        format!(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {}",
            self.ident(&self.capture_function(&table.name)),
            dollar_quote(&body)
        )
    }

    /// The per-table apply function: phase `D`
    /// deletes, phase `U` updates changed fields of existing rows and inserts
    /// missing rows. Returns `[inserted, updated, deleted]`.
    fn apply_function_sql(&self, table: &SyncTable) -> String {
        let t = self.ident(&table.name);
        let s = format!("pg_temp.{}", self.ident(&self.staging_table(&table.name)));
        let parts = super::apply_parts(
            self,
            table,
            |c, i| format!("{c} = CASE WHEN s.m{i} THEN s.c{i} ELSE t.{c} END"),
            |c, i| format!("(s.m{i} AND t.{c} IS DISTINCT FROM s.c{i})"),
        );
        let key_match = &parts.key_match;
        let update = match &parts.sets {
            None => String::new(),
            Some(sets) => format!(
                "UPDATE {t} t SET {sets} FROM {s} s WHERE s.op = 'U' AND {key_match} AND ({}); GET DIAGNOSTICS n_upd = ROW_COUNT;",
                parts.differs
            ),
        };
        let body = format!(
            "DECLARE n_ins bigint := 0; n_upd bigint := 0; n_del bigint := 0; \
             BEGIN \
               IF phase = 'D' THEN \
                 DELETE FROM {t} t USING {s} s WHERE s.op = 'D' AND {del_match}; \
                 GET DIAGNOSTICS n_del = ROW_COUNT; \
               ELSE \
                 {update} \
                 INSERT INTO {t} ({cols}) SELECT {staged} FROM {s} s \
                   WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM {t} t WHERE {ins_match}); \
                 GET DIAGNOSTICS n_ins = ROW_COUNT; \
               END IF; \
               RETURN ARRAY[n_ins, n_upd, n_del]; \
             END",
            del_match = key_match,
            ins_match = key_match,
            cols = self.column_list(table),
            staged = parts.staged,
        );
        // Every statement walks the staging rows and probes the base table by
        // its combined-code index. Statistics cannot be trusted here (the staging
        // table has none; a table being filled has stale ones), so the plan is
        // pinned to nested loops while the function runs.
        format!(
            "CREATE OR REPLACE FUNCTION {}(phase \"char\") RETURNS bigint[] LANGUAGE plpgsql \
             SET enable_hashjoin = off SET enable_mergejoin = off AS {}",
            self.ident(&self.apply_function(&table.name)),
            dollar_quote(&body)
        )
    }
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        match (self.logical, self.markers) {
            (true, _) => "postgres-logical",
            (false, true) => "kingbase",
            (false, false) => "postgres",
        }
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn ident_limit(&self) -> IdentLimit {
        IdentLimit::Bytes(63)
    }

    fn placeholder(&self, n: usize) -> String {
        match self.markers {
            true => "?".into(),
            false => format!("${n}"),
        }
    }

    fn max_params(&self) -> usize {
        match self.markers {
            // psqlODBC has the server describe untyped parameters and loses
            // its place in a description over 32 kB (some 8,000
            // parameters): "lost synchronization with server".
            true => 4_000,
            false => 65_535,
        }
    }

    fn digest(&self) -> Option<&'static dyn DigestSql> {
        Some(&PostgresDigest)
    }

    fn as_text(&self, expr: &str) -> String {
        format!("{expr}::text")
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn begin_sql(&self, kind: TxKind) -> Vec<String> {
        match kind {
            TxKind::Write => vec!["BEGIN".into()],
            TxKind::ReadSnapshot => {
                vec!["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".into()]
            }
        }
    }

    fn meta_tables(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    seq bigserial PRIMARY KEY,\n    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),\n    table_name text NOT NULL,\n    code jsonb NOT NULL,\n    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n    deleted boolean NOT NULL DEFAULT false,\n    user_name text DEFAULT current_user,\n    fields jsonb,\n    origin text)",
                self.ident(TRACKING)
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {}(xid, seq)",
                self.ident("_hetsync_tracking_by_position"),
                self.ident(TRACKING)
            ),
            // Layout 2's index, on `xid` alone.
            format!(
                "DROP INDEX IF EXISTS {}",
                self.ident("_hetsync_tracking_by_xid")
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    peer text PRIMARY KEY,\n    watermark bigint NOT NULL,\n    within_seq bigint NOT NULL DEFAULT 0,\n    updated_at timestamptz NOT NULL DEFAULT now())",
                self.ident(PEERS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    table_name text PRIMARY KEY,\n    installed_at timestamptz NOT NULL DEFAULT now())",
                self.ident(INSTALLED)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    name text PRIMARY KEY,\n    value text NOT NULL)",
                self.ident(META)
            ),
        ]
    }

    fn table_exists_sql(&self) -> Option<String> {
        Some(
            format!(
            "SELECT count(*) FROM (SELECT to_regclass(quote_ident({})) AS r) AS x WHERE r IS NOT NULL",
            self.placeholder(1)
        )
        )
    }

    fn column_exists_sql(&self) -> Option<String> {
        Some(
            format!(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(quote_ident({})) AND attname = {} AND NOT attisdropped",
            self.placeholder(1),
            self.placeholder(2)
        )
        )
    }

    fn now(&self) -> &'static str {
        "now()"
    }

    fn capture_objects_sql(&self) -> Option<String> {
        // Functions of the current schema; dropping one with CASCADE drops
        // the triggers that call it. Logical capture's published tables too.
        let functions = "SELECT 'FUNCTION', p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND left(p.proname, 9) = '_hetsync_'";
        Some(match self.logical {
            false => format!("{functions} ORDER BY 2"),
            true => format!(
                "{functions} UNION ALL {} ORDER BY 2",
                self.published_objects_sql()
            ),
        })
    }

    fn capture_definitions_sql(&self) -> Option<String> {
        // A disabled trigger is an altered one: its enabled state is part of
        // the definition.
        let definitions = "SELECT 'trigger ' || t.tgname || ' on ' || c.relname, \
                pg_get_triggerdef(t.oid) || ' ENABLED ' || t.tgenabled::text \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND left(t.tgname, 9) = '_hetsync_' AND NOT t.tgisinternal \
         UNION ALL \
         SELECT 'function ' || p.proname, pg_get_functiondef(p.oid) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND left(p.proname, 9) = '_hetsync_'";
        Some(match self.logical {
            false => format!("{definitions} ORDER BY 1"),
            true => format!(
                "{definitions} UNION ALL {} ORDER BY 1",
                self.logical_definitions_sql()
            ),
        })
    }

    fn drop_object_sql(&self, kind: &str, name: &str) -> String {
        match kind {
            "PUBLISHED" => self.unpublish_sql(name),
            _ => format!("DROP {kind} IF EXISTS {} CASCADE", self.ident(name)),
        }
    }

    fn capture_sql(&self, table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        if self.logical {
            return vec![
                self.apply_function_sql(table),
                self.publish_sql(&table.name),
            ];
        }
        let t = self.ident(&table.name);
        let f = self.ident(&self.capture_function(&table.name));
        let mut out = vec![
            self.capture_function_sql(table),
            self.apply_function_sql(table),
        ];
        out.extend(self.capture_triggers(&table.name).iter().zip(TRIGGER_EVENTS).map(
            |(name, (event, transition))| {
                format!(
                    "CREATE TRIGGER {} AFTER {event} ON {t} {transition} FOR EACH STATEMENT EXECUTE FUNCTION {f}()",
                    self.ident(name)
                )
            },
        ));
        out
    }

    fn json_array_function(&self) -> &'static str {
        "jsonb_build_array"
    }

    /// One name per operation: a trigger's name is unique per table.
    fn trigger_name(&self, _table: &str, op: &str) -> String {
        format!("_hetsync_{op}")
    }

    fn capture_triggers(&self, table: &str) -> Vec<String> {
        ["insert", "update", "delete"]
            .map(|op| self.trigger_name(table, op))
            .into()
    }

    /// The triggers are disabled, not dropped: the capture functions stay.
    fn suspend_capture_sql(&self, table: &SyncTable) -> Option<Vec<String>> {
        (!self.logical).then(|| vec![self.toggle_triggers(table, "DISABLE")])
    }

    fn resume_capture_sql(&self, table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        vec![self.toggle_triggers(table, "ENABLE")]
    }

    fn stamp_expr(&self, param: &str) -> String {
        format!("(timestamptz 'epoch' + {param}::bigint * interval '1 microsecond')")
    }

    fn position_params(&self, w: Watermark) -> Vec<Value> {
        vec![Value::Int(w.pos), Value::Int(w.within)]
    }

    // A transaction's events follow one another in `seq` order: "after
    // (x, s)" is every later transaction and the events of x past s (all of
    // x when s is 0, since a sequence starts at 1). The row comparison walks
    // the (xid, seq) index.
    fn after_position(&self, n: usize) -> String {
        format!("(xid, seq) > ({})", self.position_row(n))
    }

    fn upto_position(&self, n: usize) -> String {
        format!("(xid, seq) <= ({})", self.position_row(n))
    }

    fn position_order(&self) -> &'static str {
        "xid, seq"
    }

    // Named apart from `xid`, so that `ORDER BY xid, seq` stays the
    // column's order (the index's) rather than the bigint's.
    fn position_value(&self) -> String {
        "xid::text::bigint AS position_xid, seq".into()
    }

    fn upto_includes(&self) -> bool {
        false
    }

    fn change_time(&self) -> String {
        "(extract(epoch FROM changed_at) * 1000000)::bigint".into()
    }

    fn position_scan_sql(&self) -> Vec<String> {
        // A freshly grown tracking table has no statistics yet: the planner
        // would scan all of it, or read every row after the start and sort
        // them for the first few. Walk the (xid, seq) index instead.
        vec![
            "SET LOCAL enable_seqscan = off".into(),
            "SET LOCAL enable_sort = off".into(),
        ]
    }

    fn position_scan_reset_sql(&self) -> Vec<String> {
        vec![
            "SET LOCAL enable_seqscan = DEFAULT".into(),
            "SET LOCAL enable_sort = DEFAULT".into(),
        ]
    }

    fn json_param(&self, param: &str) -> String {
        format!("{param}::jsonb")
    }

    fn silence_sql(&self) -> Option<String> {
        Some(match self.logical {
            false => format!(
                "SELECT set_config({}, 'on', true)",
                self.literal(APPLY_SETTING)
            ),
            true => self.origin_setup_sql(),
        })
    }

    fn unsilence_sql(&self) -> Option<String> {
        None
    }

    fn end_silence_sql(&self) -> Option<String> {
        self.logical.then(|| self.origin_reset_sql())
    }

    fn silence_scope(&self) -> SilenceScope {
        match self.logical {
            false => SilenceScope::Transaction,
            true => SilenceScope::Session,
        }
    }

    fn lock_table_sql(&self, table: &str) -> Option<String> {
        // Writers that started before this lock have committed once it is
        // held, so the guard sees every edit of the touched tables.
        Some(format!(
            "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
            self.ident(table)
        ))
    }

    fn staging_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Option<String> {
        let defs = super::staging_columns(columns, "", "boolean", "\"char\" NOT NULL");
        Some(format!(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS",
            self.ident(&self.staging_table(&table.name)),
            defs.join(", ")
        ))
    }

    fn apply_call_sql(&self, table: &SyncTable, phase: &str) -> Vec<String> {
        let phase = if phase == PHASE_DELETE { "'D'" } else { "'U'" };
        // OFFSET 0 keeps the subquery from being pulled up, which would
        // call the function once per array element.
        vec![format!(
            "SELECT n[1], n[2], n[3] FROM (SELECT {}({phase}) AS n OFFSET 0) AS x",
            self.ident(&self.apply_function(&table.name))
        )]
    }
}

/// The digest in PostgreSQL's SQL: floats by their IEEE bits
/// (`float8send`). Texts are hashed as stored, so only where the server
/// encoding is UTF-8 (the dictionary's `unicode`); elsewhere the rows are
/// streamed.
struct PostgresDigest;

impl SpellsValues for PostgresDigest {
    fn value(&self, c: &str, t: &CanonicalType) -> Option<Spelled> {
        use CanonicalType as C;
        use Spelled::{Plain, Text};
        Some(match t {
            C::Int8 | C::Int16 | C::Int32 | C::Int64 => Plain('i', format!("{c}::text")),
            C::Bool => Plain(
                'b',
                format!("CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END"),
            ),
            C::Char { unicode: true, .. }
            | C::Varchar { unicode: true, .. }
            | C::Text { unicode: true } => Text(format!("{c}::text")),
            C::Binary { .. } | C::Varbinary { .. } | C::Blob => {
                Plain('x', format!("encode({c}, 'hex')"))
            }
            C::Float64 => Plain('f', format!("encode(float8send({c}), 'hex')")),
            C::Date => Text(format!("to_char({c}, 'YYYY-MM-DD')")),
            _ => return None,
        })
    }

    fn byte_length(&self, text: &str) -> String {
        format!("octet_length({text})::text")
    }
}

impl DigestSql for PostgresDigest {
    fn row_text(&self, columns: &[DigestColumn<'_>]) -> Option<String> {
        spelled_row_text(self, columns)
    }

    fn md5_hex(&self, text: &str) -> String {
        format!("md5({text})")
    }

    fn hex_prefix(&self, hex: &str, digits: u32) -> String {
        format!(
            "('x' || substr({hex}, 1, {digits}))::bit({})::bigint",
            digits * 4
        )
    }

    fn sum_text(&self, expr: &str) -> String {
        format!("sum({expr})::text")
    }
}
