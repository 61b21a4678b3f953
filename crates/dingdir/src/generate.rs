//! `dingdir generate`: a directory of N people with realistic shapes, written straight into the
//! store in large multi-row transactions, with progress on stderr. For benchmarks and load tests.
//!
//! Shapes: corps of skewed sizes (a few large, many small); about 2% foreign mobiles, 4% departed
//! members, 10% people in a second corp, 1% extra exclusive accounts sharing a member's mobile,
//! 30% without email and 40% without avatar. Everything is derived from the person's index, so a
//! run is reproducible. One internal app (`dingbenchinternal` / `bench-secret`, all scopes) and
//! one suite authorised in every corp are added.

use anyhow::Context;
use dingdir_core::Store;
use dingdir_core::ident::{corp_id_for, person_number};
use dingdir_core::mobile::Mobile;
use dingdir_core::model::{
    App, AppKind, Corp, Department, Directory, Member, MemberDept, MemberDetails, MemberStatus, Membership, Person,
    PersonId, ROOT_DEPT,
};
use dingdir_core::secret;
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use dingdir_proto::scope;
use serde::Serialize;
use std::io::Write;
use std::time::Instant;

/// The benchmark app's key and secret.
pub(crate) const APP_KEY: &str = "dingbenchinternal";
const APP_SECRET: &str = "bench-secret";
/// People written per transaction.
const BATCH: u64 = 20_000;

const SURNAMES: &[&str] = &[
    "zhang", "wang", "li", "zhao", "chen", "liu", "yang", "huang", "zhou", "wu", "xu", "sun", "ma", "zhu", "hu", "guo",
    "he", "lin", "luo", "gao",
];
const GIVEN: &[&str] = &[
    "wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie", "tao", "ming",
    "chao", "xiu", "xia", "ping", "gang",
];
const FOREIGN: &[&str] = &["852", "886", "65", "1"];

/// What a benchmark needs to call the generated directory: credentials and sample members.
#[derive(Debug, Serialize)]
pub(crate) struct Sample {
    pub(crate) app_key: String,
    pub(crate) app_secret: String,
    pub(crate) corp_id: String,
    pub(crate) members: Vec<SampleMember>,
}

/// An active normal-account member of the sample corp.
#[derive(Debug, Serialize)]
pub(crate) struct SampleMember {
    pub(crate) userid: String,
    pub(crate) mobile: String,
}

/// A deterministic 64-bit mix of the index, for every "random" choice.
fn mix(i: u64, salt: u64) -> u64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn corp_ids(n: u64) -> Vec<CorpId> {
    (0..n).map(|c| corp_id_for(&format!("generated corp {c}"))).collect()
}

/// A skewed corp index: low indices (large corps) are far likelier.
fn corp_of(i: u64, corps: u64, salt: u64) -> u64 {
    let u = (mix(i, salt) % 1_000_000) as f64 / 1_000_000.0;
    ((u * u * corps as f64) as u64).min(corps - 1)
}

fn mobile_of(i: u64) -> Mobile {
    let scrambled = i.wrapping_mul(7919) % 1_000_000_000;
    let parsed = if mix(i, 1) % 50 == 0 {
        let cc = FOREIGN[(mix(i, 2) % FOREIGN.len() as u64) as usize];
        Mobile::from_parts(cc, &format!("{}{:07}", 1 + mix(i, 3) % 9, scrambled % 10_000_000))
    } else {
        let second = ["3", "5", "8"][(i % 3) as usize];
        Mobile::from_parts("86", &format!("1{second}{scrambled:09}"))
    };
    // Both forms are valid by construction; fall back to the plainest valid number.
    parsed
        .or_else(|_| Mobile::from_parts("86", &format!("139{:08}", i % 100_000_000)))
        .unwrap_or_else(|_| unreachable!())
}

fn person(i: u64, corps: &[CorpId]) -> (Person, Vec<Membership>) {
    let id = PersonId(format!("g{i}"));
    let nick = format!(
        "{}{}",
        SURNAMES[(mix(i, 4) % SURNAMES.len() as u64) as usize],
        GIVEN[(mix(i, 5) % GIVEN.len() as u64) as usize]
    );
    let n = corps.len() as u64;
    let primary = corp_of(i, n, 6);
    let mut memberships = vec![Membership {
        corp_id: corps[primary as usize].clone(),
        userid: UserId(format!("u{i}")),
        person_id: id.clone(),
        name: None,
        status: if mix(i, 7) % 25 == 0 {
            MemberStatus::Departed
        } else {
            MemberStatus::Active
        },
    }];
    if n > 1 && mix(i, 8) % 10 == 0 {
        let second = (primary + 1 + mix(i, 9) % (n - 1)) % n;
        memberships.push(Membership {
            corp_id: corps[second as usize].clone(),
            userid: UserId(format!("x{i}")),
            person_id: id.clone(),
            name: None,
            status: MemberStatus::Active,
        });
    }
    memberships.sort_by(|a, b| a.corp_id.cmp(&b.corp_id));
    let person = Person {
        number: person_number(&id),
        email: (mix(i, 10) % 10 >= 3).then(|| format!("{nick}{i}@example.com")),
        avatar_url: (mix(i, 11) % 10 >= 4).then(|| format!("https://static.example.com/avatar/{i}.png")),
        nick,
        mobile: Some(mobile_of(i)),
        password_hash: None,
        exclusive_of: None,
        id,
    };
    (person, memberships)
}

/// An exclusive account of person `i`'s primary corp, sharing their mobile.
fn exclusive(i: u64, corps: &[CorpId]) -> (Person, Vec<Membership>) {
    let corp = corps[corp_of(i, corps.len() as u64, 6) as usize].clone();
    let id = PersonId(format!("gx{i}"));
    let member = Membership {
        corp_id: corp.clone(),
        userid: UserId(format!("ex{i}")),
        person_id: id.clone(),
        name: None,
        status: MemberStatus::Active,
    };
    let person = Person {
        number: person_number(&id),
        nick: format!("exclusive{i}"),
        mobile: Some(mobile_of(i)),
        email: None,
        avatar_url: None,
        password_hash: None,
        exclusive_of: Some(corp),
        id,
    };
    (person, vec![member])
}

/// A person's memberships as members of their corps' root departments.
fn in_root((person, memberships): (Person, Vec<Membership>)) -> (Person, Vec<Member>) {
    let members = memberships
        .into_iter()
        .map(|membership| Member {
            membership,
            details: MemberDetails {
                departments: vec![MemberDept {
                    dept_id: ROOT_DEPT,
                    order: 0,
                    leader: false,
                }],
                ..MemberDetails::default()
            },
        })
        .collect();
    (person, members)
}

fn apps(corps: &[CorpId]) -> anyhow::Result<Vec<App>> {
    let hash = secret::hash(APP_SECRET).map_err(|e| anyhow::anyhow!("{e}"))?;
    let all = vec![
        scope::CONTACT_USER_MOBILE.to_owned(),
        scope::CONTACT_USER_READ.to_owned(),
        scope::QYAPI_GET_DEPARTMENT_LIST.to_owned(),
        scope::QYAPI_GET_DEPARTMENT_MEMBER.to_owned(),
        scope::QYAPI_GET_MEMBER.to_owned(),
        scope::QYAPI_GET_MEMBER_BY_MOBILE.to_owned(),
    ];
    let mut authorized = corps.to_vec();
    authorized.sort();
    Ok(vec![
        App {
            key: AppKey(APP_KEY.to_owned()),
            name: "Bench Internal App".to_owned(),
            secret_hash: hash.clone(),
            kind: AppKind::Internal,
            corp_id: Some(corps[0].clone()),
            isv: None,
            scopes: all.clone(),
            redirect_uris: vec!["http://127.0.0.1:3000/callback".to_owned()],
            authorized_corps: Vec::new(),
            suite_ticket: None,
        },
        App {
            key: AppKey("dingbenchsuite".to_owned()),
            name: "Bench Suite".to_owned(),
            secret_hash: hash,
            kind: AppKind::ThirdPartyEnterprise,
            corp_id: None,
            isv: Some("bench-isv".to_owned()),
            scopes: all,
            redirect_uris: vec!["http://127.0.0.1:3000/callback".to_owned()],
            authorized_corps: authorized,
            suite_ticket: None,
        },
    ])
}

/// Writes the directory of `people` people into an empty store and returns a sample for callers.
pub(crate) async fn generate(store: &dyn Store, people: u64, corps: Option<u64>) -> anyhow::Result<Sample> {
    anyhow::ensure!(people >= 1, "--people must be at least 1");
    let corps_n = corps.unwrap_or((people / 5_000).clamp(1, 2_000)).max(1);
    let corp_list = corp_ids(corps_n);
    let started = Instant::now();
    let mut stderr = std::io::stderr();
    let mut written = 0u64;
    let mut accounts = 0u64;
    let mut member_rows = 0u64;
    let mut start = 0u64;
    while start < people {
        let end = (start + BATCH).min(people);
        let mut dir = Directory::default();
        if start == 0 {
            dir.corps = corp_list
                .iter()
                .enumerate()
                .map(|(c, id)| Corp {
                    id: id.clone(),
                    name: format!("Generated Co {c}"),
                })
                .collect();
            dir.apps = apps(&corp_list)?;
        }
        if start == 0 {
            dir.departments = dir
                .corps
                .iter()
                .map(|c| Department {
                    corp_id: c.id.clone(),
                    id: ROOT_DEPT,
                    name: c.name.clone(),
                    parent_id: None,
                    order: 0,
                })
                .collect();
        }
        for i in start..end {
            dir.people.push(in_root(person(i, &corp_list)));
            if mix(i, 12) % 100 == 0 {
                dir.people.push(in_root(exclusive(i, &corp_list)));
            }
        }
        accounts += dir.people.len() as u64;
        member_rows += dir.people.iter().map(|(_, m)| m.len() as u64).sum::<u64>();
        store
            .insert_directory(&dir)
            .await
            .with_context(|| format!("writing people {start}..{end} (generate needs an empty store)"))?;
        written = end;
        let _ = write!(
            stderr,
            "\rgenerating: {written}/{people} people ({}%), {:.1} s",
            written * 100 / people,
            started.elapsed().as_secs_f64()
        );
        let _ = stderr.flush();
        start = end;
    }
    let _ = writeln!(stderr);
    // One numbering pass for every department, so member pages see what the batches wrote.
    store.number_members().await.context("numbering department members")?;
    let _ = writeln!(
        stderr,
        "generated {written} people ({accounts} accounts, {member_rows} memberships, {corps_n} corps) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let corp0 = corp_list[0].clone();
    let members = (0..people)
        .filter(|&i| {
            let (p, ms) = person(i, &corp_list);
            p.mobile.as_ref().is_some_and(|m| m.state_code() == "86")
                && ms
                    .iter()
                    .any(|m| m.corp_id == corp0 && m.status == MemberStatus::Active && m.userid.0 == format!("u{i}"))
        })
        .take(200)
        .map(|i| SampleMember {
            userid: format!("u{i}"),
            mobile: mobile_of(i).national().to_owned(),
        })
        .collect();
    Ok(Sample {
        app_key: APP_KEY.to_owned(),
        app_secret: APP_SECRET.to_owned(),
        corp_id: corp0.0,
        members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_valid_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..50_000 {
            let m = mobile_of(i);
            assert!(Mobile::from_parts(m.state_code(), m.national()).is_ok());
            assert!(seen.insert(m.to_string()), "duplicate mobile at {i}");
        }
    }

    #[test]
    fn shapes_are_roughly_as_documented() {
        let corps = corp_ids(20);
        let people: Vec<_> = (0..10_000).map(|i| person(i, &corps)).collect();
        let departed = people
            .iter()
            .filter(|(_, ms)| {
                ms[0].status == MemberStatus::Departed || ms.iter().any(|m| m.status == MemberStatus::Departed)
            })
            .count();
        let two = people.iter().filter(|(_, ms)| ms.len() == 2).count();
        let foreign = people
            .iter()
            .filter(|(p, _)| p.mobile.as_ref().is_some_and(|m| m.state_code() != "86"))
            .count();
        assert!((300..=500).contains(&departed), "{departed}");
        assert!((800..=1200).contains(&two), "{two}");
        assert!((120..=300).contains(&foreign), "{foreign}");
    }
}
