//! The directory aggregate: corps, apps with their scopes, redirect URIs and authorised corps,
//! people and memberships.

use super::{Dialect, SqlStore, corrupt};
use crate::error::map;
use dingdir_core::change::{Change, ChangeKind, ChangeQuery, MembershipKey, NewChange, Write};
use dingdir_core::clock::Millis;
use dingdir_core::mobile::Mobile;
use dingdir_core::model::{
    App, AppKind, ContactRange, Corp, Department, Departure, DeptVisibility, Directory, LeaveReason, Member,
    MemberDept, MemberDetails, MemberStatus, Membership, Person, PersonId, Role,
};
use dingdir_core::store::DirectoryStore;
use dingdir_core::{Refusal, StoreError};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::collections::HashMap;

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Transaction, Type};

/// The person columns every person read selects (`p` is `people`).
const PERSON_COLUMNS: &str = "p.person_id, p.number, p.nick, p.state_code, p.mobile, p.email, p.avatar_url, p.password_hash, p.exclusive_of, \
     p.login_id";

/// The membership columns every membership read selects (`m` is `memberships`).
const MEMBER_COLUMNS: &str = "m.corp_id, m.userid, m.person_id AS member_person_id, m.name, m.status";

/// The columns a person is written with, in the order [`SqlStore::bind_person`] binds them.
const PERSON_INSERT: &str = "INSERT INTO people \
     (person_id, number, nick, state_code, mobile, email, avatar_url, password_hash, exclusive_of, login_id) ";

/// How many columns [`PERSON_INSERT`] names.
const PERSON_WIDTH: usize = 10;

/// The columns a member is written with, in the order [`SqlStore::bind_member`] binds them.
const MEMBER_INSERT: &str = "INSERT INTO memberships (corp_id, userid, person_id, name, status, \
     title, job_number, hired_date, work_place, telephone, org_email, remark, manager_userid, \
     admin, boss, senior, hide_mobile, main_admin, left_at, leave_reason, extension, roles) ";

/// How many columns [`MEMBER_INSERT`] names.
const MEMBER_WIDTH: usize = 22;

/// The record columns a full member read selects beside [`MEMBER_COLUMNS`].
const DETAIL_COLUMNS: &str = "m.title, m.job_number, m.hired_date, m.work_place, m.telephone, m.org_email, \
     m.remark, m.manager_userid, m.admin, m.boss, m.senior, m.hide_mobile, m.main_admin, m.left_at, m.leave_reason, \
     m.extension, m.roles";

/// A member's departments, in the member's own order.
const MEMBER_DEPT_INSERT: &str = "INSERT INTO member_departments (corp_id, userid, dept_id, pos, ord, leader, seq) ";

/// The tables an import fills whose secondary indexes it builds at the end.
const IMPORT_TABLES: &[&str] = &["people", "memberships", "member_departments"];

/// Where [`SqlStore::write_members`] writes a member's departments.
#[derive(Clone, Copy)]
enum MemberDepartments<'a> {
    /// Into `member_departments`; a row found in the map keeps that number, the rest start
    /// unnumbered.
    Keep(&'a HashMap<MemberDeptKey, i64>),
    /// Into an import's staging table, numbered when the import has them all.
    Stage,
}

/// An import's staging table for member departments: no key, no index, no foreign key.
const STAGE_CREATE: &str = "CREATE TEMPORARY TABLE import_member_departments (corp_id TEXT NOT NULL, \
     userid TEXT NOT NULL, dept_id BIGINT NOT NULL, pos BIGINT NOT NULL, ord BIGINT NOT NULL, leader BIGINT NOT NULL)";

/// A member's departments into the staging table.
const STAGED_DEPT_INSERT: &str = "INSERT INTO import_member_departments (corp_id, userid, dept_id, pos, ord, leader) ";

/// The staged department rows into `member_departments` in key order, the active members of
/// every department numbered 0, 1, 2, … in custom order (the order [`SqlStore::renumber`]
/// numbers one department in). A row whose membership is missing is kept, unnumbered, for the
/// foreign key to refuse.
const STAGE_NUMBERED: &str = "INSERT INTO member_departments (corp_id, userid, dept_id, pos, ord, leader, seq) \
     SELECT d.corp_id, d.userid, d.dept_id, d.pos, d.ord, d.leader, CASE WHEN m.status = 'active' THEN \
     ROW_NUMBER() OVER (PARTITION BY d.corp_id, d.dept_id, m.status ORDER BY d.ord, d.userid) - 1 END \
     FROM import_member_departments d LEFT JOIN memberships m ON m.corp_id = d.corp_id AND m.userid = d.userid \
     ORDER BY d.corp_id, d.userid, d.dept_id";

/// A member's row in one department: (corp, userid, department).
type MemberDeptKey = (String, String, i64);

/// The department columns every department read selects.
const DEPT_COLUMNS: &str = "corp_id, dept_id, name, parent_id, ord, hide_dept, dept_permits, user_permits";

/// Upserts a department.
const DEPT_UPSERT: &str = "INSERT INTO departments (corp_id, dept_id, name, parent_id, ord, hide_dept, dept_permits, \
     user_permits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (corp_id, dept_id) DO UPDATE SET \
     name = excluded.name, parent_id = excluded.parent_id, ord = excluded.ord, hide_dept = excluded.hide_dept, \
     dept_permits = excluded.dept_permits, user_permits = excluded.user_permits";

/// Rows of `columns` columns per multi-row statement: [`Dialect::BULK_PARAMS`] parameters at most.
const fn rows<DB: Dialect>(columns: usize) -> usize {
    let n = DB::BULK_PARAMS / columns;
    if n == 0 { 1 } else { n }
}

/// The mobile lookup. People by mobile drive the join (CROSS JOIN fixes SQLite's loop order;
/// PostgreSQL plans it freely): driven from the corp's memberships instead, a large corp is
/// scanned per lookup. The few rows are sorted here, so no ORDER BY tempts the planner.
pub(crate) fn members_by_mobile_sql() -> String {
    format!(
        "SELECT {MEMBER_COLUMNS}, {PERSON_COLUMNS} FROM people p CROSS JOIN memberships m \
         WHERE p.mobile = $1 AND p.state_code = $2 AND m.person_id = p.person_id AND m.corp_id = $3"
    )
}

/// A page of a department's active members: a range of their numbers when the department is
/// numbered (the seek costs the same on the last page as on the first), else counted along the
/// order index with OFFSET.
pub(crate) fn department_page_sql(numbered: bool) -> String {
    let select = format!(
        "SELECT {MEMBER_COLUMNS}, {DETAIL_COLUMNS}, {PERSON_COLUMNS} FROM member_departments d \
         JOIN memberships m ON m.corp_id = d.corp_id AND m.userid = d.userid \
         JOIN people p ON p.person_id = m.person_id WHERE d.corp_id = $1 AND d.dept_id = $2"
    );
    match numbered {
        true => format!("{select} AND d.seq >= $3 AND d.seq < $4 ORDER BY d.seq"),
        false => format!("{select} AND m.status = 'active' ORDER BY d.ord, d.userid LIMIT $3 OFFSET $4"),
    }
}

/// A page of a corp's departures in a time range, keyset-paged on the departures index.
pub(crate) fn departures_sql() -> String {
    format!(
        "SELECT {MEMBER_COLUMNS}, {DETAIL_COLUMNS}, {PERSON_COLUMNS} FROM memberships m \
         JOIN people p ON p.person_id = m.person_id \
         WHERE m.corp_id = $1 AND m.status = 'departed' AND m.left_at IS NOT NULL \
         AND m.left_at >= $2 AND m.left_at < $3 \
         AND (m.left_at > $4 OR (m.left_at = $4 AND m.userid > $5)) \
         ORDER BY m.left_at, m.userid LIMIT $6"
    )
}

/// A department's active members' userids in custom order (`listid`, `department_members`).
pub(crate) const DEPARTMENT_MEMBERS_SQL: &str = "SELECT d.userid FROM member_departments d JOIN memberships m \
     ON m.corp_id = d.corp_id AND m.userid = d.userid WHERE d.corp_id = $1 AND d.dept_id = $2 \
     AND m.status = 'active' ORDER BY d.ord, d.userid";

/// An app's child rows, as (table, column, values): written the same way by every writer.
fn app_child_rows(a: &App) -> [(&'static str, &'static str, Vec<&str>); 3] {
    [
        ("app_scopes", "scope", a.scopes.iter().map(String::as_str).collect()),
        (
            "app_redirect_uris",
            "uri",
            a.redirect_uris.iter().map(String::as_str).collect(),
        ),
        (
            "app_corps",
            "corp_id",
            a.authorized_corps.iter().map(|c| c.0.as_str()).collect(),
        ),
    ]
}

/// A list as its comma-joined column.
fn joined<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// Department ids from their comma-joined column.
fn dept_ids(column: &str) -> Result<Vec<i64>, StoreError> {
    column
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| corrupt("department id list", column)))
        .collect()
}

/// Userids from their comma-joined column.
fn userids(column: &str) -> Vec<UserId> {
    column
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| UserId(s.to_owned()))
        .collect()
}

/// A department's hidden flag and permits as their three columns.
fn visibility_columns(d: &Department) -> (i64, String, String) {
    match &d.hidden {
        Some(v) => (1, joined(&v.departments), joined(v.users.iter().map(|u| &u.0))),
        None => (0, String::new(), String::new()),
    }
}

fn number_column(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("person number {n} exceeds 63 bits")))
}

impl<DB> SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    fn person_from(row: &DB::Row) -> Result<Person, StoreError> {
        let state_code: Option<String> = row.try_get("state_code").map_err(map)?;
        let national: Option<String> = row.try_get("mobile").map_err(map)?;
        let mobile = match (state_code, national) {
            (Some(sc), Some(n)) => Some(Mobile::from_parts(&sc, &n).map_err(|_| corrupt("mobile", &n))?),
            _ => None,
        };
        let number: i64 = row.try_get("number").map_err(map)?;
        Ok(Person {
            id: PersonId(row.try_get("person_id").map_err(map)?),
            number: u64::try_from(number).map_err(|_| corrupt("person number", &number.to_string()))?,
            nick: row.try_get("nick").map_err(map)?,
            mobile,
            email: row.try_get("email").map_err(map)?,
            avatar_url: row.try_get("avatar_url").map_err(map)?,
            password_hash: row.try_get("password_hash").map_err(map)?,
            exclusive_of: row
                .try_get::<Option<String>, _>("exclusive_of")
                .map_err(map)?
                .map(CorpId),
            login_id: row.try_get("login_id").map_err(map)?,
        })
    }

    fn membership_from(row: &DB::Row) -> Result<Membership, StoreError> {
        let status: String = row.try_get("status").map_err(map)?;
        Ok(Membership {
            corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
            userid: UserId(row.try_get("userid").map_err(map)?),
            person_id: PersonId(row.try_get("member_person_id").map_err(map)?),
            name: row.try_get("name").map_err(map)?,
            status: MemberStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        })
    }

    /// A member's record without its departments, which [`Self::member_depts`] adds.
    fn details_from(row: &DB::Row) -> Result<MemberDetails, StoreError> {
        let flag = |name: &str| -> Result<bool, StoreError> { Ok(row.try_get::<i64, _>(name).map_err(map)? != 0) };
        Ok(MemberDetails {
            departments: Vec::new(),
            title: row.try_get("title").map_err(map)?,
            job_number: row.try_get("job_number").map_err(map)?,
            hired_date: row.try_get("hired_date").map_err(map)?,
            work_place: row.try_get("work_place").map_err(map)?,
            telephone: row.try_get("telephone").map_err(map)?,
            org_email: row.try_get("org_email").map_err(map)?,
            remark: row.try_get("remark").map_err(map)?,
            manager_userid: row
                .try_get::<Option<String>, _>("manager_userid")
                .map_err(map)?
                .map(UserId),
            admin: flag("admin")?,
            boss: flag("boss")?,
            senior: flag("senior")?,
            hide_mobile: flag("hide_mobile")?,
            main_admin: flag("main_admin")?,
            departure: Self::departure_from(row)?,
            extension: match row.try_get::<Option<String>, _>("extension").map_err(map)? {
                None => Default::default(),
                Some(text) => MemberDetails::extension_from_json(&text)
                    .map_err(|e| StoreError::Other(format!("a member's extension column: {e}").into()))?,
            },
            roles: match row.try_get::<Option<String>, _>("roles").map_err(map)? {
                None => Vec::new(),
                Some(text) => MemberDetails::roles_from_json(&text)
                    .map_err(|e| StoreError::Other(format!("a member's roles column: {e}").into()))?,
            },
        })
    }

    /// A departed member's time and reason; `None` for an active member.
    fn departure_from(row: &DB::Row) -> Result<Option<Departure>, StoreError> {
        let status: String = row.try_get("status").map_err(map)?;
        if MemberStatus::parse(&status) != Some(MemberStatus::Departed) {
            return Ok(None);
        }
        let reason: Option<String> = row.try_get("leave_reason").map_err(map)?;
        let reason = match reason.as_deref() {
            None => LeaveReason::Unknown,
            Some(r) => LeaveReason::parse(r).ok_or_else(|| corrupt("leave_reason", r))?,
        };
        Ok(Some(Departure {
            left_at: row.try_get("left_at").map_err(map)?,
            reason,
        }))
    }

    fn member_dept_from(row: &DB::Row) -> Result<MemberDept, StoreError> {
        Ok(MemberDept {
            dept_id: row.try_get("dept_id").map_err(map)?,
            order: row.try_get("ord").map_err(map)?,
            leader: row.try_get::<i64, _>("leader").map_err(map)? != 0,
        })
    }

    fn department_from(row: &DB::Row) -> Result<Department, StoreError> {
        Ok(Department {
            corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
            id: row.try_get("dept_id").map_err(map)?,
            name: row.try_get("name").map_err(map)?,
            parent_id: row.try_get("parent_id").map_err(map)?,
            order: row.try_get("ord").map_err(map)?,
            hidden: if row.try_get::<i64, _>("hide_dept").map_err(map)? != 0 {
                Some(DeptVisibility {
                    departments: dept_ids(&row.try_get::<String, _>("dept_permits").map_err(map)?)?,
                    users: userids(&row.try_get::<String, _>("user_permits").map_err(map)?),
                })
            } else {
                None
            },
        })
    }

    /// The departments of one member, in the member's own order.
    async fn member_depts(&self, corp: &CorpId, userid: &UserId) -> Result<Vec<MemberDept>, StoreError> {
        sqlx::query(
            "SELECT dept_id, ord, leader FROM member_departments WHERE corp_id = $1 AND userid = $2 ORDER BY pos",
        )
        .bind(corp.0.as_str())
        .bind(userid.0.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::member_dept_from)
        .collect()
    }

    /// Writes departments, upserting each.
    async fn write_departments(
        tx: &mut Transaction<'static, DB>,
        departments: &[Department],
    ) -> Result<(), StoreError> {
        for d in departments {
            Self::bind_department(sqlx::query(DEPT_UPSERT), d)
                .execute(&mut **tx)
                .await
                .map_err(map)?;
        }
        Ok(())
    }

    /// Writes members (their rows, then their departments) with multi-row statements. A
    /// department row found in `kept` keeps that position; the rest start unnumbered.
    async fn write_members(
        tx: &mut Transaction<'static, DB>,
        members: &[&Member],
        departments: MemberDepartments<'_>,
    ) -> Result<(), StoreError> {
        for part in members.chunks(rows::<DB>(MEMBER_WIDTH)) {
            let sql = format!("{MEMBER_INSERT} {}", values::<DB>(MEMBER_WIDTH, part.len()));
            let json: Vec<JsonColumns> = part
                .iter()
                .map(|m| JsonColumns {
                    extension: m.details.extension_json(),
                    roles: m.details.roles_json(),
                })
                .collect();
            let mut q = sqlx::query(&sql);
            for (m, json) in part.iter().zip(&json) {
                q = Self::bind_member(q, m, json);
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        // Every department row of the slice, then full statements of them: a statement per
        // member chunk would have a different width each time, and each new width is a new
        // statement to prepare that pushes a reused one out of the connection's cache.
        let depts: Vec<(&Member, usize, &MemberDept)> = members
            .iter()
            .flat_map(|m| m.details.departments.iter().enumerate().map(move |(i, d)| (*m, i, d)))
            .collect();
        let (insert, width) = match departments {
            MemberDepartments::Keep(_) => (MEMBER_DEPT_INSERT, 7),
            MemberDepartments::Stage => (STAGED_DEPT_INSERT, 6),
        };
        for rows in depts.chunks(rows::<DB>(width)) {
            let sql = format!("{insert} {}", values::<DB>(width, rows.len()));
            let mut q = sqlx::query(&sql);
            for (m, pos, d) in rows {
                let (corp, userid) = (&m.membership.corp_id.0, &m.membership.userid.0);
                q = q
                    .bind(corp.as_str())
                    .bind(userid.as_str())
                    .bind(d.dept_id)
                    .bind(i64::try_from(*pos).unwrap_or(i64::MAX))
                    .bind(d.order)
                    .bind(i64::from(d.leader));
                if let MemberDepartments::Keep(kept) = departments {
                    let seq = match kept.is_empty() {
                        true => None,
                        false => kept.get(&(corp.clone(), userid.clone(), d.dept_id)).copied(),
                    };
                    q = q.bind(seq);
                }
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        Ok(())
    }

    /// Starts a bulk insert in `tx`: drops the member tables' secondary indexes (returned, to be
    /// rebuilt by [`Self::finish_import`]) and creates the staging table of member departments.
    async fn begin_import(tx: &mut Transaction<'static, DB>) -> Result<Vec<(String, String)>, StoreError> {
        let mut deferred: Vec<(String, String)> = Vec::new();
        for table in IMPORT_TABLES {
            for row in sqlx::query(DB::SECONDARY_INDEXES)
                .bind(*table)
                .fetch_all(&mut **tx)
                .await
                .map_err(map)?
            {
                deferred.push((row.try_get("name").map_err(map)?, row.try_get("ddl").map_err(map)?));
            }
        }
        for (name, _) in &deferred {
            sqlx::query(&format!("DROP INDEX {name}"))
                .execute(&mut **tx)
                .await
                .map_err(map)?;
        }
        sqlx::query(STAGE_CREATE).execute(&mut **tx).await.map_err(map)?;
        Ok(deferred)
    }

    /// Ends a bulk insert: every staged department row at once, numbered and in key order, then
    /// the indexes [`Self::begin_import`] dropped.
    async fn finish_import(tx: &mut Transaction<'static, DB>, deferred: &[(String, String)]) -> Result<(), StoreError> {
        DB::prepare_bulk_statement(tx, IMPORT_TABLES).await?;
        sqlx::query(STAGE_NUMBERED).execute(&mut **tx).await.map_err(map)?;
        sqlx::query("DROP TABLE import_member_departments")
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        sqlx::query("DELETE FROM unnumbered_departments")
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        for (_, ddl) in deferred {
            sqlx::query(ddl).execute(&mut **tx).await.map_err(map)?;
        }
        Ok(())
    }

    /// Writes a directory's rows into `tx` with multi-row statements of full width: corps, apps,
    /// roles, departments, people in id order, then their memberships in key order (rows in key
    /// order land on neighbouring index pages).
    async fn insert_rows(
        tx: &mut Transaction<'static, DB>,
        dir: &Directory,
        departments: MemberDepartments<'_>,
    ) -> Result<(), StoreError> {
        for chunk in dir.corps.chunks(rows::<DB>(2)) {
            let sql = format!("INSERT INTO corps (corp_id, name) {}", values::<DB>(2, chunk.len()));
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c.id.0.as_str()).bind(c.name.as_str());
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        // Apps are few: the one app writer serves the bulk insert too.
        for a in &dir.apps {
            Self::write_app(tx, a).await?;
        }
        Self::write_roles(tx, &dir.roles).await?;
        for chunk in dir.departments.chunks(rows::<DB>(8)) {
            let sql = format!(
                "INSERT INTO departments ({DEPT_COLUMNS}) {}",
                values::<DB>(8, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = Self::bind_department(q, d);
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        let mut people: Vec<&Person> = dir.people.iter().map(|(p, _)| p).collect();
        people.sort_unstable_by(|a, b| a.id.0.cmp(&b.id.0));
        for chunk in people.chunks(rows::<DB>(PERSON_WIDTH)) {
            let sql = format!("{PERSON_INSERT} {}", values::<DB>(PERSON_WIDTH, chunk.len()));
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = Self::bind_person(q, p)?;
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        // Members after all the people, in statements of full width (see `write_members`).
        let mut members: Vec<&Member> = dir.people.iter().flat_map(|(_, ms)| ms).collect();
        members.sort_unstable_by(|a, b| {
            (&a.membership.corp_id.0, &a.membership.userid.0).cmp(&(&b.membership.corp_id.0, &b.membership.userid.0))
        });
        Self::write_members(tx, &members, departments).await?;
        if matches!(departments, MemberDepartments::Stage) {
            return Ok(());
        }
        let mut touched: Vec<(&str, i64)> = members
            .iter()
            .filter(|m| m.membership.status == MemberStatus::Active)
            .flat_map(|m| {
                m.details
                    .departments
                    .iter()
                    .map(|d| (m.membership.corp_id.0.as_str(), d.dept_id))
            })
            .collect();
        touched.sort_unstable();
        touched.dedup();
        let touched: Vec<(String, i64)> = touched.into_iter().map(|(c, d)| (c.to_owned(), d)).collect();
        Self::mark_unnumbered(tx, &touched).await?;
        Ok(())
    }

    /// Marks departments whose members' numbers a write may have made stale: until
    /// [`Self::renumber`] runs, [`DirectoryStore::department_page`] counts their offsets instead.
    async fn mark_unnumbered(
        tx: &mut Transaction<'static, DB>,
        departments: &[(String, i64)],
    ) -> Result<(), StoreError> {
        for part in departments.chunks(rows::<DB>(2)) {
            let sql = format!(
                "INSERT INTO unnumbered_departments (corp_id, dept_id) {} ON CONFLICT DO NOTHING",
                values::<DB>(2, part.len())
            );
            let mut q = sqlx::query(&sql);
            for (corp, dept) in part {
                q = q.bind(corp.as_str()).bind(*dept);
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        Ok(())
    }

    /// Numbers the active members of each (corp, department) 0, 1, 2, … in custom order, clears
    /// the numbers of the rest and unmarks the department: what
    /// [`DirectoryStore::department_page`] seeks on.
    async fn renumber(tx: &mut Transaction<'static, DB>, departments: &[(String, i64)]) -> Result<(), StoreError> {
        for (corp, dept) in departments {
            sqlx::query("DELETE FROM unnumbered_departments WHERE corp_id = $1 AND dept_id = $2")
                .bind(corp.as_str())
                .bind(*dept)
                .execute(&mut **tx)
                .await
                .map_err(map)?;
            // The order is read along the order index and compared here, and only rows whose
            // number changes are written: an arrival at the end rewrites one row, not the
            // department. (A single UPDATE joined to a ROW_NUMBER() subquery was planned as a
            // nested loop over the subquery on PostgreSQL while the table's statistics were
            // young: seconds for 300 rows.)
            let rows_now = sqlx::query(
                "SELECT d.userid, d.seq, m.status FROM member_departments d JOIN memberships m \
                 ON m.corp_id = d.corp_id AND m.userid = d.userid \
                 WHERE d.corp_id = $1 AND d.dept_id = $2 ORDER BY d.ord, d.userid",
            )
            .bind(corp.as_str())
            .bind(*dept)
            .fetch_all(&mut **tx)
            .await
            .map_err(map)?;
            let mut next = 0_i64;
            let mut changed: Vec<(String, Option<i64>)> = Vec::new();
            for row in &rows_now {
                let userid: String = row.try_get("userid").map_err(map)?;
                let seq: Option<i64> = row.try_get("seq").map_err(map)?;
                let status: String = row.try_get("status").map_err(map)?;
                let want = (status == MemberStatus::Active.as_str()).then(|| {
                    next += 1;
                    next - 1
                });
                if seq != want {
                    changed.push((userid, want));
                }
            }
            for part in changed.chunks(rows::<DB>(2).saturating_sub(1).max(1)) {
                let list: Vec<String> = (0..part.len())
                    .map(|i| format!("(${}, ${})", 2 * i + 3, 2 * i + 4))
                    .collect();
                let sql = format!(
                    "UPDATE member_departments SET seq = v.column2 FROM (VALUES {}) AS v \
                     WHERE member_departments.corp_id = $1 AND member_departments.dept_id = $2 \
                     AND member_departments.userid = v.column1",
                    list.join(", ")
                );
                let mut q = sqlx::query(&sql).bind(corp.as_str()).bind(*dept);
                for (userid, seq) in part {
                    q = q.bind(userid.as_str()).bind(*seq);
                }
                q.execute(&mut **tx).await.map_err(map)?;
            }
        }
        Ok(())
    }

    fn corp_from(row: &DB::Row) -> Result<Corp, StoreError> {
        Ok(Corp {
            id: CorpId(row.try_get("corp_id").map_err(map)?),
            name: row.try_get("name").map_err(map)?,
        })
    }

    /// An app's own row; [`app_children`](Self::app_children) fills in the rest.
    fn app_from(row: &DB::Row) -> Result<App, StoreError> {
        let kind: String = row.try_get("kind").map_err(map)?;
        let key = AppKey(row.try_get("app_key").map_err(map)?);
        let agent_id: Option<i64> = row.try_get("agent_id").map_err(map)?;
        let bot_url: Option<String> = row.try_get("bot_url").map_err(map)?;
        let bot_secret: Option<String> = row.try_get("bot_secret").map_err(map)?;
        Ok(App {
            bot_callback: bot_url
                .zip(bot_secret)
                .map(|(url, secret)| dingdir_core::model::BotCallback { url, secret }),
            agent_id: agent_id.unwrap_or_else(|| dingdir_core::model::derived_agent_id(&key)),
            key,
            name: row.try_get("name").map_err(map)?,
            secret_hash: row.try_get("secret_hash").map_err(map)?,
            kind: AppKind::parse(&kind).ok_or_else(|| corrupt("app kind", &kind))?,
            corp_id: row.try_get::<Option<String>, _>("corp_id").map_err(map)?.map(CorpId),
            isv: row.try_get("isv").map_err(map)?,
            scopes: Vec::new(),
            redirect_uris: Vec::new(),
            authorized_corps: Vec::new(),
            suite_ticket: row.try_get("suite_ticket").map_err(map)?,
            contact_ranges: Vec::new(),
        })
    }

    async fn app_children(&self, app: &mut App) -> Result<(), StoreError> {
        let key = app.key.0.as_str();
        app.scopes = sqlx::query_scalar("SELECT scope FROM app_scopes WHERE app_key = $1 ORDER BY scope")
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        app.redirect_uris = sqlx::query_scalar("SELECT uri FROM app_redirect_uris WHERE app_key = $1 ORDER BY uri")
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let corps: Vec<String> =
            sqlx::query_scalar("SELECT corp_id FROM app_corps WHERE app_key = $1 ORDER BY corp_id")
                .bind(key)
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
        app.authorized_corps = corps.into_iter().map(CorpId).collect();
        let ranges = sqlx::query(
            "SELECT corp_id, departments, users FROM app_contact_ranges WHERE app_key = $1 ORDER BY corp_id",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        app.contact_ranges = ranges
            .iter()
            .map(|r| {
                Ok(ContactRange {
                    corp_id: CorpId(r.try_get("corp_id").map_err(map)?),
                    departments: dept_ids(&r.try_get::<String, _>("departments").map_err(map)?)?,
                    users: userids(&r.try_get::<String, _>("users").map_err(map)?),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(())
    }

    /// Creates or updates an app and replaces its scopes, redirect URIs and authorised corps.
    async fn write_app(tx: &mut Transaction<'static, DB>, a: &App) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO apps (app_key, name, secret_hash, kind, corp_id, isv, suite_ticket, agent_id, bot_url, \
             bot_secret) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (app_key) DO UPDATE SET \
             name = excluded.name, secret_hash = excluded.secret_hash, kind = excluded.kind, \
             corp_id = excluded.corp_id, isv = excluded.isv, suite_ticket = excluded.suite_ticket, \
             agent_id = excluded.agent_id, bot_url = excluded.bot_url, bot_secret = excluded.bot_secret",
        )
        .bind(&a.key.0)
        .bind(&a.name)
        .bind(&a.secret_hash)
        .bind(a.kind.as_str())
        .bind(a.corp_id.as_ref().map(|c| c.0.as_str()))
        .bind(a.isv.as_deref())
        .bind(a.suite_ticket.as_deref())
        .bind(a.agent_id)
        .bind(a.bot_callback.as_ref().map(|b| b.url.as_str()))
        .bind(a.bot_callback.as_ref().map(|b| b.secret.as_str()))
        .execute(&mut **tx)
        .await
        .map_err(map)?;
        for (table, column, values) in app_child_rows(a) {
            sqlx::query(&format!("DELETE FROM {table} WHERE app_key = $1"))
                .bind(&a.key.0)
                .execute(&mut **tx)
                .await
                .map_err(map)?;
            for v in values {
                sqlx::query(&format!("INSERT INTO {table} (app_key, {column}) VALUES ($1, $2)"))
                    .bind(&a.key.0)
                    .bind(v)
                    .execute(&mut **tx)
                    .await
                    .map_err(map)?;
            }
        }
        sqlx::query("DELETE FROM app_contact_ranges WHERE app_key = $1")
            .bind(&a.key.0)
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        for r in &a.contact_ranges {
            sqlx::query(
                "INSERT INTO app_contact_ranges (app_key, corp_id, departments, users) VALUES ($1, $2, $3, $4)",
            )
            .bind(&a.key.0)
            .bind(r.corp_id.0.as_str())
            .bind(joined(&r.departments))
            .bind(joined(r.users.iter().map(|u| &u.0)))
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        }
        Ok(())
    }

    /// Binds a department's columns, in [`DEPT_COLUMNS`]' order.
    fn bind_department<'q>(q: Query<'q, DB>, d: &'q Department) -> Query<'q, DB> {
        let (hide, dept_permits, user_permits) = visibility_columns(d);
        q.bind(d.corp_id.0.as_str())
            .bind(d.id)
            .bind(d.name.as_str())
            .bind(d.parent_id)
            .bind(d.order)
            .bind(hide)
            .bind(dept_permits)
            .bind(user_permits)
    }

    /// Binds a person's columns, in [`PERSON_INSERT`]'s order.
    fn bind_person<'q>(q: Query<'q, DB>, p: &'q Person) -> Result<Query<'q, DB>, StoreError> {
        Ok(q.bind(p.id.0.as_str())
            .bind(number_column(p.number)?)
            .bind(p.nick.as_str())
            .bind(p.mobile.as_ref().map(Mobile::state_code))
            .bind(p.mobile.as_ref().map(Mobile::national))
            .bind(p.email.as_deref())
            .bind(p.avatar_url.as_deref())
            .bind(p.password_hash.as_deref())
            .bind(p.exclusive_of.as_ref().map(|c| c.0.as_str()))
            .bind(p.login_id.as_deref()))
    }

    /// Binds a member's columns, in [`MEMBER_INSERT`]'s order.
    /// `json` is made by the caller so the query can borrow it.
    fn bind_member<'q>(q: Query<'q, DB>, member: &'q Member, json: &'q JsonColumns) -> Query<'q, DB> {
        let (m, d) = (&member.membership, &member.details);
        q.bind(m.corp_id.0.as_str())
            .bind(m.userid.0.as_str())
            .bind(m.person_id.0.as_str())
            .bind(m.name.as_deref())
            .bind(m.status.as_str())
            .bind(d.title.as_deref())
            .bind(d.job_number.as_deref())
            .bind(d.hired_date)
            .bind(d.work_place.as_deref())
            .bind(d.telephone.as_deref())
            .bind(d.org_email.as_deref())
            .bind(d.remark.as_deref())
            .bind(d.manager_userid.as_ref().map(|u| u.0.as_str()))
            .bind(i64::from(d.admin))
            .bind(i64::from(d.boss))
            .bind(i64::from(d.senior))
            .bind(i64::from(d.hide_mobile))
            .bind(i64::from(d.main_admin))
            .bind(d.departure.and_then(|x| x.left_at))
            .bind(d.departure.map(|x| x.reason.as_str()))
            .bind(json.extension.as_deref())
            .bind(json.roles.as_deref())
    }

    /// Upserts roles, one statement per role (a seed names few).
    async fn write_roles(tx: &mut Transaction<'static, DB>, roles: &[Role]) -> Result<(), StoreError> {
        for r in roles {
            sqlx::query(
                "INSERT INTO roles (corp_id, role_id, name, group_name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (corp_id, role_id) DO UPDATE SET name = excluded.name, group_name = excluded.group_name",
            )
            .bind(r.corp_id.0.as_str())
            .bind(r.id)
            .bind(r.name.as_str())
            .bind(r.group.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        }
        Ok(())
    }

    /// Deletes an empty department: refused while it has sub-departments or active members.
    async fn remove_department(tx: &mut Transaction<'static, DB>, corp: &CorpId, id: i64) -> Result<(), StoreError> {
        let children: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM departments WHERE corp_id = $1 AND parent_id = $2")
                .bind(corp.0.as_str())
                .bind(id)
                .fetch_one(&mut **tx)
                .await
                .map_err(map)?;
        if children > 0 {
            return Err(StoreError::Refused(Refusal::DepartmentHasChildren));
        }
        let members: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM member_departments d JOIN memberships m ON m.corp_id = d.corp_id \
             AND m.userid = d.userid WHERE d.corp_id = $1 AND d.dept_id = $2 AND m.status = 'active'",
        )
        .bind(corp.0.as_str())
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .map_err(map)?;
        if members > 0 {
            return Err(StoreError::Refused(Refusal::DepartmentHasMembers));
        }
        // Departed members keep their record; the department leaves their list.
        for table in ["member_departments", "unnumbered_departments", "departments"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE corp_id = $1 AND dept_id = $2"))
                .bind(corp.0.as_str())
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(map)?;
        }
        Ok(())
    }

    /// Appends entries to the change log after its last, stamped `at`. The caller has made
    /// writers take turns, so no other transaction appends between the read and the commit.
    async fn append_changes(
        tx: &mut Transaction<'static, DB>,
        log: &[NewChange],
        at: Millis,
    ) -> Result<(), StoreError> {
        if log.is_empty() {
            return Ok(());
        }
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_log")
            .fetch_one(&mut **tx)
            .await
            .map_err(map)?;
        let mut seq = last.unwrap_or(0);
        for chunk in log.chunks(rows::<DB>(5)) {
            let sql = format!(
                "INSERT INTO change_log (seq, at, corp_id, kind, subject) {}",
                values::<DB>(5, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                seq += 1;
                q = q
                    .bind(seq)
                    .bind(at)
                    .bind(c.corp_id.0.as_str())
                    .bind(c.kind.event_type())
                    .bind(c.subject.as_str());
            }
            q.execute(&mut **tx).await.map_err(map)?;
        }
        Ok(())
    }

    fn role_from(row: &DB::Row) -> Result<Role, StoreError> {
        Ok(Role {
            corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
            id: row.try_get("role_id").map_err(map)?,
            name: row.try_get("name").map_err(map)?,
            group: row.try_get("group_name").map_err(map)?,
        })
    }
}

/// A member's JSON-valued columns, serialised before binding.
struct JsonColumns {
    extension: Option<String>,
    roles: Option<String>,
}

/// A query on `DB` with its arguments.
type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>;

/// `VALUES` for `rows` rows of `columns` placeholders each: `($1, $2), ($3, $4)`, or
/// `(?, ?), (?, ?)` where [`Dialect::ANONYMOUS_VALUES`].
fn values<DB: Dialect>(columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(8 + rows * columns * 4);
    sql.push_str("VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            if DB::ANONYMOUS_VALUES {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(r * columns + c + 1).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

#[async_trait::async_trait]
impl<DB> DirectoryStore for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn apply(&self, write: &Write) -> Result<(), StoreError> {
        let dir = &write.directory;
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        // Writers take turns from here, so what is read now is what the write replaces.
        for (person, as_read) in &write.people_as_read {
            let mut now: Vec<MembershipKey> = Vec::new();
            for row in sqlx::query("SELECT corp_id, userid, status FROM memberships WHERE person_id = $1")
                .bind(&person.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?
            {
                let status: String = row.try_get("status").map_err(map)?;
                now.push((
                    CorpId(row.try_get("corp_id").map_err(map)?),
                    UserId(row.try_get("userid").map_err(map)?),
                    MemberStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
                ));
            }
            if &dingdir_core::change::sorted_keys(now) != as_read {
                return Err(StoreError::Stale(format!(
                    "person {} changed its memberships since the write read them",
                    person.0
                )));
            }
        }
        for c in &dir.corps {
            sqlx::query(
                "INSERT INTO corps (corp_id, name) VALUES ($1, $2) ON CONFLICT (corp_id) DO UPDATE SET name = excluded.name",
            )
            .bind(&c.id.0)
            .bind(&c.name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        for a in &dir.apps {
            Self::write_app(&mut tx, a).await?;
        }
        for d in &write.new_departments {
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT dept_id FROM departments WHERE corp_id = $1 AND dept_id = $2")
                    .bind(d.corp_id.0.as_str())
                    .bind(d.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map)?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!("department {} exists", d.id)));
            }
        }
        Self::write_departments(&mut tx, &write.new_departments).await?;
        Self::write_departments(&mut tx, &dir.departments).await?;
        Self::write_roles(&mut tx, &dir.roles).await?;
        // Memberships go first so that userids, mobiles and login names can move between people in one apply.
        // A department row whose member stays active at the same order keeps its number; a
        // department where someone arrives, leaves or moves is marked for renumbering.
        let mut kept: HashMap<MemberDeptKey, i64> = HashMap::new();
        let mut touched: Vec<(String, i64)> = Vec::new();
        for (p, ms) in &dir.people {
            let mut before: HashMap<MemberDeptKey, (i64, Option<i64>)> = HashMap::new();
            for row in sqlx::query(
                "SELECT d.corp_id, d.userid, d.dept_id, d.ord, d.seq FROM member_departments d JOIN memberships m \
                 ON m.corp_id = d.corp_id AND m.userid = d.userid WHERE m.person_id = $1 AND m.status = 'active'",
            )
            .bind(&p.id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map)?
            {
                let key = (
                    row.try_get("corp_id").map_err(map)?,
                    row.try_get("userid").map_err(map)?,
                    row.try_get("dept_id").map_err(map)?,
                );
                before.insert(
                    key,
                    (row.try_get("ord").map_err(map)?, row.try_get("seq").map_err(map)?),
                );
            }
            for m in ms.iter().filter(|m| m.membership.status == MemberStatus::Active) {
                let (corp, userid) = (&m.membership.corp_id.0, &m.membership.userid.0);
                for d in &m.details.departments {
                    let key = (corp.clone(), userid.clone(), d.dept_id);
                    match before.remove(&key) {
                        Some((ord, Some(seq))) if ord == d.order => {
                            kept.insert(key, seq);
                        }
                        _ => touched.push((corp.clone(), d.dept_id)),
                    }
                }
            }
            touched.extend(before.into_keys().map(|(corp, _, dept)| (corp, dept)));
            sqlx::query("DELETE FROM memberships WHERE person_id = $1")
                .bind(&p.id.0)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            sqlx::query("UPDATE people SET mobile = NULL, state_code = NULL, login_id = NULL WHERE person_id = $1")
                .bind(&p.id.0)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        let sql = format!(
            "{PERSON_INSERT} {} ON CONFLICT (person_id) DO UPDATE SET \
             nick = excluded.nick, state_code = excluded.state_code, mobile = excluded.mobile, \
             email = excluded.email, avatar_url = excluded.avatar_url, \
             password_hash = excluded.password_hash, exclusive_of = excluded.exclusive_of, login_id = excluded.login_id",
            values::<DB>(PERSON_WIDTH, 1)
        );
        for (p, _) in &dir.people {
            Self::bind_person(sqlx::query(&sql), p)?
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        let members: Vec<&Member> = dir.people.iter().flat_map(|(_, ms)| ms).collect();
        Self::write_members(&mut tx, &members, MemberDepartments::Keep(&kept)).await?;
        touched.sort();
        touched.dedup();
        Self::mark_unnumbered(&mut tx, &touched).await?;
        for (corp, id) in &write.removed_departments {
            Self::remove_department(&mut tx, corp, *id).await?;
        }
        Self::append_changes(&mut tx, &write.log, write.at).await?;
        Self::write_callbacks(&mut tx, &dir.callbacks).await?;
        tx.commit().await.map_err(map)
    }

    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>, StoreError> {
        let kinds: Vec<&str> = query.kinds.iter().map(|k| k.event_type()).collect();
        let list = |first: usize, n: usize| {
            (first..first + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut sql = "SELECT seq, at, corp_id, kind, subject FROM change_log WHERE seq > $1".to_owned();
        if !query.corps.is_empty() {
            sql.push_str(&format!(" AND corp_id IN ({})", list(2, query.corps.len())));
        }
        if !kinds.is_empty() {
            sql.push_str(&format!(" AND kind IN ({})", list(2 + query.corps.len(), kinds.len())));
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT {}", query.limit.min(i64::MAX as u64)));
        let mut q = sqlx::query(&sql).bind(query.after);
        for corp in &query.corps {
            q = q.bind(corp.0.as_str());
        }
        for k in kinds {
            q = q.bind(k);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(map)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(map)?;
                Ok(Change {
                    seq: row.try_get("seq").map_err(map)?,
                    at: row.try_get("at").map_err(map)?,
                    change: NewChange {
                        corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
                        kind: ChangeKind::parse(&kind).ok_or_else(|| corrupt("change kind", &kind))?,
                        subject: row.try_get("subject").map_err(map)?,
                    },
                })
            })
            .collect()
    }

    async fn insert_directory(&self, dir: &Directory) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        Self::insert_rows(&mut tx, dir, MemberDepartments::Keep(&HashMap::new())).await?;
        tx.commit().await.map_err(map)
    }

    /// One transaction for the whole import: the secondary indexes of the member tables are
    /// dropped first and built once at the end (sorting each index once is far cheaper than a
    /// million scattered inserts into it), and every department is numbered by one statement.
    /// A unique index that no longer builds fails the import, as the insert would have.
    async fn import(&self, batches: &mut (dyn Iterator<Item = Directory> + Send)) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        let deferred = Self::begin_import(&mut tx).await?;
        for batch in batches {
            Self::insert_rows(&mut tx, &batch, MemberDepartments::Stage).await?;
        }
        Self::finish_import(&mut tx, &deferred).await?;
        tx.commit().await.map_err(map)
    }

    /// [`Self::import`]'s path for one write, with its log and callbacks, in one transaction. A
    /// write that creates or removes departments apart from its directory, or replaces people it
    /// read, is no load: it is applied.
    async fn load(&self, write: &Write) -> Result<(), StoreError> {
        if !write.new_departments.is_empty()
            || !write.removed_departments.is_empty()
            || !write.people_as_read.is_empty()
        {
            return self.apply(write).await;
        }
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        let deferred = Self::begin_import(&mut tx).await?;
        Self::insert_rows(&mut tx, &write.directory, MemberDepartments::Stage).await?;
        Self::finish_import(&mut tx, &deferred).await?;
        Self::append_changes(&mut tx, &write.log, write.at).await?;
        Self::write_callbacks(&mut tx, &write.directory.callbacks).await?;
        tx.commit().await.map_err(map)
    }

    async fn directory(&self) -> Result<Directory, StoreError> {
        let corps = sqlx::query("SELECT corp_id, name FROM corps ORDER BY corp_id")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(Self::corp_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query("SELECT * FROM apps ORDER BY app_key")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut apps = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut app = Self::app_from(row)?;
            self.app_children(&mut app).await?;
            apps.push(app);
        }
        let callbacks = self.all_callbacks().await?.into_iter().map(|s| s.callback).collect();
        let people_rows = sqlx::query(&format!("SELECT {PERSON_COLUMNS} FROM people p ORDER BY p.person_id"))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let departments = sqlx::query(&format!(
            "SELECT {DEPT_COLUMNS} FROM departments ORDER BY corp_id, dept_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::department_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let roles = sqlx::query("SELECT corp_id, role_id, name, group_name FROM roles ORDER BY corp_id, role_id")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(Self::role_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut member_depts: std::collections::HashMap<(String, String), Vec<MemberDept>> =
            std::collections::HashMap::new();
        for row in sqlx::query(
            "SELECT corp_id, userid, dept_id, ord, leader FROM member_departments ORDER BY corp_id, userid, pos",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        {
            let key = (
                row.try_get("corp_id").map_err(map)?,
                row.try_get("userid").map_err(map)?,
            );
            member_depts.entry(key).or_default().push(Self::member_dept_from(&row)?);
        }
        let member_rows = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS}, {DETAIL_COLUMNS} FROM memberships m ORDER BY m.person_id, m.corp_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        let mut members = member_rows
            .iter()
            .map(|row| {
                let membership = Self::membership_from(row)?;
                let mut details = Self::details_from(row)?;
                let key = (membership.corp_id.0.clone(), membership.userid.0.clone());
                details.departments = member_depts.remove(&key).unwrap_or_default();
                Ok(Member { membership, details })
            })
            .peekable();
        let mut people = Vec::with_capacity(people_rows.len());
        for row in &people_rows {
            let person = Self::person_from(row)?;
            let mut ms = Vec::new();
            while let Some(m) = members.next_if(|m: &Result<Member, StoreError>| {
                m.as_ref().map_or(true, |m| m.membership.person_id == person.id)
            }) {
                ms.push(m?);
            }
            people.push((person, ms));
        }
        Ok(Directory {
            corps,
            departments,
            roles,
            apps,
            people,
            callbacks,
        })
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for table in [
            "member_departments",
            "unnumbered_departments",
            "memberships",
            "app_scopes",
            "app_redirect_uris",
            "app_corps",
            "app_contact_ranges",
            "apps",
            "people",
            "departments",
            "roles",
            "corps",
            "rate_windows",
            "change_log",
            "callback_attempts",
            "callbacks",
            "stream_attempts",
            "stream_cursors",
            "webhook_robots",
            "inbox",
            "chat_sessions",
            "chat_groups",
            "notices",
            "media",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        sqlx::query("DELETE FROM meta WHERE key = 'rate_limits'")
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn roles(&self, corp: &CorpId) -> Result<Vec<Role>, StoreError> {
        sqlx::query("SELECT corp_id, role_id, name, group_name FROM roles WHERE corp_id = $1 ORDER BY role_id")
            .bind(&corp.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(Self::role_from)
            .collect()
    }

    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        sqlx::query("SELECT corp_id, name FROM corps WHERE corp_id = $1")
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(Self::corp_from)
            .transpose()
    }

    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        let Some(row) = sqlx::query("SELECT * FROM apps WHERE app_key = $1")
            .bind(&key.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
        else {
            return Ok(None);
        };
        let mut app = Self::app_from(&row)?;
        self.app_children(&mut app).await?;
        Ok(Some(app))
    }

    async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE apps SET suite_ticket = $1 WHERE app_key = $2 AND kind = 'third_party_enterprise'")
                .bind(ticket)
                .bind(&app.0)
                .execute(&self.pool)
                .await
                .map_err(map)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        sqlx::query(&format!("SELECT {PERSON_COLUMNS} FROM people p WHERE p.person_id = $1"))
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(Self::person_from)
            .transpose()
    }

    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        let Ok(n) = i64::try_from(number) else {
            return Ok(None);
        };
        sqlx::query(&format!("SELECT {PERSON_COLUMNS} FROM people p WHERE p.number = $1"))
            .bind(n)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(Self::person_from)
            .transpose()
    }

    async fn person_by_login_id(&self, owner: &CorpId, login_id: &str) -> Result<Option<Person>, StoreError> {
        sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM people p WHERE p.exclusive_of = $1 AND p.login_id = $2"
        ))
        .bind(&owner.0)
        .bind(login_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(Self::person_from)
        .transpose()
    }

    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM people p WHERE p.mobile = $1 AND p.state_code = $2 AND p.exclusive_of IS NULL"
        ))
        .bind(mobile.national())
        .bind(mobile.state_code())
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(Self::person_from)
        .transpose()
    }

    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.corp_id = $1 AND m.userid = $2"
        ))
        .bind(&corp.0)
        .bind(&userid.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(Self::membership_from)
        .transpose()
    }

    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.person_id = $1 ORDER BY m.corp_id"
        ))
        .bind(&person.0)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::membership_from)
        .collect()
    }

    async fn member(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Member>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS}, {DETAIL_COLUMNS} FROM memberships m WHERE m.corp_id = $1 AND m.userid = $2"
        ))
        .bind(corp.0.as_str())
        .bind(userid.0.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        let Some(row) = row else { return Ok(None) };
        let membership = Self::membership_from(&row)?;
        let mut details = Self::details_from(&row)?;
        details.departments = self.member_depts(corp, userid).await?;
        Ok(Some(Member { membership, details }))
    }

    async fn department(&self, corp: &CorpId, id: i64) -> Result<Option<Department>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DEPT_COLUMNS} FROM departments WHERE corp_id = $1 AND dept_id = $2"
        ))
        .bind(corp.0.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(Self::department_from)
        .transpose()
    }

    async fn sub_departments(&self, corp: &CorpId, parent: i64) -> Result<Vec<Department>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DEPT_COLUMNS} FROM departments WHERE corp_id = $1 AND parent_id = $2 ORDER BY ord, dept_id"
        ))
        .bind(corp.0.as_str())
        .bind(parent)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::department_from)
        .collect()
    }

    async fn departures(
        &self,
        corp: &CorpId,
        from: i64,
        to: i64,
        after: Option<(i64, &UserId)>,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError> {
        let (after_at, after_user) = after.map_or((i64::MIN, ""), |(t, u)| (t, u.0.as_str()));
        // Keyset paging on the departures index: each page costs the same wherever it starts.
        let rows = sqlx::query(&departures_sql())
            .bind(corp.0.as_str())
            .bind(from)
            .bind(to)
            .bind(after_at)
            .bind(after_user)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.iter()
            .map(|row| {
                let membership = Self::membership_from(row)?;
                let details = Self::details_from(row)?;
                Ok((Member { membership, details }, Self::person_from(row)?))
            })
            .collect()
    }

    async fn last_department_id(&self, corp: &CorpId) -> Result<Option<i64>, StoreError> {
        // The primary key (corp_id, dept_id) answers MAX with one seek.
        sqlx::query_scalar("SELECT MAX(dept_id) FROM departments WHERE corp_id = $1")
            .bind(corp.0.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(map)
    }

    async fn departments(&self, corp: &CorpId) -> Result<Vec<Department>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DEPT_COLUMNS} FROM departments WHERE corp_id = $1 ORDER BY ord, dept_id"
        ))
        .bind(corp.0.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::department_from)
        .collect()
    }

    async fn department_members(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(DEPARTMENT_MEMBERS_SQL)
            .bind(corp.0.as_str())
            .bind(dept)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    async fn department_leaders(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT d.userid FROM member_departments d JOIN memberships m ON m.corp_id = d.corp_id \
             AND m.userid = d.userid WHERE d.corp_id = $1 AND d.dept_id = $2 AND d.leader = 1 \
             AND m.status = 'active' ORDER BY d.userid",
        )
        .bind(corp.0.as_str())
        .bind(dept)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    async fn department_page(
        &self,
        corp: &CorpId,
        dept: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError> {
        let from = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One transaction, so that the mark and the numbers it vouches for are read together.
        let mut tx = DB::begin_snapshot(&self.pool).await?;
        let unnumbered: Option<i64> =
            sqlx::query_scalar("SELECT dept_id FROM unnumbered_departments WHERE corp_id = $1 AND dept_id = $2")
                .bind(corp.0.as_str())
                .bind(dept)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
        let rows = if unnumbered.is_some() {
            // Written since it was last numbered: count the offset along the order index.
            sqlx::query(&department_page_sql(false))
                .bind(corp.0.as_str())
                .bind(dept)
                .bind(limit)
                .bind(from)
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?
        } else {
            // A range of numbers, not OFFSET: the seek costs the same on the last page as the first.
            sqlx::query(&department_page_sql(true))
                .bind(corp.0.as_str())
                .bind(dept)
                .bind(from)
                .bind(from.saturating_add(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?
        };
        tx.commit().await.map_err(map)?;
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            let membership = Self::membership_from(row)?;
            let details = Self::details_from(row)?;
            page.push((Member { membership, details }, Self::person_from(row)?));
        }
        if page.is_empty() {
            return Ok(page);
        }
        // Every member's departments in one query.
        let sql = format!(
            "SELECT userid, dept_id, ord, leader FROM member_departments WHERE corp_id = $1 AND userid IN ({}) \
             ORDER BY userid, pos",
            (0..page.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql).bind(corp.0.as_str());
        for (m, _) in &page {
            q = q.bind(m.membership.userid.0.as_str());
        }
        let mut depts: std::collections::HashMap<String, Vec<MemberDept>> = std::collections::HashMap::new();
        for row in q.fetch_all(&self.pool).await.map_err(map)? {
            let userid: String = row.try_get("userid").map_err(map)?;
            depts.entry(userid).or_default().push(Self::member_dept_from(&row)?);
        }
        for (m, _) in &mut page {
            m.details.departments = depts.remove(&m.membership.userid.0).unwrap_or_default();
        }
        Ok(page)
    }

    async fn glance(&self, max: u64) -> Result<dingdir_proto::admin::Glance, StoreError> {
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let count = |sql: &'static str| async move {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await.map_err(map)?;
            Ok::<u64, StoreError>(u64::try_from(n).unwrap_or(0))
        };
        let corps = sqlx::query(
            "SELECT c.corp_id, c.name, \
             (SELECT COUNT(*) FROM memberships m WHERE m.corp_id = c.corp_id AND m.status = 'active') AS members, \
             (SELECT COUNT(*) FROM departments d WHERE d.corp_id = c.corp_id) AS departments \
             FROM corps c ORDER BY c.corp_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(|row| {
            let n = |name: &str| row.try_get::<i64, _>(name).map(|n| u64::try_from(n).unwrap_or(0));
            Ok(dingdir_proto::admin::CorpGlance {
                id: row.try_get("corp_id").map_err(map)?,
                name: row.try_get("name").map_err(map)?,
                members: n("members").map_err(map)?,
                departments: n("departments").map_err(map)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let apps = sqlx::query("SELECT * FROM apps ORDER BY app_key LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(|row| Self::app_from(row).map(|app| app.glance()))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(dingdir_proto::admin::Glance {
            corps,
            apps,
            people: count("SELECT COUNT(*) FROM people").await?,
            corp_count: count("SELECT COUNT(*) FROM corps").await?,
            app_count: count("SELECT COUNT(*) FROM apps").await?,
        })
    }

    async fn member_count(&self, corp: &CorpId) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE corp_id = $1 AND status = 'active'")
            .bind(corp.0.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn admins(&self, corp: &CorpId) -> Result<Vec<(UserId, bool)>, StoreError> {
        sqlx::query(
            "SELECT userid, main_admin FROM memberships \
             WHERE corp_id = $1 AND status = 'active' AND (admin = 1 OR main_admin = 1) ORDER BY userid",
        )
        .bind(corp.0.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(|row| {
            let userid: String = row.try_get("userid").map_err(map)?;
            let main: i64 = row.try_get("main_admin").map_err(map)?;
            Ok((UserId(userid), main != 0))
        })
        .collect()
    }

    async fn number_members(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        let stale = sqlx::query("SELECT corp_id, dept_id FROM unnumbered_departments ORDER BY corp_id, dept_id")
            .fetch_all(&mut *tx)
            .await
            .map_err(map)?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>("corp_id").map_err(map)?,
                    row.try_get("dept_id").map_err(map)?,
                ))
            })
            .collect::<Result<Vec<(String, i64)>, StoreError>>()?;
        Self::renumber(&mut tx, &stale).await?;
        tx.commit().await.map_err(map)
    }

    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        let rows = sqlx::query(&members_by_mobile_sql())
            .bind(mobile.national())
            .bind(mobile.state_code())
            .bind(&corp.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut found = rows
            .iter()
            .map(|r| Ok((Self::membership_from(r)?, Self::person_from(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        found.sort_by(|a, b| a.0.userid.cmp(&b.0.userid));
        Ok(found)
    }
}
