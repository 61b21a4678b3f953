//! The domain's rules, tested in the domain: GetUser's visibility and fields, getbymobile's
//! gate and matching. The store is a test double of the directory alone, which the split port
//! allows: these rules read no tokens and no sign-in state.

mod by_mobile;
mod get_user;
mod seed;

use crate::StoreError;
use crate::clock::{Millis, MovableClock};
use crate::ident::IdSecret;
use crate::mobile::Mobile;
use crate::model::{App, Corp, Department, Directory, Member, MemberStatus, Membership, Person, PersonId, Role};
use crate::service::{Caller, Policy, Service};
use crate::store::{DirectoryStore, SignInStore, Store, TokenStore};
use crate::token::{CodeRecord, RefreshRecord, StoredAppToken, TokenKind, TokenRecord};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub(crate) const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";
pub(crate) const OTHER_CORP: &str = "ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01";

/// A directory in memory: what a seed apply writes, read back by scanning.
#[derive(Default)]
struct MemoryDirectory {
    corps: Mutex<BTreeMap<String, Corp>>,
    departments: Mutex<BTreeMap<(String, i64), Department>>,
    roles: Mutex<BTreeMap<(String, i64), Role>>,
    apps: Mutex<BTreeMap<String, App>>,
    people: Mutex<BTreeMap<String, (Person, Vec<Member>)>>,
    /// How many times `number_members` ran.
    numbered: std::sync::atomic::AtomicUsize,
}

impl MemoryDirectory {
    fn members(&self) -> Vec<(Person, Vec<Member>)> {
        self.people.lock().unwrap().values().cloned().collect()
    }

    /// The active members of `corp` with their people.
    fn active_in(&self, corp: &CorpId) -> impl Iterator<Item = (Member, Person)> {
        let corp = corp.clone();
        self.members()
            .into_iter()
            .flat_map(|(p, ms)| ms.into_iter().map(move |m| (m, p.clone())))
            .filter(move |(m, _)| m.membership.corp_id == corp && m.membership.status == MemberStatus::Active)
    }

    /// A department's active members in its custom order.
    fn in_department(&self, corp: &CorpId, dept: i64) -> Vec<(Member, Person)> {
        let mut found: Vec<(i64, Member, Person)> = (self.active_in(corp))
            .filter_map(|(m, p)| {
                let order = m.details.departments.iter().find(|d| d.dept_id == dept)?.order;
                Some((order, m, p))
            })
            .collect();
        found.sort_by(|a, b| (a.0, &a.1.membership.userid).cmp(&(b.0, &b.1.membership.userid)));
        found.into_iter().map(|(_, m, p)| (m, p)).collect()
    }

    fn people(&self) -> Vec<(Person, Vec<Membership>)> {
        self.members()
            .into_iter()
            .map(|(p, ms)| (p, ms.into_iter().map(|m| m.membership).collect()))
            .collect()
    }
}

#[async_trait::async_trait]
impl DirectoryStore for MemoryDirectory {
    async fn apply(&self, w: &crate::change::Write) -> Result<(), StoreError> {
        let d = &w.directory;
        for (corp, id) in &w.removed_departments {
            self.departments.lock().unwrap().remove(&(corp.0.clone(), *id));
        }
        let mut departments = self.departments.lock().unwrap();
        for x in &w.new_departments {
            departments.insert((x.corp_id.0.clone(), x.id), x.clone());
        }
        drop(departments);
        let mut corps = self.corps.lock().unwrap();
        for c in &d.corps {
            corps.insert(c.id.0.clone(), c.clone());
        }
        let mut departments = self.departments.lock().unwrap();
        for x in &d.departments {
            departments.insert((x.corp_id.0.clone(), x.id), x.clone());
        }
        let mut roles = self.roles.lock().unwrap();
        for r in &d.roles {
            roles.insert((r.corp_id.0.clone(), r.id), r.clone());
        }
        let mut apps = self.apps.lock().unwrap();
        for a in &d.apps {
            apps.insert(a.key.0.clone(), a.clone());
        }
        let mut people = self.people.lock().unwrap();
        for (p, ms) in &d.people {
            people.insert(p.id.0.clone(), (p.clone(), ms.clone()));
        }
        Ok(())
    }
    async fn insert_directory(&self, d: &Directory) -> Result<(), StoreError> {
        self.apply(&crate::change::Write {
            directory: d.clone(),
            ..Default::default()
        })
        .await
    }
    async fn changes(&self, _: &crate::change::ChangeQuery) -> Result<Vec<crate::change::Change>, StoreError> {
        Ok(Vec::new())
    }
    async fn directory(&self) -> Result<Directory, StoreError> {
        Ok(Directory {
            corps: self.corps.lock().unwrap().values().cloned().collect(),
            departments: self.departments.lock().unwrap().values().cloned().collect(),
            roles: self.roles.lock().unwrap().values().cloned().collect(),
            apps: self.apps.lock().unwrap().values().cloned().collect(),
            people: self.members(),
            callbacks: Vec::new(),
        })
    }
    async fn reset(&self) -> Result<(), StoreError> {
        self.corps.lock().unwrap().clear();
        self.apps.lock().unwrap().clear();
        self.people.lock().unwrap().clear();
        self.departments.lock().unwrap().clear();
        self.roles.lock().unwrap().clear();
        Ok(())
    }
    async fn roles(&self, corp: &CorpId) -> Result<Vec<Role>, StoreError> {
        let roles = self.roles.lock().unwrap();
        Ok(roles.values().filter(|r| &r.corp_id == corp).cloned().collect())
    }
    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        Ok(self.corps.lock().unwrap().get(&id.0).cloned())
    }
    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        Ok(self.apps.lock().unwrap().get(&key.0).cloned())
    }
    async fn set_suite_ticket(&self, _: &AppKey, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        Ok(self.people.lock().unwrap().get(&id.0).map(|(p, _)| p.clone()))
    }
    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        Ok(self.people().into_iter().map(|(p, _)| p).find(|p| p.number == number))
    }
    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        Ok(self
            .people()
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| p.exclusive_of.is_none() && p.mobile.as_ref() == Some(mobile)))
    }
    async fn person_by_login_id(&self, owner: &CorpId, login_id: &str) -> Result<Option<Person>, StoreError> {
        Ok(self
            .people()
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| p.exclusive_of.as_ref() == Some(owner) && p.login_id.as_deref() == Some(login_id)))
    }
    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        Ok(self
            .people()
            .into_iter()
            .flat_map(|(_, ms)| ms)
            .find(|m| &m.corp_id == corp && &m.userid == userid))
    }
    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        Ok(self
            .people
            .lock()
            .unwrap()
            .get(&person.0)
            .map(|(_, ms)| ms.iter().map(|m| m.membership.clone()).collect())
            .unwrap_or_default())
    }
    async fn member(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Member>, StoreError> {
        Ok(self
            .members()
            .into_iter()
            .flat_map(|(_, ms)| ms)
            .find(|m| &m.membership.corp_id == corp && &m.membership.userid == userid))
    }
    async fn department(&self, corp: &CorpId, id: i64) -> Result<Option<Department>, StoreError> {
        Ok(self.departments.lock().unwrap().get(&(corp.0.clone(), id)).cloned())
    }
    async fn sub_departments(&self, corp: &CorpId, parent: i64) -> Result<Vec<Department>, StoreError> {
        let mut found: Vec<Department> = (self.departments.lock().unwrap().values())
            .filter(|d| &d.corp_id == corp && d.parent_id == Some(parent))
            .cloned()
            .collect();
        found.sort_by_key(|d| (d.order, d.id));
        Ok(found)
    }
    async fn departures(
        &self,
        _corp: &CorpId,
        _from: i64,
        _to: i64,
        _after: Option<(i64, &UserId)>,
        _limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError> {
        unimplemented!("the core tests read no departures")
    }
    async fn last_department_id(&self, corp: &CorpId) -> Result<Option<i64>, StoreError> {
        Ok((self.departments.lock().unwrap().values())
            .filter(|d| &d.corp_id == corp)
            .map(|d| d.id)
            .max())
    }

    async fn departments(&self, corp: &CorpId) -> Result<Vec<Department>, StoreError> {
        let mut found: Vec<Department> = (self.departments.lock().unwrap().values())
            .filter(|d| &d.corp_id == corp)
            .cloned()
            .collect();
        found.sort_by_key(|d| (d.order, d.id));
        Ok(found)
    }
    async fn department_members(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError> {
        Ok(self
            .in_department(corp, dept)
            .into_iter()
            .map(|(m, _)| m.membership.userid)
            .collect())
    }
    async fn department_leaders(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError> {
        let mut found: Vec<UserId> = (self.in_department(corp, dept).into_iter())
            .filter(|(m, _)| m.details.departments.iter().any(|d| d.dept_id == dept && d.leader))
            .map(|(m, _)| m.membership.userid)
            .collect();
        found.sort();
        Ok(found)
    }
    async fn department_page(
        &self,
        corp: &CorpId,
        dept: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError> {
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self
            .in_department(corp, dept)
            .into_iter()
            .skip(skip)
            .take(take)
            .collect())
    }
    async fn member_count(&self, corp: &CorpId) -> Result<u64, StoreError> {
        Ok(self.active_in(corp).count() as u64)
    }
    async fn admins(&self, corp: &CorpId) -> Result<Vec<(UserId, bool)>, StoreError> {
        let mut found: Vec<(UserId, bool)> = (self.active_in(corp))
            .filter(|(m, _)| m.details.admin || m.details.main_admin)
            .map(|(m, _)| (m.membership.userid, m.details.main_admin))
            .collect();
        found.sort();
        Ok(found)
    }
    async fn number_members(&self) -> Result<(), StoreError> {
        self.numbered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        let mut found: Vec<_> = self
            .people()
            .into_iter()
            .filter(|(p, _)| p.mobile.as_ref() == Some(mobile))
            .flat_map(|(p, ms)| {
                ms.into_iter()
                    .filter(|m| &m.corp_id == corp)
                    .map(move |m| (m, p.clone()))
            })
            .collect();
        found.sort_by(|a, b| a.0.userid.cmp(&b.0.userid));
        Ok(found)
    }
}

fn not_here<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable(
        "this test's store holds a directory only".to_owned(),
    ))
}

// The rest of a store, for a double that holds a directory only: every token and sign-in call
// fails, so a rule that reaches for them shows up as a failing test.

#[async_trait::async_trait]
impl TokenStore for MemoryDirectory {
    async fn issue_app_token(
        &self,
        _: &AppKey,
        _: Option<&CorpId>,
        _: &StoredAppToken,
        _: Millis,
        _: Millis,
        _: Option<&str>,
    ) -> Result<StoredAppToken, StoreError> {
        not_here()
    }
    async fn insert_token(&self, _: &TokenRecord) -> Result<(), StoreError> {
        not_here()
    }
    async fn token(&self, _: &str) -> Result<Option<TokenRecord>, StoreError> {
        not_here()
    }
    async fn insert_code(&self, _: &CodeRecord) -> Result<(), StoreError> {
        not_here()
    }
    async fn redeem_code(&self, _: &str, _: &AppKey, _: Millis) -> Result<Option<CodeRecord>, StoreError> {
        not_here()
    }
    async fn insert_refresh(&self, _: &RefreshRecord) -> Result<(), StoreError> {
        not_here()
    }
    async fn redeem_refresh(&self, _: &str, _: &AppKey, _: Millis) -> Result<Option<RefreshRecord>, StoreError> {
        not_here()
    }
}

#[async_trait::async_trait]
impl SignInStore for MemoryDirectory {
    async fn insert_ticket(&self, _: &str, _: Millis) -> Result<(), StoreError> {
        not_here()
    }
    async fn redeem_ticket(&self, _: &str, _: Millis) -> Result<bool, StoreError> {
        not_here()
    }
}

/// The rate-limit tests of core run against the SQL store (`crates/store`); this double keeps
/// nothing.
#[async_trait::async_trait]
impl crate::LimitStore for MemoryDirectory {
    async fn rate_limits(&self) -> Result<Vec<dingdir_proto::admin::RateLimit>, StoreError> {
        Ok(Vec::new())
    }
    async fn set_rate_limits(&self, _: &[dingdir_proto::admin::RateLimit]) -> Result<(), StoreError> {
        not_here()
    }
    async fn hit_window(&self, _: &str, _: Millis) -> Result<u64, StoreError> {
        not_here()
    }
    async fn hit_windows(&self, _: &[(String, u64)], _: Millis) -> Result<Vec<u64>, StoreError> {
        not_here()
    }
}

/// The callback and Stream tests run against the SQL store; this double has no registrations.
#[async_trait::async_trait]
impl crate::CallbackStore for MemoryDirectory {
    async fn callbacks(&self) -> Result<Vec<crate::callback::CallbackState>, StoreError> {
        Ok(Vec::new())
    }
    async fn remove_callback(&self, _: &AppKey) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn lease_callback(
        &self,
        _: &AppKey,
        _: &str,
        _: Millis,
        _: Millis,
    ) -> Result<Option<crate::callback::CallbackState>, StoreError> {
        Ok(None)
    }
    async fn record_attempts(&self, _: &[crate::callback::Attempt], _: Millis) -> Result<bool, StoreError> {
        not_here()
    }
    async fn attempts(&self, _: i64, _: i64) -> Result<Vec<crate::callback::Attempt>, StoreError> {
        Ok(Vec::new())
    }
    async fn open_stream_cursor(&self, _: &AppKey) -> Result<crate::stream::StreamCursor, StoreError> {
        not_here()
    }
    async fn stream_cursors(&self) -> Result<Vec<crate::stream::StreamCursor>, StoreError> {
        Ok(Vec::new())
    }
    async fn lease_stream(
        &self,
        _: &AppKey,
        _: &str,
        _: Millis,
        _: Millis,
    ) -> Result<Option<crate::stream::StreamCursor>, StoreError> {
        Ok(None)
    }
    async fn record_stream_attempts(&self, _: &[crate::callback::Attempt], _: Millis) -> Result<bool, StoreError> {
        not_here()
    }
    async fn stream_attempts(&self, _: &AppKey, _: i64, _: u64) -> Result<Vec<crate::callback::Attempt>, StoreError> {
        Ok(Vec::new())
    }
}

/// The robot tests run against the SQL store; this double has none.
#[async_trait::async_trait]
impl crate::store::MessageStore for MemoryDirectory {
    async fn put_robot(&self, _: &crate::robot::WebhookRobot) -> Result<(), StoreError> {
        not_here()
    }
    async fn robot(&self, _: &str) -> Result<Option<crate::robot::WebhookRobot>, StoreError> {
        Ok(None)
    }
    async fn robots(&self) -> Result<Vec<crate::robot::WebhookRobot>, StoreError> {
        Ok(Vec::new())
    }
    async fn remove_robot(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn block_robot(&self, _: &str, _: Millis) -> Result<(), StoreError> {
        not_here()
    }
    async fn append_message(&self, _: &crate::robot::InboxEntry, _: u64) -> Result<i64, StoreError> {
        not_here()
    }
    async fn messages(&self, _: &crate::robot::InboxQuery) -> Result<Vec<crate::robot::InboxEntry>, StoreError> {
        Ok(Vec::new())
    }
    async fn put_session(&self, _: &crate::robot::ChatSession) -> Result<(), StoreError> {
        not_here()
    }
    async fn session(&self, _: &str) -> Result<Option<crate::robot::ChatSession>, StoreError> {
        Ok(None)
    }
    async fn append_messages(&self, _: &[crate::robot::InboxEntry], _: u64) -> Result<Vec<i64>, StoreError> {
        not_here()
    }
    async fn put_group(&self, _: &crate::group::Group) -> Result<(), StoreError> {
        not_here()
    }
    async fn group(&self, _: &CorpId, _: &str) -> Result<Option<crate::group::Group>, StoreError> {
        Ok(None)
    }
    async fn group_by_conversation(&self, _: &str) -> Result<Option<crate::group::Group>, StoreError> {
        Ok(None)
    }
    async fn groups(&self) -> Result<Vec<crate::group::Group>, StoreError> {
        Ok(Vec::new())
    }
    async fn put_notice(
        &self,
        _: &crate::message::Notice,
        _: &[crate::robot::InboxEntry],
        _: u64,
    ) -> Result<i64, StoreError> {
        not_here()
    }
    async fn notice(&self, _: i64) -> Result<Option<crate::message::Notice>, StoreError> {
        Ok(None)
    }
    async fn recall(&self, _: &str, _: Millis) -> Result<u64, StoreError> {
        not_here()
    }
    async fn mark_read(&self, _: &UserId, _: i64, _: Millis) -> Result<u64, StoreError> {
        not_here()
    }
    async fn put_media(&self, _: &crate::message::Media, _: u64) -> Result<(), StoreError> {
        not_here()
    }
    async fn media(&self, _: &str) -> Result<Option<crate::message::Media>, StoreError> {
        Ok(None)
    }
}

#[async_trait::async_trait]
impl Store for MemoryDirectory {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn close(&self) {}
    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        Ok(proposed.clone())
    }
    async fn purge_expired(&self, _: Millis) -> Result<u64, StoreError> {
        not_here()
    }
}

/// The demo directory behind a service with `policy`.
pub(crate) async fn demo(policy: Policy) -> Service {
    demo_with_store(policy).await.0
}

/// [`demo`], with the store behind it.
async fn demo_with_store(policy: Policy) -> (Service, Arc<MemoryDirectory>) {
    let store = Arc::new(MemoryDirectory::default());
    let demo = include_str!("../../../../examples/demo.yaml");
    crate::seed::apply_text(store.as_ref(), "demo.yaml", demo)
        .await
        .unwrap();
    let service = Service::new(
        store.clone(),
        Arc::new(MovableClock::new()),
        IdSecret::from_passphrase("core tests"),
        policy,
    );
    (service, store)
}

/// `keep_numbered` numbers once when it starts, once per burst of writes, not again within the
/// poll interval while nothing is written, and on the poll. Bounded waits on the real clock.
#[tokio::test]
async fn keep_numbered_numbers_on_start_and_once_per_burst_of_writes() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::{Duration, Instant};
    let (service, store) = demo_with_store(Policy::default()).await;
    let service = Arc::new(service);
    let numbering = tokio::spawn({
        let service = service.clone();
        async move { service.keep_numbered().await }
    });
    let reaches = |n: usize| {
        let store = store.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            while store.numbered.load(SeqCst) < n && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            store.numbered.load(SeqCst)
        }
    };
    assert_eq!(reaches(1).await, 1, "numbered on start");
    for _ in 0..3 {
        service.invalidate();
    }
    assert_eq!(reaches(2).await, 2, "numbered after the burst");
    tokio::time::sleep(crate::service::NUMBERING_DELAY * 3).await;
    assert_eq!(
        store.numbered.load(SeqCst),
        2,
        "one numbering for three writes, none without writes"
    );
    service.invalidate();
    assert_eq!(reaches(3).await, 3, "numbered after the next write");
    let deadline = std::time::Instant::now() + crate::service::NUMBERING_POLL * 2;
    while store.numbered.load(SeqCst) < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.numbered.load(SeqCst), 4, "numbered on the poll, with no write");
    numbering.abort();
}

/// A caller holding a token of `kind` for `app`, acting for `person` (user tokens) in `corp`.
pub(crate) async fn caller(
    service: &Service,
    kind: TokenKind,
    app: &str,
    person: Option<&str>,
    corp: Option<&str>,
) -> Caller {
    Caller {
        kind,
        app: service.app(&AppKey(app.to_owned())).await.unwrap().unwrap(),
        corp_id: corp.map(|c| CorpId(c.to_owned())),
        person_id: person.map(|p| PersonId(p.to_owned())),
    }
}
