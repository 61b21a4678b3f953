//! Every admin operation, one row each.

use super::{callbacks, faults, health, inspector, journal, limits, robots, seed, stream, tokens};
use dingdir_proto::admin::path;

/// Who may call an admin endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone: the health checks, so orchestrators need no secret.
    Open,
    /// Only a caller with `Authorization: Bearer <admin token>`, or, for a `GET`, a browser
    /// signed in to the inspector.
    AdminToken,
    /// The admin token, or the metrics token when one is set: a scraper needs no admin power.
    MetricsToken,
}

super::super::table::endpoint_table! {
    /// One admin operation.
    Facts = Access;
    /// `GET /_dingdir/health`: live and ready.
    Health = GET path::HEALTH => health::health, Access::Open;
    /// `GET /_dingdir/health/live`.
    HealthLive = GET path::HEALTH_LIVE => health::live, Access::Open;
    /// `GET /_dingdir/health/ready`.
    HealthReady = GET path::HEALTH_READY => health::ready, Access::Open;
    /// `POST /_dingdir/seed`: apply a YAML seed.
    ApplySeed = POST path::SEED => seed::apply, Access::AdminToken;
    /// `GET /_dingdir/export`: the directory as a YAML seed.
    Export = GET path::EXPORT => seed::export, Access::AdminToken;
    /// `POST /_dingdir/reset`: back to the startup seed (`dev` only).
    Reset = POST path::RESET => seed::reset, Access::AdminToken;
    /// `POST /_dingdir/tokens/user`: a user token for an (app, person) pair, without the browser.
    MintUserToken = POST path::USER_TOKENS => tokens::mint_user_token, Access::AdminToken;
    /// `POST /_dingdir/auth-codes`: an in-app sign-in code for a member.
    MintAuthCode = POST path::AUTH_CODES => tokens::mint_auth_code, Access::AdminToken;
    /// `POST /_dingdir/clock`: move the clock forward (test clock only).
    AdvanceClock = POST path::CLOCK => tokens::advance_clock, Access::AdminToken;
    /// `PUT /_dingdir/apps/{appKey}/suite-ticket`: set a suite's ticket.
    SetSuiteTicket = PUT path::SUITE_TICKET => tokens::set_suite_ticket, Access::AdminToken;
    /// `GET /_dingdir/metrics`: requests served and store reads made by this node.
    Metrics = GET path::METRICS => health::metrics, Access::AdminToken;
    /// `GET /_dingdir/metrics/prometheus`: every metric in the Prometheus text exposition.
    Prometheus = GET path::PROMETHEUS => health::prometheus, Access::MetricsToken;
    /// `GET /_dingdir/glance`: the directory at a glance (corps, apps, counts).
    Glance = GET path::GLANCE => inspector::glance, Access::AdminToken;
    /// `GET /_dingdir/inspector`: the inspector page, or its sign-in form.
    Inspector = GET path::INSPECTOR => inspector::page, Access::Open;
    /// `POST /_dingdir/inspector`: sign a browser in to the inspector with the admin token.
    InspectorSignIn = POST path::INSPECTOR => inspector::sign_in, Access::Open;
    /// `GET /_dingdir/inspector/app.js`: the inspector's script.
    InspectorScript = GET path::INSPECTOR_SCRIPT => inspector::script, Access::Open;
    /// `GET /_dingdir/inspector/app.css`: the inspector's styles.
    InspectorStyle = GET path::INSPECTOR_STYLE => inspector::style, Access::Open;
    /// `GET /_dingdir/faults`: the fault rules and their counters.
    ListFaults = GET path::FAULTS => faults::list, Access::AdminToken;
    /// `POST /_dingdir/faults`: arm a fault rule.
    AddFault = POST path::FAULTS => faults::add, Access::AdminToken;
    /// `DELETE /_dingdir/faults`: disarm every fault rule.
    ClearFaults = DELETE path::FAULTS => faults::clear, Access::AdminToken;
    /// `DELETE /_dingdir/faults/{id}`: disarm one fault rule.
    RemoveFault = DELETE path::FAULT => faults::remove, Access::AdminToken;
    /// `GET /_dingdir/journal`: journal entries that match the query's filters.
    ListJournal = GET path::JOURNAL => journal::list, Access::AdminToken;
    /// `GET /_dingdir/journal/count`: how many journal entries match.
    CountJournal = GET path::JOURNAL_COUNT => journal::count, Access::AdminToken;
    /// `GET /_dingdir/journal/follow`: matching entries as server-sent events.
    FollowJournal = GET path::JOURNAL_FOLLOW => journal::follow, Access::AdminToken;
    /// `DELETE /_dingdir/journal`: forget every journal entry.
    ClearJournal = DELETE path::JOURNAL => journal::clear, Access::AdminToken;
    /// `GET /_dingdir/rate-limits`: the rate limits in force.
    GetRateLimits = GET path::RATE_LIMITS => limits::get, Access::AdminToken;
    /// `PUT /_dingdir/rate-limits`: replace the rate limits of every node.
    SetRateLimits = PUT path::RATE_LIMITS => limits::put, Access::AdminToken;
    /// `DELETE /_dingdir/rate-limits`: lift every rate limit.
    ClearRateLimits = DELETE path::RATE_LIMITS => limits::clear, Access::AdminToken;
    /// `GET /_dingdir/callbacks`: callback registrations and their delivery state.
    ListCallbacks = GET path::CALLBACKS => callbacks::list, Access::AdminToken;
    /// `PUT /_dingdir/callbacks/{appKey}`: register an app's callback (after `check_url`).
    PutCallback = PUT path::CALLBACK => callbacks::put, Access::AdminToken;
    /// `DELETE /_dingdir/callbacks/{appKey}`: remove an app's callback.
    RemoveCallback = DELETE path::CALLBACK => callbacks::remove, Access::AdminToken;
    /// `GET /_dingdir/events`: the change log, with each entry's deliveries.
    ListEvents = GET path::EVENTS => callbacks::events, Access::AdminToken;
    /// `GET /_dingdir/stream/connections[?app_key=]`: this node's Stream connections.
    ListStreamConnections = GET path::STREAM_CONNECTIONS => stream::connections, Access::AdminToken;
    /// `POST /_dingdir/stream/connections/{id}/close`: closes one, with or without `disconnect`.
    CloseStreamConnection = POST path::STREAM_CLOSE_ONE => stream::close_one, Access::AdminToken;
    /// `POST /_dingdir/stream/connections/{id}/zombie`: keeps one open but dead.
    ZombieStreamConnection = POST path::STREAM_ZOMBIE => stream::zombie, Access::AdminToken;
    /// `POST /_dingdir/stream/close`: closes every connection here, or an app's.
    CloseStreamConnections = POST path::STREAM_CLOSE => stream::close_all, Access::AdminToken;
    /// `PUT /_dingdir/stream/acks/{appKey}`: drops or delays the app's acks on this node.
    SetAckFault = PUT path::STREAM_ACKS => stream::set_ack_fault, Access::AdminToken;
    /// `DELETE /_dingdir/stream/acks/{appKey}`: acks are read as they come again.
    ClearAckFault = DELETE path::STREAM_ACKS => stream::clear_ack_fault, Access::AdminToken;
    /// `GET /_dingdir/stream/attempts?app_key=`: an app's Stream cursor and pushes.
    StreamAttempts = GET path::STREAM_ATTEMPTS => stream::attempts, Access::AdminToken;
    /// `GET /_dingdir/robots`: the custom group robots.
    ListRobots = GET path::ROBOTS => robots::list, Access::AdminToken;
    /// `PUT /_dingdir/robots/{token}`: adds or replaces a custom group robot.
    PutRobot = PUT path::ROBOT => robots::put, Access::AdminToken;
    /// `DELETE /_dingdir/robots/{token}`: removes one.
    RemoveRobot = DELETE path::ROBOT => robots::remove, Access::AdminToken;
    /// `GET /_dingdir/inbox?conversation=&sender_id=&person=&task=&after=&limit=&wait_ms=`: the
    /// messages taken; with `wait_ms`, waits for the next one.
    ListInbox = GET path::INBOX => robots::inbox, Access::AdminToken;
    /// `POST /_dingdir/chat`: a person writes to a bot; it gets the message over Stream mode.
    ChatSay = POST path::CHAT => robots::chat, Access::AdminToken;
    /// `POST /_dingdir/inbox/read`: a person reads what they were sent.
    InboxRead = POST path::INBOX_READ => robots::read, Access::AdminToken;
    /// `GET /_dingdir/groups`: the group chats.
    ListGroups = GET path::GROUPS => robots::groups, Access::AdminToken;
    /// `PUT /_dingdir/groups`: adds or replaces a group chat.
    PutGroup = PUT path::GROUPS => robots::put_group, Access::AdminToken;
    /// `GET /_dingdir/media/{mediaId}`: an uploaded file (messageFiles/download's URL).
    MediaFile = GET path::MEDIA => robots::media, Access::Open;
}
