//! Embedded, numbered migrations. Each backend has its own folder with the same file names.

/// One migration: its number, name and SQL.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// The migration after which tokens, codes and refresh tokens are stored as digests: when it is
/// applied, the rows stored before it are rewritten in the same transaction.
pub(crate) const CREDENTIAL_DIGESTS: i64 = 3;

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_directory",
        sql: include_str!("../migrations/sqlite/0001_directory.sql"),
    },
    Migration {
        version: 2,
        name: "0002_tokens",
        sql: include_str!("../migrations/sqlite/0002_tokens.sql"),
    },
    Migration {
        version: 3,
        name: "0003_credential_digests",
        sql: include_str!("../migrations/sqlite/0003_credential_digests.sql"),
    },
    Migration {
        version: 4,
        name: "0004_departments",
        sql: include_str!("../migrations/sqlite/0004_departments.sql"),
    },
    Migration {
        version: 5,
        name: "0005_member_order",
        sql: include_str!("../migrations/sqlite/0005_member_order.sql"),
    },
    Migration {
        version: 6,
        name: "0006_visibility",
        sql: include_str!("../migrations/sqlite/0006_visibility.sql"),
    },
    Migration {
        version: 7,
        name: "0007_departures",
        sql: include_str!("../migrations/sqlite/0007_departures.sql"),
    },
    Migration {
        version: 8,
        name: "0008_extension",
        sql: include_str!("../migrations/sqlite/0008_extension.sql"),
    },
    Migration {
        version: 9,
        name: "0009_login_id",
        sql: include_str!("../migrations/sqlite/0009_login_id.sql"),
    },
    Migration {
        version: 10,
        name: "0010_roles",
        sql: include_str!("../migrations/sqlite/0010_roles.sql"),
    },
    Migration {
        version: 11,
        name: "0011_rate_windows",
        sql: include_str!("../migrations/sqlite/0011_rate_windows.sql"),
    },
    Migration {
        version: 12,
        name: "0012_change_log",
        sql: include_str!("../migrations/sqlite/0012_change_log.sql"),
    },
    Migration {
        version: 13,
        name: "0013_callbacks",
        sql: include_str!("../migrations/sqlite/0013_callbacks.sql"),
    },
    Migration {
        version: 14,
        name: "0014_unnumbered_departments",
        sql: include_str!("../migrations/sqlite/0014_unnumbered_departments.sql"),
    },
    Migration {
        version: 15,
        name: "0015_stream",
        sql: include_str!("../migrations/sqlite/0015_stream.sql"),
    },
    Migration {
        version: 16,
        name: "0016_robots",
        sql: include_str!("../migrations/sqlite/0016_robots.sql"),
    },
    Migration {
        version: 17,
        name: "0017_messages",
        sql: include_str!("../migrations/sqlite/0017_messages.sql"),
    },
];

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_directory",
        sql: include_str!("../migrations/postgres/0001_directory.sql"),
    },
    Migration {
        version: 2,
        name: "0002_tokens",
        sql: include_str!("../migrations/postgres/0002_tokens.sql"),
    },
    Migration {
        version: 3,
        name: "0003_credential_digests",
        sql: include_str!("../migrations/postgres/0003_credential_digests.sql"),
    },
    Migration {
        version: 4,
        name: "0004_departments",
        sql: include_str!("../migrations/postgres/0004_departments.sql"),
    },
    Migration {
        version: 5,
        name: "0005_member_order",
        sql: include_str!("../migrations/postgres/0005_member_order.sql"),
    },
    Migration {
        version: 6,
        name: "0006_visibility",
        sql: include_str!("../migrations/postgres/0006_visibility.sql"),
    },
    Migration {
        version: 7,
        name: "0007_departures",
        sql: include_str!("../migrations/postgres/0007_departures.sql"),
    },
    Migration {
        version: 8,
        name: "0008_extension",
        sql: include_str!("../migrations/postgres/0008_extension.sql"),
    },
    Migration {
        version: 9,
        name: "0009_login_id",
        sql: include_str!("../migrations/postgres/0009_login_id.sql"),
    },
    Migration {
        version: 10,
        name: "0010_roles",
        sql: include_str!("../migrations/postgres/0010_roles.sql"),
    },
    Migration {
        version: 11,
        name: "0011_rate_windows",
        sql: include_str!("../migrations/postgres/0011_rate_windows.sql"),
    },
    Migration {
        version: 12,
        name: "0012_change_log",
        sql: include_str!("../migrations/postgres/0012_change_log.sql"),
    },
    Migration {
        version: 13,
        name: "0013_callbacks",
        sql: include_str!("../migrations/postgres/0013_callbacks.sql"),
    },
    Migration {
        version: 14,
        name: "0014_unnumbered_departments",
        sql: include_str!("../migrations/postgres/0014_unnumbered_departments.sql"),
    },
    Migration {
        version: 15,
        name: "0015_stream",
        sql: include_str!("../migrations/postgres/0015_stream.sql"),
    },
    Migration {
        version: 16,
        name: "0016_robots",
        sql: include_str!("../migrations/postgres/0016_robots.sql"),
    },
    Migration {
        version: 17,
        name: "0017_messages",
        sql: include_str!("../migrations/postgres/0017_messages.sql"),
    },
];

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_migrations_are_numbered_in_order_and_named_after_their_files() {
        let files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .trim_end_matches(".sql")
                    .to_owned()
            })
            .collect();
        let mut files = files;
        files.sort();
        let names: Vec<&str> = super::SQLITE.iter().map(|m| m.name).collect();
        assert_eq!(files, names);
        for (i, m) in super::SQLITE.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }
}
