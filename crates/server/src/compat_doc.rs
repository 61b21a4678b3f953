//! Keeps `docs/COMPATIBILITY.md` true to the code: its endpoint matrix lists exactly the new and
//! legacy gateways' `Endpoint::ALL`, its sign-in and admin table exactly the browser and admin
//! gateways' `Endpoint::ALL`, every cell of the matrix says `verified`, `not applicable` or `not yet`, and every
//! check a cell names exists in its driver under `tests/compat/` (and every check a driver
//! defines is named somewhere), so the document cannot drift from the endpoints or the referees.

use crate::gateway::{admin, api, browser, oapi};
use std::collections::BTreeSet;
use std::path::PathBuf;

const MATRIX: &str = "## Endpoint matrix";
const OTHERS: &str = "## Sign-in pages and admin API";
const CLIENT_COLUMNS: [&str; 5] = [
    "Python official (sync)",
    "Python official (async)",
    "Node official",
    "Python community",
    "Browser",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn doc() -> String {
    let path = repo().join("docs/COMPATIBILITY.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The table rows (cells, trimmed) under the `## ` heading `heading`, header row first.
fn table(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc.find(heading).unwrap_or_else(|| panic!("no {heading:?} section"));
    let section = &doc[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The backticked pieces of a cell, in order.
fn ticks(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// `METHOD PATH` of each body row, from its first cell.
fn endpoints(rows: &[Vec<String>]) -> BTreeSet<String> {
    rows.iter()
        .skip(1)
        .map(|r| match ticks(&r[0])[..] {
            [one] => one.to_owned(),
            _ => panic!("first cell of {r:?} is not one `METHOD PATH`"),
        })
        .collect()
}

fn listed(items: impl IntoIterator<Item = (String, &'static str)>) -> BTreeSet<String> {
    items.into_iter().map(|(m, p)| format!("{m} {p}")).collect()
}

fn gateway_endpoints() -> BTreeSet<String> {
    let api = api::Endpoint::ALL.iter().map(|e| (e.method().to_string(), e.path()));
    let oapi = oapi::Endpoint::ALL.iter().map(|e| (e.method().to_string(), e.path()));
    listed(api.chain(oapi))
}

/// The driver files under `tests/compat/` and their text.
fn drivers() -> Vec<(String, String)> {
    let dir = repo().join("tests/compat");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py") || n.ends_with(".js"))
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).unwrap_or_default();
            (n, text)
        })
        .collect();
    out.sort();
    out
}

fn defines(text: &str, name: &str) -> bool {
    [format!("def {name}("), format!("function {name}(")]
        .iter()
        .any(|d| text.contains(d.as_str()))
}

/// The `check_*` functions a driver defines.
fn defined_checks(text: &str) -> Vec<String> {
    ["def check_", "function check_"]
        .iter()
        .flat_map(|def| {
            text.match_indices(def)
                .map(move |(i, _)| &text[i + def.len() - "check_".len()..])
        })
        .filter_map(|rest| rest.split_once('(').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Checks a `verified: `file` `check`...` cell: each named check is defined in a named file.
fn check_verified_cell(cell: &str, drivers: &[(String, String)], named: &mut BTreeSet<String>) {
    let mut files = Vec::new();
    for tick in ticks(cell) {
        if tick.ends_with(".py") || tick.ends_with(".js") {
            let found = drivers.iter().find(|(n, _)| n == tick);
            files.push(found.unwrap_or_else(|| panic!("{cell:?} names tests/compat/{tick}, which does not exist")));
        } else if tick.starts_with("check_") {
            assert!(
                files.iter().any(|(_, text)| defines(text, tick)),
                "{cell:?} names {tick}, which none of its files defines"
            );
            named.insert(tick.to_owned());
        } else {
            panic!("{cell:?}: `{tick}` is neither a driver file nor a check_ function");
        }
    }
    assert!(!files.is_empty(), "{cell:?} says verified but names no driver");
}

#[test]
fn compatibility_matrix_lists_exactly_the_gateway_endpoints() {
    let doc = doc();
    let rows = table(&doc, MATRIX);
    let header: Vec<&str> = rows[0].iter().map(String::as_str).collect();
    let mut want = vec!["Endpoint", "Operation"];
    want.extend(CLIENT_COLUMNS);
    assert_eq!(header, want, "matrix header");
    assert_eq!(
        endpoints(&rows),
        gateway_endpoints(),
        "docs/COMPATIBILITY.md's matrix (left) and the gateways' Endpoint::ALL (right) differ"
    );
    for e in api::Endpoint::ALL {
        let key = format!("{} {}", e.method(), e.path());
        let row = rows
            .iter()
            .find(|r| ticks(&r[0]) == [key.as_str()])
            .unwrap_or_else(|| panic!("{key}"));
        assert!(
            ticks(&row[1]).contains(&e.name()),
            "{key}: operation cell should name `{}`",
            e.name()
        );
    }
    for e in oapi::Endpoint::ALL {
        let key = format!("{} {}", e.method(), e.path());
        let row = rows
            .iter()
            .find(|r| ticks(&r[0]) == [key.as_str()])
            .unwrap_or_else(|| panic!("{key}"));
        assert!(
            ticks(&row[1]).contains(&e.name()),
            "{key}: operation cell should name `{}`",
            e.name()
        );
    }
}

#[test]
fn compatibility_matrix_cells_name_checks_that_exist() {
    let doc = doc();
    let drivers = drivers();
    let mut named = BTreeSet::new();
    for row in table(&doc, MATRIX).iter().skip(1) {
        assert_eq!(row.len(), 2 + CLIENT_COLUMNS.len(), "cells in {row:?}");
        for cell in &row[2..] {
            if cell.starts_with("verified") {
                check_verified_cell(cell, &drivers, &mut named);
            } else {
                assert!(
                    cell == "not applicable" || cell.starts_with("not yet"),
                    "{cell:?} in {:?}: say verified, not applicable or not yet",
                    row[0]
                );
            }
        }
    }
    for row in table(&doc, OTHERS).iter().skip(1) {
        if row[2].starts_with("verified") {
            check_verified_cell(&row[2], &drivers, &mut named);
        }
    }
    for (file, text) in &drivers {
        for name in defined_checks(text) {
            assert!(
                named.contains(&name),
                "{file} defines {name}, which docs/COMPATIBILITY.md does not name"
            );
        }
    }
}

#[test]
fn sign_in_and_admin_table_lists_exactly_their_routes() {
    let doc = doc();
    let rows = table(&doc, OTHERS);
    let browser = browser::Endpoint::ALL
        .iter()
        .map(|e| (e.method().to_string(), e.path()));
    let admin = admin::Endpoint::ALL.iter().map(|e| (e.method().to_string(), e.path()));
    assert_eq!(
        endpoints(&rows),
        listed(browser.chain(admin)),
        "docs/COMPATIBILITY.md's sign-in and admin table (left) and the routes (right) differ"
    );
}
