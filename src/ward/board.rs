//! The ward's state: what each bed last said, taken in one message at a time, and read as the
//! tiles show it ([`Board::beds`]) or as the `--once --json` snapshot ([`Board::snapshot`]).
//!
//! No I/O and no MQTT: the subscriber hands each message over as a [`WardInput`] (its topic,
//! payload, when it arrived on the ward's monotonic clock and on its wall clock). Ages follow
//! [`super::message`]: the bedside's `data_age_s` plus how long ago the status reached the ward,
//! on the ward's own monotonic clock, so a bedside whose clock is wrong still shows the right
//! age. A bad message is counted and its reason kept; it never touches another bed.
//!
//! Memory stays flat: at most [`MAX_BEDS`] beds, [`ALARM_LOG_LEN`] alarm events per bed and
//! [`TREND_POINTS`] trend points per bed; everything else is replaced, not appended.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;

use super::message::{
    AlarmMessage, BedAlarm, BedStatus, MessageError, TREND_POINTS, Trend, TrendPoint, read,
};
use super::topic::{self, Bed, Kind};
use crate::alarms::stale::is_fresh;
use crate::model::{MachineState, Priority};
use crate::present::text::clock_hm;

/// The most beds a ward keeps; a message for one more is refused (a broker full of junk topics
/// cannot grow the ward without bound).
pub const MAX_BEDS: usize = 64;

/// The alarm events kept per bed (the newest).
pub const ALARM_LOG_LEN: usize = 32;

/// The bedside's MQTT keepalive by default (issue 17: 5 s).
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(5);

/// A bed that says it is online but has sent no status for this many keepalives is shown as
/// "no status for …", not as current.
pub const NO_STATUS_KEEPALIVES: u32 = 3;

/// What the subscriber hands the ward: one message, or news of the broker connection.
#[derive(Debug, Clone)]
pub enum WardInput {
    Message {
        topic: String,
        payload: Vec<u8>,
        /// When it reached the ward, on the ward's monotonic clock (ages are measured on it).
        received: Instant,
        /// When it reached the ward, on the wall clock (for "offline since hh:mm").
        wall: Timestamp,
        /// Kept by the broker and delivered on subscribing (MQTT's retain flag), not sent
        /// just now: its age runs from when the bedside published it.
        retained: bool,
    },
    Connection(BrokerState),
}

/// The ward's connection to the broker, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerState {
    Connecting,
    Connected,
    /// The connection failed or was refused; the message says why (wrong password, TLS, …).
    Failed(String),
}

impl BrokerState {
    /// How the header writes it.
    pub fn text(&self) -> String {
        match self {
            BrokerState::Connecting => "connecting to the broker…".to_owned(),
            BrokerState::Connected => "broker connected".to_owned(),
            BrokerState::Failed(why) => format!("broker connection failed: {why}"),
        }
    }
}

/// Why a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("topic {0:?} is not a ward topic")]
    Topic(String),
    #[error("bed {bed}: {source}")]
    Message {
        bed: Bed,
        #[source]
        source: MessageError,
    },
    #[error("bed {bed}: the online flag must be true or false, not {payload:?}")]
    Online { bed: Bed, payload: String },
    #[error("bed {0}: the ward already shows {MAX_BEDS} beds")]
    TooManyBeds(Bed),
}

/// A message read, before it is taken in.
enum Parsed {
    Status(BedStatus),
    Online(bool),
    Alarm(AlarmMessage),
    Trend(Trend),
}

/// What the ward knows of one bed.
#[derive(Debug, Clone)]
struct BedEntry {
    /// The last status and when it was heard.
    status: Option<(BedStatus, Heard)>,
    /// The retained online flag; `None` before it came.
    online: Option<bool>,
    /// Wall time the `false` flag arrived (the bed was last heard before it: see
    /// [`BedEntry::offline_since`]).
    offline_since: Option<Timestamp>,
    /// When the ward first heard of the bed, or when it came back online (monotonic): the
    /// "no status" clock starts here when no status has come since.
    since: Instant,
    alarm_log: VecDeque<(AlarmMessage, Instant)>,
    trend: Vec<TrendPoint>,
}

/// When a status was heard.
#[derive(Debug, Clone, Copy)]
struct Heard {
    /// When it reached the ward (monotonic).
    received: Instant,
    /// How long it had been kept by the broker before that: zero for a status sent live;
    /// for a retained one, from the bedside's publishing time (its clock) to the ward's.
    stored_for: Duration,
    /// When the bedside sent it, on the ward's wall clock.
    sent_wall: Timestamp,
}

impl BedEntry {
    /// Since when the bed has been offline, if it is: when it was last heard from, its last
    /// status if that came since it was last online (so a bed whose retained `false` met a
    /// ward started later says when it went quiet, not when the ward started), else when the
    /// `false` flag came.
    fn offline_since(&self) -> Option<Timestamp> {
        let flagged = self.offline_since.filter(|_| self.online == Some(false))?;
        let heard = self
            .status
            .as_ref()
            .filter(|(_, heard)| heard.received >= self.since)
            .map(|(_, heard)| heard.sent_wall);
        Some(heard.map_or(flagged, |heard| heard.min(flagged)))
    }

    fn new(at: Instant) -> BedEntry {
        BedEntry {
            status: None,
            online: None,
            offline_since: None,
            since: at,
            alarm_log: VecDeque::with_capacity(ALARM_LOG_LEN),
            trend: Vec::new(),
        }
    }
}

/// The worst active alarm of a bed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorstAlarm {
    pub priority: Priority,
    pub code: String,
    pub text: String,
    pub acknowledged: bool,
}

/// One bed as a tile shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BedView {
    pub bed: Bed,
    /// False once the bedside's `online` flag is `false` (its last will, or a clean stop).
    pub online: bool,
    /// Local `hh:mm` the bed went offline (as the ward heard it).
    pub offline_since: Option<String>,
    pub offline_since_utc: Option<Timestamp>,
    /// The machine's state as sent (`RUN`, …) and parsed, if it is one the monitor knows.
    pub state: Option<String>,
    pub machine_state: Option<MachineState>,
    pub progress: Option<f64>,
    pub wb_processed_ml: Option<f64>,
    pub target_wb_ml: Option<f64>,
    pub tbv_processed: Option<f64>,
    /// Local `hh:mm` of the projected end.
    pub projected_end: Option<String>,
    pub citrate_ml_min_l: Option<f64>,
    /// The worst active alarm; `None` for an offline bed (its alarms are not known).
    pub worst_alarm: Option<WorstAlarm>,
    /// How many alarms are active (the worst one included).
    pub alarm_count: usize,
    /// How old the bed's data is now: the bedside's age plus the time since the status
    /// arrived. `None` before the first sample.
    pub age_s: Option<f64>,
    /// The data is stale ([`crate::alarms::STALE_AFTER_S`]), or its age is not known.
    pub stale: bool,
    /// Online, but no status for [`NO_STATUS_KEEPALIVES`] keepalives: seconds since the last
    /// status (or since the bed was first heard of, when none came).
    pub no_status_s: Option<f64>,
    /// The bedside's serial link (`up`, `silent`, `down`, `closed`).
    pub link: Option<String>,
    /// Whether a trend has arrived.
    pub has_trend: bool,
}

impl BedView {
    /// Where the tile goes, higher first: HIGH, MEDIUM, then a bed gone dark in the middle
    /// of its procedure, LOW, INFO, none. Dark is offline, or online with no status for
    /// [`NO_STATUS_KEEPALIVES`] keepalives, while its last state was PRIME, RUN, PAUSE or
    /// RINSEBACK: nobody can see that patient's run, as the bedside's own link-lost alarm
    /// (MEDIUM) says at the bed. A bedside closed after its END, or before it started, is
    /// routine and ranks with the quiet beds.
    pub fn rank(&self) -> u8 {
        match self.worst_alarm.as_ref().map(|a| a.priority) {
            Some(Priority::High) => 5,
            Some(Priority::Medium) => 4,
            _ if self.dark_mid_procedure() => 3,
            Some(Priority::Low) => 2,
            Some(Priority::Info) => 1,
            None => 0,
        }
    }

    /// Offline, or online with no status for [`NO_STATUS_KEEPALIVES`] keepalives, while its
    /// last state was PRIME, RUN, PAUSE or RINSEBACK.
    pub fn dark_mid_procedure(&self) -> bool {
        (!self.online || self.no_status_s.is_some())
            && matches!(
                self.machine_state,
                Some(
                    MachineState::Prime
                        | MachineState::Run
                        | MachineState::Pause
                        | MachineState::Rinseback
                )
            )
    }
}

/// The `--once --json` snapshot: `{"beds": [...]}` in tile order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WardSnapshot {
    pub beds: Vec<BedSnapshot>,
}

/// One bed of the snapshot. The fields (`bed`, `online`, `state`, `wb_processed_ml`,
/// `tbv_processed`, `alarms`, `age_s`) and three more: `stale`, `offline_since_utc` and
/// `no_status_s`. `alarms` are those of the bed's last status; for an offline bed that is what
/// it last said, not what is active now (the order does not count them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BedSnapshot {
    pub bed: Bed,
    pub online: bool,
    pub state: Option<String>,
    pub wb_processed_ml: Option<f64>,
    pub tbv_processed: Option<f64>,
    pub alarms: Vec<BedAlarm>,
    pub age_s: Option<f64>,
    pub stale: bool,
    /// RFC 3339, UTC.
    pub offline_since_utc: Option<String>,
    pub no_status_s: Option<f64>,
}

/// The ward's state.
#[derive(Debug, Clone)]
pub struct Board {
    beds: BTreeMap<Bed, BedEntry>,
    keepalive: Duration,
    refused: u64,
    last_refusal: Option<String>,
    applied: u64,
}

impl Default for Board {
    fn default() -> Board {
        Board::new(DEFAULT_KEEPALIVE)
    }
}

/// A priority as the messages write it; an unknown word is shown as HIGH (an alarm the ward
/// cannot rank is never ranked below one it can).
pub fn priority_of(word: &str) -> Priority {
    match word {
        "MEDIUM" => Priority::Medium,
        "LOW" => Priority::Low,
        "INFO" => Priority::Info,
        _ => Priority::High,
    }
}

impl Board {
    /// A board for bedsides with MQTT keepalive `keepalive`.
    pub fn new(keepalive: Duration) -> Board {
        Board {
            beds: BTreeMap::new(),
            keepalive,
            refused: 0,
            last_refusal: None,
            applied: 0,
        }
    }

    /// Takes one message in. A refused message is counted ([`Board::refused`]) and its reason
    /// kept ([`Board::last_refusal`]); nothing else changes.
    pub fn apply(
        &mut self,
        topic: &str,
        payload: &[u8],
        received: Instant,
        wall: Timestamp,
    ) -> Result<(), Refusal> {
        self.apply_as(topic, payload, received, wall, false)
    }

    /// [`Board::apply`], for a message `retained` by the broker (see [`WardInput::Message`]).
    pub fn apply_as(
        &mut self,
        topic: &str,
        payload: &[u8],
        received: Instant,
        wall: Timestamp,
        retained: bool,
    ) -> Result<(), Refusal> {
        let result = self.take(topic, payload, received, wall, retained);
        match &result {
            Ok(()) => self.applied += 1,
            Err(refusal) => {
                self.refused += 1;
                self.last_refusal = Some(refusal.to_string());
            }
        }
        result
    }

    fn take(
        &mut self,
        topic: &str,
        payload: &[u8],
        received: Instant,
        wall: Timestamp,
        retained: bool,
    ) -> Result<(), Refusal> {
        let (bed, kind) = topic::parse(topic).ok_or_else(|| Refusal::Topic(topic.to_owned()))?;
        // Read the message before making room for the bed: a bad one leaves no empty bed.
        let message = |e| Refusal::Message {
            bed: bed.clone(),
            source: e,
        };
        let parsed = match kind {
            Kind::Status => Parsed::Status(read(&bed, payload).map_err(message)?),
            Kind::Alarm => Parsed::Alarm(read(&bed, payload).map_err(message)?),
            Kind::Trend => Parsed::Trend(read(&bed, payload).map_err(message)?),
            Kind::Online => match std::str::from_utf8(payload).map(str::trim) {
                Ok("true") => Parsed::Online(true),
                Ok("false") => Parsed::Online(false),
                _ => {
                    return Err(Refusal::Online {
                        bed,
                        payload: String::from_utf8_lossy(&payload[..payload.len().min(40)])
                            .into_owned(),
                    });
                }
            },
        };
        if !self.beds.contains_key(&bed) && self.beds.len() >= MAX_BEDS {
            return Err(Refusal::TooManyBeds(bed));
        }
        let entry = self
            .beds
            .entry(bed)
            .or_insert_with(|| BedEntry::new(received));
        match parsed {
            Parsed::Status(status) => {
                // A retained status is as old as the bedside says (never younger than now).
                let stored_for = status
                    .published_utc
                    .parse::<Timestamp>()
                    .ok()
                    .filter(|_| retained)
                    .and_then(|sent| wall.duration_since(sent).try_into().ok())
                    .unwrap_or_default();
                let sent_wall = wall.checked_sub(stored_for).unwrap_or(wall);
                let heard = Heard {
                    received,
                    stored_for,
                    sent_wall,
                };
                entry.status = Some((status, heard));
            }
            Parsed::Online(true) => {
                if entry.online != Some(true) {
                    entry.since = received;
                }
                entry.online = Some(true);
                entry.offline_since = None;
            }
            Parsed::Online(false) => {
                if entry.online != Some(false) {
                    entry.offline_since = Some(wall);
                }
                entry.online = Some(false);
            }
            Parsed::Alarm(alarm) => {
                if entry.alarm_log.len() == ALARM_LOG_LEN {
                    entry.alarm_log.pop_front();
                }
                entry.alarm_log.push_back((alarm, received));
            }
            Parsed::Trend(trend) => {
                let skip = trend.points.len().saturating_sub(TREND_POINTS);
                entry.trend.clear();
                entry.trend.extend_from_slice(&trend.points[skip..]);
            }
        }
        Ok(())
    }

    /// Takes in what the subscriber sent; returns the broker state when that is what it was.
    pub fn input(&mut self, input: WardInput) -> Option<BrokerState> {
        match input {
            WardInput::Message {
                topic,
                payload,
                received,
                wall,
                retained,
            } => {
                if let Err(refusal) = self.apply_as(&topic, &payload, received, wall, retained) {
                    tracing::warn!(%refusal, "ward message refused");
                }
                None
            }
            WardInput::Connection(state) => Some(state),
        }
    }

    /// How many messages were refused.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Why the last refused message was refused.
    pub fn last_refusal(&self) -> Option<&str> {
        self.last_refusal.as_deref()
    }

    /// How many messages were taken in.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// How many beds the ward knows.
    pub fn len(&self) -> usize {
        self.beds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.beds.is_empty()
    }

    /// The bed's recent trend, oldest first (at most [`TREND_POINTS`]).
    pub fn trend(&self, bed: &Bed) -> &[TrendPoint] {
        self.beds.get(bed).map_or(&[], |e| e.trend.as_slice())
    }

    /// The bed's recent alarm events, oldest first (at most [`ALARM_LOG_LEN`]).
    pub fn alarm_log(&self, bed: &Bed) -> impl Iterator<Item = &AlarmMessage> {
        self.beds
            .get(bed)
            .into_iter()
            .flat_map(|e| e.alarm_log.iter().map(|(a, _)| a))
    }

    /// Items the board holds: beds, alarm events and trend points (the memory check of the
    /// benchmark and tests; every item is of bounded size but the bedsides' texts).
    pub fn retained_items(&self) -> usize {
        self.beds
            .values()
            .map(|e| 1 + e.alarm_log.len() + e.trend.len())
            .sum()
    }

    /// An estimate of the bytes the board holds: its entries, their statuses and alarm events
    /// with their texts, and their trend points (allocator overhead not counted).
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let alarm_text = |a: &BedAlarm| {
            size_of::<BedAlarm>()
                + a.code.len()
                + a.priority.len()
                + a.text.len()
                + a.raised_utc.len()
        };
        let event_text = |a: &AlarmMessage| {
            a.event.len() + a.code.len() + a.priority.len() + a.text.len() + a.at_utc.len()
        };
        self.beds
            .iter()
            .map(|(bed, e)| {
                let status = e.status.as_ref().map_or(0, |(s, _)| {
                    s.published_utc.len()
                        + s.state.as_ref().map_or(0, String::len)
                        + s.projected_end_utc.as_ref().map_or(0, String::len)
                        + s.link.len()
                        + s.recording.as_ref().map_or(0, String::len)
                        + s.alarms.iter().map(alarm_text).sum::<usize>()
                });
                size_of::<BedEntry>()
                    + size_of::<BedStatus>()
                    + 2 * bed.as_str().len()
                    + status
                    + e.alarm_log.capacity() * size_of::<(AlarmMessage, Instant)>()
                    + e.alarm_log
                        .iter()
                        .map(|(a, _)| event_text(a))
                        .sum::<usize>()
                    + e.trend.capacity() * size_of::<TrendPoint>()
            })
            .sum()
    }

    /// Every bed as its tile shows it at `now`, by [`BedView::rank`] (worst alarm first),
    /// then by bed name.
    pub fn beds(&self, now: Instant) -> Vec<BedView> {
        let no_status_after = self.keepalive * NO_STATUS_KEEPALIVES;
        let mut views: Vec<BedView> = self
            .beds
            .iter()
            .map(|(bed, entry)| view(bed, entry, now, no_status_after))
            .collect();
        // The map is in name order and the sort is stable: equal ranks stay by name.
        views.sort_by_key(|v| std::cmp::Reverse(v.rank()));
        views
    }

    /// The snapshot `--once --json` prints, beds in tile order.
    pub fn snapshot(&self, now: Instant) -> WardSnapshot {
        let beds = self
            .beds(now)
            .into_iter()
            .map(|v| {
                let alarms = self
                    .beds
                    .get(&v.bed)
                    .and_then(|e| e.status.as_ref())
                    .map(|(s, _)| s.alarms.clone())
                    .unwrap_or_default();
                BedSnapshot {
                    bed: v.bed,
                    online: v.online,
                    state: v.state,
                    wb_processed_ml: v.wb_processed_ml,
                    tbv_processed: v.tbv_processed,
                    alarms,
                    age_s: v.age_s,
                    stale: v.stale,
                    offline_since_utc: v.offline_since_utc.map(|t| t.to_string()),
                    no_status_s: v.no_status_s,
                }
            })
            .collect();
        WardSnapshot { beds }
    }
}

fn view(bed: &Bed, entry: &BedEntry, now: Instant, no_status_after: Duration) -> BedView {
    // A bed heard of only through its status is taken as online.
    let online = entry.online != Some(false);
    let status = entry.status.as_ref().map(|(s, _)| s);
    let age_s = entry.status.as_ref().and_then(|(s, heard)| {
        let since_sent = heard.stored_for + now.saturating_duration_since(heard.received);
        s.data_age_s.map(|age| age + since_sent.as_secs_f64())
    });
    let silent_since = match &entry.status {
        // A status from before the bed came back online does not count as current.
        Some((_, heard)) if heard.received >= entry.since => heard.received,
        _ => entry.since,
    };
    let silent = now.saturating_duration_since(silent_since);
    let no_status_s = (online && silent >= no_status_after).then_some(silent.as_secs_f64());
    // An offline bed's alarms are not known: its last status's are not shown as active.
    let worst_alarm = status.filter(|_| online).and_then(|s| {
        s.alarms
            .iter()
            .max_by_key(|a| priority_of(&a.priority))
            .map(|a| WorstAlarm {
                priority: priority_of(&a.priority),
                code: a.code.clone(),
                text: if a.text.is_empty() {
                    a.code.clone()
                } else {
                    a.text.clone()
                },
                acknowledged: a.acknowledged,
            })
    });
    let projected_end = status
        .and_then(|s| s.projected_end_utc.as_deref())
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(clock_hm);
    BedView {
        bed: bed.clone(),
        online,
        offline_since: entry.offline_since().map(clock_hm),
        offline_since_utc: entry.offline_since(),
        state: status.and_then(|s| s.state.clone()),
        machine_state: status
            .and_then(|s| s.state.as_deref())
            .and_then(MachineState::from_protocol),
        progress: status.and_then(|s| s.progress),
        wb_processed_ml: status.and_then(|s| s.wb_processed_ml),
        target_wb_ml: status.and_then(|s| s.target_wb_ml),
        tbv_processed: status.and_then(|s| s.tbv_processed),
        projected_end,
        citrate_ml_min_l: status.and_then(|s| s.citrate_ml_min_l),
        alarm_count: status.filter(|_| online).map_or(0, |s| s.alarms.len()),
        worst_alarm,
        stale: !age_s.is_some_and(is_fresh),
        age_s,
        no_status_s,
        link: status.map(|s| s.link.clone()),
        has_trend: !entry.trend.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ward::message::SCHEMA;
    use jiff::SignedDuration;

    fn wall(s: i64) -> Timestamp {
        Timestamp::from_second(1_764_583_200 + s).unwrap()
    }

    fn status(bed: &str, alarms: &[(&str, &str)], data_age_s: Option<f64>) -> Vec<u8> {
        let status = BedStatus {
            schema: SCHEMA,
            bed: Bed::new(bed).unwrap(),
            published_utc: "2026-12-01T10:00:00Z".into(),
            state: Some("RUN".into()),
            wb_processed_ml: Some(2740.0),
            tbv_processed: Some(0.52),
            target_wb_ml: Some(13_120.0),
            progress: Some(0.21),
            projected_end_utc: Some("2026-12-01T12:30:00Z".into()),
            citrate_ml_min_l: Some(0.77),
            alarms: alarms
                .iter()
                .map(|(priority, text)| BedAlarm {
                    code: format!("CODE_{priority}"),
                    priority: (*priority).into(),
                    text: (*text).into(),
                    acknowledged: false,
                    raised_utc: "2026-12-01T10:00:00Z".into(),
                })
                .collect(),
            data_age_s,
            link: "up".into(),
            recording: None,
            patient: None,
        };
        serde_json::to_vec(&status).unwrap()
    }

    fn names(views: &[BedView]) -> Vec<&str> {
        views.iter().map(|v| v.bed.as_str()).collect()
    }

    #[test]
    fn beds_are_ordered_by_worst_alarm_then_name() {
        let t0 = Instant::now();
        let mut board = Board::default();
        for (bed, alarms) in [
            ("bay4", vec![]),
            ("bay2", vec![("LOW", "Low one")]),
            (
                "bay3",
                vec![("MEDIUM", "Check AC"), ("HIGH", "Air detected")],
            ),
            ("bay1", vec![("INFO", "Target near")]),
            ("bay0", vec![]),
            ("bay5", vec![("MEDIUM", "Access pressure")]),
            ("bay6", vec![("HIGH", "Return pressure high")]),
        ] {
            board
                .apply(
                    &format!("apheresis/{bed}/status"),
                    &status(bed, &alarms, Some(0.5)),
                    t0,
                    wall(0),
                )
                .unwrap();
        }
        let views = board.beds(t0);
        assert_eq!(
            names(&views),
            ["bay3", "bay6", "bay5", "bay2", "bay1", "bay0", "bay4"]
        );
        let worst = views[0].worst_alarm.as_ref().unwrap();
        assert_eq!(
            (worst.priority, worst.text.as_str()),
            (Priority::High, "Air detected")
        );
        assert_eq!(views[0].alarm_count, 2);
        assert!(views[6].worst_alarm.is_none());
        // The snapshot keeps the same order and the fields the issue names.
        let json = serde_json::to_value(board.snapshot(t0)).unwrap();
        assert_eq!(json["beds"][0]["bed"], "bay3");
        assert_eq!(json["beds"][0]["alarms"][1]["priority"], "HIGH");
        for key in [
            "bed",
            "online",
            "state",
            "wb_processed_ml",
            "tbv_processed",
            "alarms",
            "age_s",
        ] {
            assert!(json["beds"][6].get(key).is_some(), "{key}");
        }
        assert_eq!(json["beds"][6]["online"], true);
        assert_eq!(json["beds"][6]["wb_processed_ml"], 2740.0);
    }

    #[test]
    fn an_unknown_priority_ranks_as_high() {
        let t0 = Instant::now();
        let mut board = Board::default();
        board
            .apply(
                "apheresis/a/status",
                &status("a", &[("MEDIUM", "m")], Some(0.0)),
                t0,
                wall(0),
            )
            .unwrap();
        board
            .apply(
                "apheresis/b/status",
                &status("b", &[("URGENT", "u")], Some(0.0)),
                t0,
                wall(0),
            )
            .unwrap();
        assert_eq!(names(&board.beds(t0)), ["b", "a"]);
    }

    #[test]
    fn an_offline_bed_says_since_when_and_comes_back() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut board = Board::default();
        let mut put = |topic: &str, payload: &[u8], s: u64| {
            board.apply(topic, payload, at(s), wall(s as i64)).unwrap();
        };
        put("apheresis/bay1/online", b"true", 0);
        put(
            "apheresis/bay1/status",
            &status("bay1", &[("HIGH", "Air")], Some(0.2)),
            0,
        );
        put(
            "apheresis/bay0/status",
            &status("bay0", &[("LOW", "l")], Some(0.2)),
            0,
        );
        // Last heard at 52 s; its last will comes when the broker gives up on it.
        put(
            "apheresis/bay1/status",
            &status("bay1", &[("HIGH", "Air")], Some(0.2)),
            52,
        );
        put("apheresis/bay1/online", b"false", 60);
        // A repeated false (retained, delivered again) keeps the first time.
        put("apheresis/bay1/online", b"false", 90);
        // Offline, its alarms are not known: it no longer ranks by its last HIGH alarm, but
        // as a bed gone dark mid-run, above a LOW alarm (bay0's, current).
        put(
            "apheresis/bay0/status",
            &status("bay0", &[("LOW", "l")], Some(0.2)),
            119,
        );
        let views = board.beds(at(120));
        assert_eq!(names(&views), ["bay1", "bay0"]);
        let v = &views[0];
        assert!(!v.online);
        assert!(v.worst_alarm.is_none());
        assert_eq!(v.offline_since_utc, Some(wall(52)), "since last heard");
        assert_eq!(
            v.offline_since.as_deref(),
            Some(clock_hm(wall(52)).as_str())
        );
        assert_eq!(v.no_status_s, None, "offline says offline, not 'no status'");
        let json = serde_json::to_value(board.snapshot(at(120))).unwrap();
        assert_eq!(json["beds"][0]["online"], false);
        assert_eq!(
            json["beds"][0]["alarms"][0]["text"], "Air",
            "as it last said"
        );

        board
            .apply("apheresis/bay1/online", b"true", at(200), wall(200))
            .unwrap();
        let v = &board.beds(at(201))[0];
        assert_eq!(
            v.bed.as_str(),
            "bay1",
            "online again, its HIGH alarm counts"
        );
        assert_eq!(v.offline_since, None);
        // Back online but no status since: after 3 keepalives (15 s) it says so.
        assert_eq!(board.beds(at(215))[0].no_status_s, Some(15.0));
        let fresh = status("bay1", &[], Some(0.2));
        board
            .apply("apheresis/bay1/status", &fresh, at(216), wall(216))
            .unwrap();
        let views = board.beds(at(217));
        assert_eq!(names(&views), ["bay0", "bay1"]);
        assert_eq!(views[1].no_status_s, None);
    }

    #[test]
    fn a_retained_status_met_by_a_ward_started_later_is_as_old_as_the_bedside_says() {
        let t0 = Instant::now();
        let mut board = Board::default();
        // The status says it was published at 10:00:00; the ward starts at 13:00:00.
        let published: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let ward_start = published + SignedDuration::from_hours(3);
        let stored = status("bay2", &[], Some(0.5));
        for (topic, payload) in [
            ("apheresis/bay2/online", b"false".as_slice()),
            ("apheresis/bay2/status", &stored),
        ] {
            board
                .apply_as(topic, payload, t0, ward_start, true)
                .unwrap();
        }
        let v = &board.beds(t0 + Duration::from_secs(2))[0];
        assert!(!v.online);
        assert_eq!(v.offline_since_utc, Some(published), "not the ward's start");
        let age = v.age_s.unwrap();
        assert!((age - (3.0 * 3600.0 + 2.5)).abs() < 1e-6, "{age}");
        assert!(v.stale);
        // The same status sent live (not retained) is as old as its data.
        let mut live = Board::default();
        live.apply("apheresis/bay2/status", &stored, t0, ward_start)
            .unwrap();
        let v = &live.beds(t0 + Duration::from_secs(2))[0];
        assert_eq!(v.age_s, Some(2.5));
        assert!(!v.stale);
    }

    #[test]
    fn a_bed_dark_mid_run_ranks_above_low_one_closed_after_its_end_with_the_quiet() {
        let t0 = Instant::now();
        let mut board = Board::default();
        let mut put = |topic: &str, payload: &[u8]| {
            board.apply(topic, payload, t0, wall(0)).unwrap();
        };
        let ended = {
            let mut v: serde_json::Value =
                serde_json::from_slice(&status("bay1", &[], Some(0.2))).unwrap();
            v["state"] = "END".into();
            serde_json::to_vec(&v).unwrap()
        };
        put("apheresis/bay1/status", &ended);
        put("apheresis/bay1/online", b"false");
        put("apheresis/bay2/status", &status("bay2", &[], Some(0.2)));
        put("apheresis/bay2/online", b"false");
        put(
            "apheresis/bay3/status",
            &status("bay3", &[("LOW", "l")], Some(0.2)),
        );
        put("apheresis/bay4/status", &status("bay4", &[], Some(0.2)));
        put(
            "apheresis/bay5/status",
            &status("bay5", &[("MEDIUM", "m")], Some(0.2)),
        );
        let views = board.beds(t0);
        assert_eq!(names(&views), ["bay5", "bay2", "bay3", "bay1", "bay4"]);
        assert_eq!(
            views.iter().map(BedView::rank).collect::<Vec<_>>(),
            [4, 3, 2, 0, 0]
        );
    }

    #[test]
    fn an_online_bed_without_status_is_not_shown_as_current() {
        let t0 = Instant::now();
        let mut board = Board::new(Duration::from_secs(5));
        board
            .apply("apheresis/bay1/online", b"true", t0, wall(0))
            .unwrap();
        board
            .apply(
                "apheresis/bay1/status",
                &status("bay1", &[], Some(1.0)),
                t0,
                wall(0),
            )
            .unwrap();
        assert_eq!(
            board.beds(t0 + Duration::from_millis(14_900))[0].no_status_s,
            None
        );
        let v = &board.beds(t0 + Duration::from_secs(20))[0];
        assert_eq!(v.no_status_s, Some(20.0));
        assert!(v.stale);
    }

    #[test]
    fn age_is_the_bedsides_age_plus_the_time_since_arrival_whatever_its_clock_says() {
        let t0 = Instant::now();
        let mut board = Board::default();
        // The bedside's clock is a day wrong (published_utc): it does not matter.
        board
            .apply(
                "apheresis/bay1/status",
                &status("bay1", &[], Some(2.5)),
                t0,
                wall(86_400),
            )
            .unwrap();
        let v = &board.beds(t0 + Duration::from_secs(3))[0];
        assert_eq!(v.age_s, Some(5.5));
        assert!(!v.stale);
        let v = &board.beds(t0 + Duration::from_millis(7_500))[0];
        assert_eq!(v.age_s, Some(10.0));
        assert!(v.stale, "10 s is the stale limit (alarms::stale)");
        // No sample yet, or a negative age: never fresh.
        board
            .apply(
                "apheresis/bay2/status",
                &status("bay2", &[], None),
                t0,
                wall(0),
            )
            .unwrap();
        board
            .apply(
                "apheresis/bay3/status",
                &status("bay3", &[], Some(-4.0)),
                t0,
                wall(0),
            )
            .unwrap();
        let views = board.beds(t0 + Duration::from_secs(1));
        let bay2 = views.iter().find(|v| v.bed.as_str() == "bay2").unwrap();
        assert_eq!((bay2.age_s, bay2.stale), (None, true));
        let bay3 = views.iter().find(|v| v.bed.as_str() == "bay3").unwrap();
        assert!(bay3.stale);
    }

    #[test]
    fn bad_messages_are_counted_and_leave_the_other_beds_alone() {
        let t0 = Instant::now();
        let mut board = Board::default();
        board
            .apply(
                "apheresis/bay1/status",
                &status("bay1", &[], Some(0.0)),
                t0,
                wall(0),
            )
            .unwrap();
        // bay2's credentials speaking for bay1 (the payload names bay1, the topic bay2).
        let err = board.apply(
            "apheresis/bay2/status",
            &status("bay1", &[("HIGH", "x")], Some(0.0)),
            t0,
            wall(0),
        );
        assert!(matches!(
            err,
            Err(Refusal::Message {
                source: MessageError::WrongBed { .. },
                ..
            })
        ));
        let mut v: serde_json::Value =
            serde_json::from_slice(&status("bay1", &[], Some(0.0))).unwrap();
        v["schema"] = 7.into();
        v["state"] = "PAUSE".into();
        let err = board
            .apply(
                "apheresis/bay1/status",
                v.to_string().as_bytes(),
                t0,
                wall(0),
            )
            .unwrap_err();
        assert!(err.to_string().contains("schema 7"), "{err}");
        assert!(
            board
                .apply("apheresis/bay1/online", b"maybe", t0, wall(0))
                .is_err()
        );
        assert!(
            board
                .apply("apheresis/bay1/trend", b"\xff\x00", t0, wall(0))
                .is_err()
        );
        assert!(
            board
                .apply("elsewhere/bay1/status", b"{}", t0, wall(0))
                .is_err()
        );
        assert_eq!(board.refused(), 5);
        assert!(board.last_refusal().unwrap().contains("not a ward topic"));
        // Nothing of it reached a bed: bay1 is as it was, and bay2 was never made.
        let views = board.beds(t0);
        assert_eq!(names(&views), ["bay1"]);
        assert_eq!(views[0].state.as_deref(), Some("RUN"));
        assert!(views[0].worst_alarm.is_none());
    }

    #[test]
    fn memory_stays_bounded() {
        let t0 = Instant::now();
        let mut board = Board::default();
        let bed = Bed::new("bay1").unwrap();
        for i in 0..(ALARM_LOG_LEN * 3) {
            let alarm = AlarmMessage {
                schema: SCHEMA,
                bed: bed.clone(),
                event: "raised".into(),
                code: format!("A{i}"),
                priority: "LOW".into(),
                text: String::new(),
                at_utc: "2026-12-01T10:00:00Z".into(),
            };
            board
                .apply(
                    "apheresis/bay1/alarm",
                    &serde_json::to_vec(&alarm).unwrap(),
                    t0,
                    wall(0),
                )
                .unwrap();
        }
        let log: Vec<_> = board.alarm_log(&bed).map(|a| a.code.clone()).collect();
        assert_eq!(log.len(), ALARM_LOG_LEN);
        assert_eq!(
            log[0],
            format!("A{}", ALARM_LOG_LEN * 2),
            "the newest are kept"
        );
        let point = |t_s: f64| TrendPoint {
            t_s,
            wb_processed_ml: Some(t_s),
            inlet_ml_min: None,
            access_mmhg: None,
            return_mmhg: None,
        };
        let trend = Trend {
            schema: SCHEMA,
            bed: bed.clone(),
            points: (0..TREND_POINTS + 40).map(|i| point(i as f64)).collect(),
        };
        board
            .apply(
                "apheresis/bay1/trend",
                &serde_json::to_vec(&trend).unwrap(),
                t0,
                wall(0),
            )
            .unwrap();
        assert_eq!(board.trend(&bed).len(), TREND_POINTS);
        assert_eq!(board.trend(&bed)[0].t_s, 40.0);
        assert_eq!(board.retained_items(), 1 + ALARM_LOG_LEN + TREND_POINTS);
        // Statuses replace each other.
        board
            .apply(
                "apheresis/bay1/status",
                &status("bay1", &[], Some(0.0)),
                t0,
                wall(0),
            )
            .unwrap();
        let bytes = board.approx_bytes();
        for _ in 0..100 {
            board
                .apply(
                    "apheresis/bay1/status",
                    &status("bay1", &[], Some(0.0)),
                    t0,
                    wall(0),
                )
                .unwrap();
        }
        assert_eq!(board.retained_items(), 1 + ALARM_LOG_LEN + TREND_POINTS);
        assert_eq!(board.approx_bytes(), bytes);
        // No more than MAX_BEDS beds.
        for i in 0..MAX_BEDS + 5 {
            let _ = board.apply(&format!("apheresis/b{i}/online"), b"true", t0, wall(0));
        }
        assert_eq!(board.len(), MAX_BEDS);
        assert!(
            board
                .last_refusal()
                .unwrap()
                .contains("already shows 64 beds")
        );
    }
}
