//! `dingdir generate`: a directory of N people with realistic shapes, written straight into the
//! store in large multi-row transactions, with progress on stderr. For benchmarks and load tests.
//!
//! People: corps of skewed sizes (a few large, many small); about 2% foreign mobiles, 4% departed
//! members, 10% people in a second corp, 1% extra exclusive accounts sharing a member's mobile,
//! 30% without email and 40% without avatar. One internal app (`dingbenchinternal` /
//! `bench-secret`, all scopes) and one suite authorised in every corp are added.
//!
//! Departments: every corp gets a tree under its root (id 1) with ids 2, 3, … in breadth-first
//! order, one department per 30 to 50 memberships (the ratio varies by corp), named like
//! `研发部3` (under the root) or `平台组12` (below), with sibling orders. The tree is 2 to 6 levels
//! deep, the root included: a corp under 50 members has the root and up to 4 departments, a
//! corp of a million members tens of thousands of departments over 6 levels. Department sizes
//! are skewed: most hold 3 to 50 direct members, about 2% hold 250 to 1000, departments with
//! sub-departments hold fewer, and a corp of 300k members or more also has 2 or 3 flat
//! departments under the root (`一线员工`, …) of about 100k direct members each.
//!
//! Members: each sits in one department, about 5% in two; the first active member of a
//! department (by index) leads it, and everyone else's `manager_userid` is the leader of their
//! first department (or, for a leader, of the nearest department above with a leader). Most
//! have a title, a job number (unique in the corp), a hire date and about 60% a work place.
//!
//! Everything is derived from indices, so a run is reproducible: the same N (and `--corps`)
//! gives the same directory. Department trees are sized from exact corp sizes, counted in a
//! cheap first pass over the indices; a second pass finds each department's leader. Every
//! department is written with the first batch, before any member refers to it.

use anyhow::Context;
use dingdir_core::Store;
use dingdir_core::ident::{corp_id_for, person_number};
use dingdir_core::mobile::Mobile;
use dingdir_core::model::{
    App, AppKind, Corp, Department, Departure, Directory, LeaveReason, Member, MemberDept, MemberDetails, MemberStatus,
    Membership, Person, PersonId, ROOT_DEPT, Role,
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

/// Names of departments directly under the root (a sibling number is appended).
const DIVISIONS: &[&str] = &[
    "研发部",
    "市场部",
    "销售部",
    "产品部",
    "运营部",
    "财务部",
    "人力资源部",
    "行政部",
    "法务部",
    "客服部",
    "供应链部",
    "质量部",
    "设计部",
    "数据部",
    "采购部",
    "战略部",
];
/// Names of deeper departments (a sibling number is appended).
const TEAMS: &[&str] = &[
    "平台组",
    "前端组",
    "后端组",
    "测试组",
    "运维组",
    "算法组",
    "华东区",
    "华南区",
    "华北区",
    "西南区",
    "项目组",
    "渠道组",
    "品牌组",
    "招聘组",
    "薪酬组",
    "结算组",
    "大客户组",
    "增长组",
];
/// Names of the flat departments of the largest corps.
const FLATS: &[&str] = &["一线员工", "门店员工", "外包人员"];
/// Titles of members who do not lead their department.
const TITLES: &[&str] = &[
    "工程师",
    "高级工程师",
    "资深工程师",
    "产品经理",
    "设计师",
    "销售代表",
    "客户经理",
    "运营专员",
    "财务专员",
    "人事专员",
    "行政助理",
    "分析师",
    "测试工程师",
    "实习生",
    "店员",
    "操作员",
];
const WORK_PLACES: &[&str] = &[
    "北京",
    "上海",
    "杭州",
    "深圳",
    "广州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "杭州 西溪园区",
    "上海 张江",
    "北京 望京",
];
/// Corps at least this large get 2 or 3 flat departments of about 100k members each.
const FLAT_CORP: u64 = 300_000;
/// A department id's stand-in for "no leader".
const NO_LEADER: u64 = u64::MAX;
/// 2004-01-01 as days since the epoch: the earliest hire date.
const HIRED_FROM_DAY: i64 = 12_418;
const DAY_MS: i64 = 86_400_000;
/// 2026-12-01 as days since the epoch: generated departures fall in the two years before it, so a
/// generated directory is the same whenever it is made.
const LEFT_UNTIL_DAY: i64 = 20_788;

/// What a benchmark needs to call the generated directory: credentials and sample members.
#[derive(Debug, Serialize)]
pub(crate) struct Sample {
    pub(crate) app_key: String,
    pub(crate) app_secret: String,
    pub(crate) corp_id: String,
    pub(crate) members: Vec<SampleMember>,
    /// The sample corp's department with the most direct active members (possibly the root).
    pub(crate) largest_department: SampleDepartment,
    /// The sample corp's department with the fewest direct active members among those with at
    /// least 250, for paging through a department of a few pages; `null` when there is none.
    pub(crate) small_department: Option<SampleDepartment>,
}

/// An active normal-account member of the sample corp.
#[derive(Debug, Serialize)]
pub(crate) struct SampleMember {
    pub(crate) userid: String,
    pub(crate) mobile: String,
}

/// A department of the sample corp and how many active members it has directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct SampleDepartment {
    pub(crate) id: i64,
    pub(crate) members: u64,
}

/// A deterministic 64-bit mix of the index, for every "random" choice.
fn mix(i: u64, salt: u64) -> u64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One of `items`, chosen by `h`.
fn pick<'a>(items: &[&'a str], h: u64) -> &'a str {
    items[(h % items.len() as u64) as usize]
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

/// Which of person `i`'s accounts and memberships a membership is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Account {
    /// `u{i}` in the primary corp.
    Primary = 0,
    /// `x{i}` in a second corp.
    Second = 1,
    /// `ex{i}`, the exclusive account's membership in the primary corp.
    Exclusive = 2,
}

/// A membership as derived from the index alone, without building any string.
#[derive(Clone, Copy, Debug)]
struct Slot {
    i: u64,
    account: Account,
    /// The corp's index.
    corp: usize,
    active: bool,
}

impl Slot {
    /// A number unique among all memberships of a run.
    fn key(self) -> u64 {
        self.i * 3 + self.account as u64
    }
}

/// The userid of the membership with key `key`.
fn userid_of(key: u64) -> UserId {
    let i = key / 3;
    UserId(match key % 3 {
        0 => format!("u{i}"),
        1 => format!("x{i}"),
        _ => format!("ex{i}"),
    })
}

/// Person `i`'s memberships: the primary one, maybe one in a second corp, maybe the exclusive
/// account's one (in that order).
fn slots(i: u64, n: u64) -> impl Iterator<Item = Slot> {
    let primary = corp_of(i, n, 6);
    let second = (n > 1 && mix(i, 8) % 10 == 0).then(|| (primary + 1 + mix(i, 9) % (n - 1)) % n);
    let slot = |account, corp: u64, active| Slot {
        i,
        account,
        corp: corp as usize,
        active,
    };
    [
        Some(slot(Account::Primary, primary, mix(i, 7) % 25 != 0)),
        second.map(|c| slot(Account::Second, c, true)),
        (mix(i, 12) % 100 == 0).then(|| slot(Account::Exclusive, primary, true)),
    ]
    .into_iter()
    .flatten()
}

/// A slot's membership of person `person_id`.
fn membership(slot: Slot, person_id: &PersonId, corps: &[CorpId]) -> Membership {
    Membership {
        corp_id: corps[slot.corp].clone(),
        userid: userid_of(slot.key()),
        person_id: person_id.clone(),
        name: None,
        status: if slot.active {
            MemberStatus::Active
        } else {
            MemberStatus::Departed
        },
    }
}

/// Person `i`'s normal account and its memberships, by corp.
fn person(i: u64, corps: &[CorpId]) -> (Person, Vec<Membership>) {
    let (person, slots) = person_slots(i, corps.len() as u64);
    let memberships = slots
        .into_iter()
        .map(|s| membership(s, &person.id, corps))
        .collect::<Vec<_>>();
    let mut memberships = memberships;
    memberships.sort_by(|a, b| a.corp_id.cmp(&b.corp_id));
    (person, memberships)
}

/// Person `i`'s normal account and the slots of its memberships (the exclusive one left out).
fn person_slots(i: u64, n: u64) -> (Person, Vec<Slot>) {
    let id = PersonId(format!("g{i}"));
    let nick = format!("{}{}", pick(SURNAMES, mix(i, 4)), pick(GIVEN, mix(i, 5)));
    let slots = slots(i, n).filter(|s| s.account != Account::Exclusive).collect();
    let person = Person {
        number: person_number(&id),
        email: (mix(i, 10) % 10 >= 3).then(|| format!("{nick}{i}@example.com")),
        avatar_url: (mix(i, 11) % 10 >= 4).then(|| format!("https://static.example.com/avatar/{i}.png")),
        nick,
        mobile: Some(mobile_of(i)),
        password_hash: None,
        exclusive_of: None,
        login_id: None,
        id,
    };
    (person, slots)
}

/// The exclusive account of person `i`'s primary corp, sharing their mobile, if they have one.
fn exclusive(i: u64, corps: &[CorpId], trees: &[Tree]) -> Option<(Person, Vec<Member>)> {
    let slot = slots(i, corps.len() as u64).find(|s| s.account == Account::Exclusive)?;
    let id = PersonId(format!("gx{i}"));
    let member = Member {
        membership: membership(slot, &id, corps),
        details: trees[slot.corp].details(slot),
    };
    let person = Person {
        number: person_number(&id),
        nick: format!("exclusive{i}"),
        mobile: Some(mobile_of(i)),
        email: None,
        avatar_url: None,
        password_hash: None,
        exclusive_of: Some(corps[slot.corp].clone()),
        login_id: Some(format!("x{i}")),
        id,
    };
    Some((person, vec![member]))
}

/// Person `i`'s normal account with its members, by corp.
fn normal(i: u64, corps: &[CorpId], trees: &[Tree]) -> (Person, Vec<Member>) {
    let (person, slots) = person_slots(i, corps.len() as u64);
    let mut members: Vec<Member> = slots
        .into_iter()
        .map(|s| Member {
            membership: membership(s, &person.id, corps),
            details: trees[s.corp].details(s),
        })
        .collect();
    members.sort_by(|a, b| a.membership.corp_id.cmp(&b.membership.corp_id));
    (person, members)
}

/// One corp's department tree, as members need it. A department's id is its index + 1, so the
/// root (index 0) is [`ROOT_DEPT`].
#[derive(Debug)]
struct Tree {
    /// Each department's parent's index; the root's is 0.
    parents: Vec<u32>,
    /// Each department's level: 1 for the root.
    levels: Vec<u8>,
    /// Running totals of the departments' weights (their expected direct members), by which a
    /// membership picks its departments.
    cumulative: Vec<u64>,
    /// Each department's leader as a membership key, or [`NO_LEADER`].
    leaders: Vec<u64>,
}

fn dept_id(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX - 1) + 1
}

/// How many departments each of `levels` levels below the root holds, `total` in all, growing
/// by about the same factor level by level; every level holds at least one.
fn level_counts(total: u64, levels: u32) -> Vec<u64> {
    if levels == 0 {
        return Vec::new();
    }
    let sum = |r: f64| (1..=levels).map(|k| r.powi(k as i32)).sum::<f64>();
    let (mut lo, mut hi) = (1.0_f64, total.max(1) as f64);
    for _ in 0..64 {
        let mid = (lo + hi) / 2.0;
        if sum(mid) < total as f64 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut left = total;
    let mut counts = Vec::with_capacity(levels as usize);
    for k in 1..levels {
        let count = (lo.powi(k as i32).round() as u64).clamp(1, left - u64::from(levels - k));
        counts.push(count);
        left -= count;
    }
    counts.push(left);
    counts
}

impl Tree {
    /// The tree of corp `c` with `members` memberships (departed ones included), and its
    /// departments (the root named `name`) in id order.
    fn build(c: u64, corp_id: &CorpId, name: &str, members: u64) -> (Self, Vec<Department>) {
        let avg = 30 + mix(c, 30) % 21;
        let flats: u64 = match members {
            m if m >= 2 * FLAT_CORP && mix(c, 31) % 2 == 0 => 3,
            m if m >= FLAT_CORP => 2,
            _ => 0,
        };
        let flat_sizes: Vec<u64> = (0..flats).map(|f| 95_000 + mix(c * 4 + f, 32) % 10_000).collect();
        let rest = members.saturating_sub(flat_sizes.iter().sum());
        let regular = match members {
            0 => 0,
            m if m < 50 => m.div_ceil(12).min(4),
            _ => (rest / avg).max(1),
        };
        let below_root: u32 = match regular {
            0 => 0,
            1..=4 => 1,
            5..=40 => 2,
            41..=400 => 3,
            401..=4_000 => 4,
            _ => 5,
        };

        let mut departments = vec![Department {
            corp_id: corp_id.clone(),
            id: ROOT_DEPT,
            name: name.to_owned(),
            parent_id: None,
            order: 0,
            hidden: None,
        }];
        let mut tree = Self {
            parents: vec![0],
            levels: vec![1],
            cumulative: Vec::new(),
            leaders: Vec::new(),
        };
        // A department's own seed: its corp and index.
        let seed = |index: usize| (c << 32) | index as u64;
        let mut flat_at = Vec::new();
        let mut above = 0..1;
        for (k, &count) in level_counts(regular, below_root).iter().enumerate() {
            let level = k as u8 + 2;
            // Parents drawn at random from the level above, then grouped so siblings get
            // consecutive ids, as if each department's children had been created together.
            let mut parents: Vec<usize> = (0..count)
                .map(|p| {
                    above.start + (mix((c << 40) ^ (u64::from(level) << 32) ^ p, 33) % above.len() as u64) as usize
                })
                .collect();
            parents.sort_unstable();
            let start = departments.len();
            let mut sibling = 0;
            for (p, &parent) in parents.iter().enumerate() {
                sibling = if p > 0 && parents[p - 1] == parent {
                    sibling + 1
                } else {
                    1
                };
                let h = mix(seed(departments.len()), 34);
                let base = if level == 2 { pick(DIVISIONS, h) } else { pick(TEAMS, h) };
                let order = mix(seed(departments.len()), 35);
                tree.push(
                    &mut departments,
                    corp_id,
                    parent,
                    level,
                    format!("{base}{sibling}"),
                    order,
                );
            }
            if level == 2 {
                for flat in FLATS.iter().take(flats as usize) {
                    flat_at.push(departments.len());
                    let order = mix(seed(departments.len()), 35);
                    tree.push(&mut departments, corp_id, 0, 2, (*flat).to_owned(), order);
                }
            }
            above = start..start + count as usize;
        }

        // Weights: a handful of executives in the root, the flats their size, the rest shared
        // out by skewed raw weights, a quarter of them for departments with sub-departments.
        let n = departments.len();
        let mut has_children = vec![false; n];
        for &p in &tree.parents[1..] {
            has_children[p as usize] = true;
        }
        let root = if regular == 0 {
            members.max(1)
        } else {
            (avg / 8).min(rest)
        };
        let mut raw = vec![0u64; n];
        for (d, w) in raw.iter_mut().enumerate().skip(1) {
            if flat_at.contains(&d) {
                continue;
            }
            let h = mix(seed(d), 36);
            let r = if h % 50 == 0 {
                250 + mix(seed(d), 37) % 751
            } else {
                3 + mix(seed(d), 37) % 48
            };
            *w = if has_children[d] { (r / 4).max(1) } else { r };
        }
        let raw_sum = raw.iter().sum::<u64>().max(1);
        let shared = rest.saturating_sub(root);
        let mut total = 0;
        for (d, &raw) in raw.iter().enumerate() {
            total += match flat_at.iter().position(|&f| f == d) {
                Some(f) => flat_sizes[f],
                None if d == 0 => root,
                None => (raw * shared / raw_sum).max(1),
            };
            tree.cumulative.push(total);
        }
        tree.leaders = vec![NO_LEADER; n];
        (tree, departments)
    }

    fn push(
        &mut self,
        departments: &mut Vec<Department>,
        corp_id: &CorpId,
        parent: usize,
        level: u8,
        name: String,
        h: u64,
    ) {
        departments.push(Department {
            corp_id: corp_id.clone(),
            id: dept_id(departments.len()),
            name,
            parent_id: Some(dept_id(parent)),
            order: (h % 100_000) as i64,
            hidden: None,
        });
        self.parents.push(parent as u32);
        self.levels.push(level);
    }

    fn len(&self) -> usize {
        self.parents.len()
    }

    /// A department drawn by weight for membership `key`.
    fn draw(&self, key: u64, salt: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1).max(1);
        let h = mix(key, salt) % total;
        self.cumulative.partition_point(|&c| c <= h).min(self.len() - 1)
    }

    /// Membership `key`'s departments: the first, and for about 5% a second one.
    fn departments_of(&self, key: u64) -> (usize, Option<usize>) {
        let first = self.draw(key, 40);
        let second = (self.len() > 1 && mix(key, 41) % 20 == 0).then(|| match self.draw(key, 42) {
            d if d == first => (first + 1) % self.len(),
            d => d,
        });
        (first, second)
    }

    /// The leader of department `d` or, if that is `key` or nobody, of the nearest department
    /// above with another leader.
    fn manager_of(&self, key: u64, mut d: usize) -> Option<u64> {
        loop {
            let leader = self.leaders[d];
            if leader != NO_LEADER && leader != key {
                return Some(leader);
            }
            if d == 0 {
                return None;
            }
            d = self.parents[d] as usize;
        }
    }

    /// A membership's full record.
    fn details(&self, slot: Slot) -> MemberDetails {
        let key = slot.key();
        let (first, second) = self.departments_of(key);
        let leads = self.leaders[first] == key;
        let place = |d: usize, salt: u64| {
            let leader = self.leaders[d] == key;
            MemberDept {
                dept_id: dept_id(d),
                order: if leader {
                    0
                } else {
                    1 + (mix(key, salt) % 1_000_000) as i64
                },
                leader,
            }
        };
        let mut departments = vec![place(first, 43)];
        departments.extend(second.map(|d| place(d, 44)));
        let title = if leads {
            Some(match self.levels[first] {
                1 => "总经理",
                2 => "总监",
                _ => "经理",
            })
        } else {
            (mix(key, 45) % 100 < 85).then(|| pick(TITLES, mix(key, 46)))
        };
        let hired = mix(key, 48);
        MemberDetails {
            departments,
            title: title.map(str::to_owned),
            job_number: (mix(key, 47) % 100 < 92).then(|| format!("{key:08}")),
            hired_date: (hired % 100 < 88)
                .then(|| (HIRED_FROM_DAY + ((hired >> 8) % 7_300) as i64) * DAY_MS - 8 * 3_600_000),
            work_place: (mix(key, 49) % 100 < 60).then(|| pick(WORK_PLACES, mix(key, 50)).to_owned()),
            manager_userid: self.manager_of(key, first).map(userid_of),
            // A departed member left on one of the 730 days before LEFT_UNTIL_DAY, for one of the
            // reasons DingTalk records, resignations the most common.
            departure: (!slot.active).then(|| {
                let left = mix(key, 51);
                Departure {
                    left_at: Some(
                        (LEFT_UNTIL_DAY - (left % 730) as i64) * DAY_MS + ((left >> 16) % 86_400) as i64 * 1000,
                    ),
                    reason: match (left >> 40) % 10 {
                        0..=5 => LeaveReason::Leave,
                        6 | 7 => LeaveReason::Delete,
                        8 => LeaveReason::Oapi,
                        _ => LeaveReason::Cancel,
                    },
                }
            }),
            roles: generated_role(key).into_iter().collect(),
            ..MemberDetails::default()
        }
    }
}

/// The roles every generated corp defines, in the console's 职务 group.
const ROLE_NAMES: [&str; 6] = ["财务", "人事", "行政", "法务", "项目经理", "采购"];

/// The id of generated role `n` (0-based), in the 64-bit range real role ids sit in.
fn role_id(n: usize) -> i64 {
    4_000_000_001 + n as i64
}

/// Every corp's roles.
fn roles(corps: &[CorpId]) -> Vec<Role> {
    corps
        .iter()
        .flat_map(|c| {
            ROLE_NAMES.iter().enumerate().map(|(n, name)| Role {
                corp_id: c.clone(),
                id: role_id(n),
                name: (*name).to_owned(),
                group: "职务".to_owned(),
            })
        })
        .collect()
}

/// The role membership `key` holds: about one member in twenty holds one.
fn generated_role(key: u64) -> Option<i64> {
    let r = mix(key, 52);
    (r % 20 == 0).then(|| role_id(((r >> 8) % ROLE_NAMES.len() as u64) as usize))
}

/// Every corp's tree and its departments, sized by exact corp sizes, with leaders found, and
/// the sample corp's (corp 0's) direct active members per department.
fn trees(people: u64, corps: &[Corp]) -> (Vec<Tree>, Vec<Department>, Vec<u64>) {
    let n = corps.len() as u64;
    let mut sizes = vec![0u64; corps.len()];
    for i in 0..people {
        for s in slots(i, n) {
            sizes[s.corp] += 1;
        }
    }
    let mut trees = Vec::with_capacity(corps.len());
    let mut departments = Vec::new();
    for (c, corp) in corps.iter().enumerate() {
        let (tree, depts) = Tree::build(c as u64, &corp.id, &corp.name, sizes[c]);
        trees.push(tree);
        departments.extend(depts);
    }
    let mut sample = vec![0u64; trees[0].len()];
    for i in 0..people {
        for s in slots(i, n).filter(|s| s.active) {
            let tree = &mut trees[s.corp];
            let (first, second) = tree.departments_of(s.key());
            if tree.leaders[first] == NO_LEADER {
                tree.leaders[first] = s.key();
            }
            if s.corp == 0 {
                sample[first] += 1;
                if let Some(d) = second {
                    sample[d] += 1;
                }
            }
        }
    }
    (trees, departments, sample)
}

/// The largest department by direct active members, and the smallest with at least 250.
fn sample_departments(counts: &[u64]) -> (SampleDepartment, Option<SampleDepartment>) {
    let at = |d: usize| SampleDepartment {
        id: dept_id(d),
        members: counts[d],
    };
    let largest = (0..counts.len()).fold(0, |best, d| if counts[d] > counts[best] { d } else { best });
    let small = (0..counts.len())
        .filter(|&d| counts[d] >= 250)
        .min_by_key(|&d| (counts[d], d))
        .map(at);
    (at(largest), small)
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
            contact_ranges: Vec::new(),
            agent_id: dingdir_core::model::derived_agent_id(&AppKey(APP_KEY.to_owned())),
            bot_callback: None,
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
            contact_ranges: Vec::new(),
            agent_id: dingdir_core::model::derived_agent_id(&AppKey("dingbenchsuite".to_owned())),
            bot_callback: None,
        },
    ])
}

/// The import's progress bar on stderr: people handed to the store, a bar, the rate and the time
/// so far, redrawn at most ten times a second; then the index build, which has no steps to show.
struct Progress {
    people: u64,
    started: Instant,
    drawn: Option<Instant>,
}

impl Progress {
    const WIDTH: u64 = 30;

    fn new(people: u64, started: Instant) -> Self {
        Self {
            people,
            started,
            drawn: None,
        }
    }

    fn show(&mut self, written: u64) {
        let now = Instant::now();
        if self.drawn.is_some_and(|d| now.duration_since(d).as_millis() < 100) && written < self.people {
            return;
        }
        self.drawn = Some(now);
        let filled = (written * Self::WIDTH / self.people.max(1)) as usize;
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { written as f64 / secs } else { 0.0 };
        let mut stderr = std::io::stderr();
        let _ = write!(
            stderr,
            "\rgenerating [{}{}] {written}/{} people ({}%), {rate:.0}/s, {secs:.1} s ",
            "#".repeat(filled),
            "-".repeat(Self::WIDTH as usize - filled),
            self.people,
            written * 100 / self.people.max(1),
        );
        let _ = stderr.flush();
    }

    /// Every person is written: says what the store does before the import commits.
    fn finishing(&mut self) {
        self.drawn = None;
        self.show(self.people);
        let _ = write!(std::io::stderr(), "\n  numbering departments and building indexes…");
        let _ = std::io::stderr().flush();
    }

    fn done(&mut self) {
        let _ = writeln!(
            std::io::stderr(),
            " done, {:.1} s",
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// Writes the directory of `people` people into an empty store and returns a sample for callers.
pub(crate) async fn generate(store: &dyn Store, people: u64, corps: Option<u64>) -> anyhow::Result<Sample> {
    anyhow::ensure!(people >= 1, "--people must be at least 1");
    let corps_n = corps.unwrap_or((people / 5_000).clamp(1, 2_000)).max(1);
    let corp_list = corp_ids(corps_n);
    let started = Instant::now();
    let corps_rows: Vec<Corp> = corp_list
        .iter()
        .enumerate()
        .map(|(c, id)| Corp {
            id: id.clone(),
            name: format!("Generated Co {c}"),
        })
        .collect();
    let (trees, departments, counts) = trees(people, &corps_rows);
    let department_rows = departments.len();
    let first = Directory {
        corps: corps_rows,
        apps: apps(&corp_list)?,
        departments,
        roles: roles(&corp_list),
        ..Directory::default()
    };
    // The batches are made on a thread of their own while the store writes the one before, so
    // generating and writing share the machine's cores; at most two batches wait in between.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Directory>(2);
    let made = {
        let corp_list = corp_list.clone();
        std::thread::Builder::new()
            .name("generate".to_owned())
            .spawn(move || {
                // The first batch carries every corp, app and department, so each later member's
                // departments (and the corps of all) already exist when it is written.
                let mut dir = first;
                let mut start = 0u64;
                while start < people {
                    let end = (start + BATCH).min(people);
                    for i in start..end {
                        dir.people.push(normal(i, &corp_list, &trees));
                        dir.people.extend(exclusive(i, &corp_list, &trees));
                    }
                    if tx.send(std::mem::take(&mut dir)).is_err() {
                        break;
                    }
                    start = end;
                }
            })
            .context("starting the generator thread")?
    };
    let mut stderr = std::io::stderr();
    let mut written = 0u64;
    let mut accounts = 0u64;
    let mut member_rows = 0u64;
    let mut bar = Progress::new(people, started);
    let mut rx = rx.into_iter();
    let imported = {
        let mut batches = std::iter::from_fn(|| {
            // A batch taken means the one before it is written.
            bar.show(written);
            let Some(dir) = rx.next() else {
                bar.finishing();
                return None;
            };
            written = (written + BATCH).min(people);
            accounts += dir.people.len() as u64;
            member_rows += dir.people.iter().map(|(_, m)| m.len() as u64).sum::<u64>();
            Some(dir)
        });
        store.import(&mut batches).await
    };
    // A failed import leaves batches unread: the generator stops at its next send.
    drop(rx);
    let _ = made.join();
    imported.context("importing the directory (generate needs an empty store)")?;
    bar.done();
    let _ = writeln!(
        stderr,
        "generated {written} people ({accounts} accounts, {member_rows} memberships, {corps_n} corps, \
         {department_rows} departments) in {:.1} s",
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
    let (largest_department, small_department) = sample_departments(&counts);
    Ok(Sample {
        app_key: APP_KEY.to_owned(),
        app_secret: APP_SECRET.to_owned(),
        corp_id: corp0.0,
        members,
        largest_department,
        small_department,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

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

    fn corp(c: u64) -> CorpId {
        corp_id_for(&format!("generated corp {c}"))
    }

    /// Ids unique and from 2, parents earlier in the list, 2 to 6 levels, names not empty.
    fn check_tree(departments: &[Department]) -> usize {
        assert_eq!(departments[0].id, ROOT_DEPT);
        assert_eq!(departments[0].parent_id, None);
        let mut depth: HashMap<i64, usize> = HashMap::from([(ROOT_DEPT, 1)]);
        for d in &departments[1..] {
            assert!(d.id >= 2);
            let parent = d.parent_id.expect("only the root has no parent");
            let at = depth[&parent] + 1;
            assert!(depth.insert(d.id, at).is_none(), "duplicate id {}", d.id);
            assert!(!d.name.is_empty());
        }
        depth.values().copied().max().unwrap_or(1)
    }

    #[test]
    fn trees_scale_with_corp_size() {
        for (members, depts, levels) in [
            (0, 1..=1, 1..=1),
            (7, 2..=2, 2..=2),
            (45, 3..=5, 2..=2),
            (2_000, 40..=70, 4..=4),
            (40_000, 800..=1_400, 5..=5),
            (1_000_000, 10_000..=30_000, 6..=6),
        ] {
            let (tree, departments) = Tree::build(3, &corp(3), "Co", members);
            assert_eq!(tree.len(), departments.len());
            assert!(
                depts.contains(&departments.len()),
                "{members}: {} departments",
                departments.len()
            );
            let depth = check_tree(&departments);
            assert!(levels.contains(&depth), "{members}: depth {depth}");
            let total = *tree.cumulative.last().unwrap();
            assert!(
                total.abs_diff(members) <= departments.len() as u64,
                "{members}: {total}"
            );
            // Siblings have distinct names.
            let names: HashSet<_> = departments.iter().map(|d| (d.parent_id, d.name.as_str())).collect();
            assert_eq!(names.len(), departments.len());
        }
        let (tree, departments) = Tree::build(0, &corp(0), "Co", 1_000_000);
        let flats: Vec<_> = departments
            .iter()
            .filter(|d| FLATS.contains(&d.name.as_str()))
            .collect();
        assert!((2..=3).contains(&flats.len()), "{flats:?}");
        for f in flats {
            let i = (f.id - 1) as usize;
            let weight = tree.cumulative[i] - tree.cumulative[i - 1];
            assert!((95_000..105_000).contains(&weight), "{weight}");
        }
    }

    #[test]
    fn members_have_departments_leaders_and_managers() {
        let people = 30_000;
        let corps: Vec<Corp> = (0..6)
            .map(|c| Corp {
                id: corp(c),
                name: format!("Co {c}"),
            })
            .collect();
        let ids: Vec<CorpId> = corps.iter().map(|c| c.id.clone()).collect();
        let (trees, departments, counts) = trees(people, &corps);
        let known: HashSet<(&CorpId, i64)> = departments.iter().map(|d| (&d.corp_id, d.id)).collect();
        let mut members = Vec::new();
        for i in 0..people {
            members.extend(normal(i, &ids, &trees).1);
            members.extend(exclusive(i, &ids, &trees).into_iter().flat_map(|(_, ms)| ms));
        }
        let userids: HashSet<(&CorpId, &UserId)> = members
            .iter()
            .map(|m| (&m.membership.corp_id, &m.membership.userid))
            .collect();
        let (mut two, mut leaders, mut managed) = (0, 0, 0);
        let mut led: HashSet<(&CorpId, i64)> = HashSet::new();
        let mut jobs = HashSet::new();
        let mut direct = vec![0u64; counts.len()];
        let mut reasons = HashSet::new();
        for m in &members {
            let (corp, d) = (&m.membership.corp_id, &m.details);
            // Departed members, and only they, left at a time within the two years before the cut-off.
            let gone = m.membership.status == MemberStatus::Departed;
            assert_eq!(d.departure.is_some(), gone, "{m:?}");
            if let Some(dep) = d.departure {
                let at = dep.left_at.expect("a generated departure has a time");
                assert!(
                    ((LEFT_UNTIL_DAY - 730) * DAY_MS..(LEFT_UNTIL_DAY + 1) * DAY_MS).contains(&at),
                    "{at}"
                );
                reasons.insert(dep.reason);
            }
            assert!((1..=2).contains(&d.departments.len()));
            two += usize::from(d.departments.len() == 2);
            for p in &d.departments {
                assert!(known.contains(&(corp, p.dept_id)), "{p:?}");
                if p.leader {
                    leaders += 1;
                    assert!(led.insert((corp, p.dept_id)), "two leaders of {}", p.dept_id);
                    assert_eq!(m.membership.status, MemberStatus::Active);
                }
                if *corp == ids[0] && m.membership.status == MemberStatus::Active {
                    direct[(p.dept_id - 1) as usize] += 1;
                }
            }
            if let Some(u) = &d.manager_userid {
                managed += 1;
                assert_ne!(u, &m.membership.userid);
                assert!(userids.contains(&(corp, u)), "manager {u} is not in {corp}");
            }
            if let Some(j) = &d.job_number {
                assert!(jobs.insert((corp, j.clone())), "job number {j} twice in {corp}");
            }
        }
        assert_eq!(direct, counts);
        assert_eq!(reasons.len(), 4, "every generated leave reason occurs: {reasons:?}");
        let share = two as f64 / members.len() as f64;
        assert!((0.03..0.07).contains(&share), "{share}");
        assert!(
            leaders * 10 >= departments.len() * 8,
            "{leaders} of {}",
            departments.len()
        );
        assert!(managed * 10 >= members.len() * 9, "{managed}");
        let (largest, small) = sample_departments(&counts);
        assert_eq!(counts.iter().max(), Some(&largest.members));
        let small = small.expect("a department of 250 or more");
        assert!(small.members >= 250 && small.members <= largest.members);
    }
}
