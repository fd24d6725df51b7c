//! Publishing a bedside's state to the broker, never waiting on it.
//!
//! [`Publisher::start`] spawns the thread `mqtt-publish`, which owns the MQTT client, and
//! `mqtt-connection`, which drives the connection and reconnects with backoff (0.5 s doubling,
//! capped at 5 s). The bedside hands over what it shows with calls that never block: the
//! latest status and trend replace what was waiting (status sent at most once a second,
//! retained); alarm events wait in a bounded queue (the oldest dropped, and counted, when it
//! is full) and go at QoS 1. Nothing is handed to the client while it is not connected, so a
//! broker that is down, slow or refusing costs the bedside nothing. On every (re)connection
//! `online` = `true` (retained) and the latest status are published again; a clean stop
//! publishes `online` = `false`, and the broker publishes the same last will for a bedside
//! that dies.
//!
//! Everything is published at QoS 1 (MQTT 5): a publish the broker's ACL refuses comes back
//! as a `PUBACK` with "not authorised", reported as [`Failure::Acl`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
use rumqttc::v5::{Client, Connection, Event};

use super::broker::{BrokerConfig, Failure, client_id};
use super::message::{AlarmMessage, BedStatus, Trend};
use super::topic::Bed;

/// The first wait before reconnecting; doubled after each failure.
pub const BACKOFF_START: Duration = Duration::from_millis(500);
/// The longest wait before reconnecting.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The least time between two statuses.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(1);
/// Alarm events kept while the broker cannot take them.
pub const DEFAULT_ALARM_QUEUE: usize = 256;

/// What to publish where.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    pub broker: BrokerConfig,
    pub bed: Bed,
    /// Alarm events kept while they cannot be sent (the oldest dropped beyond).
    pub alarm_queue: usize,
}

impl PublishConfig {
    pub fn new(broker: BrokerConfig, bed: Bed) -> PublishConfig {
        PublishConfig {
            broker,
            bed,
            alarm_queue: DEFAULT_ALARM_QUEUE,
        }
    }
}

/// Where publishing stands, for the screen and the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishState {
    Connecting,
    Connected,
    /// The last connection attempt failed, or the broker refused a publish; retrying.
    Failed(Failure),
}

impl PublishState {
    /// A few words for a footer: `connected`, `wrong user or password`, …
    pub fn short(&self) -> &'static str {
        match self {
            PublishState::Connecting => "connecting",
            PublishState::Connected => "connected",
            PublishState::Failed(f) => f.short(),
        }
    }
}

impl std::fmt::Display for PublishState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishState::Connecting => f.write_str("connecting to the broker"),
            PublishState::Connected => f.write_str("connected to the broker"),
            PublishState::Failed(failure) => write!(f, "{failure}"),
        }
    }
}

/// What the caller and the threads share.
struct Shared {
    status: Mutex<Option<BedStatus>>,
    trend: Mutex<Option<Trend>>,
    state: Mutex<PublishState>,
    dropped_alarms: AtomicU64,
    stop: AtomicBool,
}

/// A running publisher; dropping it stops publishing (`online` = `false`, disconnect) on its
/// own threads, without waiting.
pub struct Publisher {
    shared: Arc<Shared>,
    alarms: Sender<AlarmMessage>,
    /// The queue's other end, to drop the oldest alarm when it is full.
    alarms_oldest: Receiver<AlarmMessage>,
    wake: Sender<()>,
    thread: Option<JoinHandle<()>>,
    bed: Bed,
}

impl Publisher {
    /// Starts publishing for `config.bed`. Never fails and never waits: a broker that cannot
    /// be reached shows in [`Publisher::state`].
    pub fn start(config: PublishConfig) -> Publisher {
        let shared = Arc::new(Shared {
            status: Mutex::new(None),
            trend: Mutex::new(None),
            state: Mutex::new(PublishState::Connecting),
            dropped_alarms: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let (alarms, alarms_rx) = crossbeam_channel::bounded(config.alarm_queue.max(1));
        let (wake, wake_rx) = crossbeam_channel::bounded(1);
        let bed = config.bed.clone();
        let thread = {
            let shared = shared.clone();
            let alarms_rx = alarms_rx.clone();
            std::thread::Builder::new()
                .name("mqtt-publish".into())
                .spawn(move || run(&config, &shared, &alarms_rx, &wake_rx))
                .ok()
        };
        if thread.is_none() {
            *lock(&shared.state) = PublishState::Failed(Failure::Other {
                detail: "cannot start the publishing thread".into(),
            });
        }
        Publisher {
            shared,
            alarms,
            alarms_oldest: alarms_rx,
            wake,
            thread,
            bed,
        }
    }

    /// The bed published for.
    pub fn bed(&self) -> &Bed {
        &self.bed
    }

    /// Hands over the latest status (replacing one not yet sent).
    pub fn publish_status(&self, status: BedStatus) {
        *lock(&self.shared.status) = Some(status);
        let _ = self.wake.try_send(());
    }

    /// Queues an alarm event (QoS 1); when the queue is full the oldest is dropped and counted.
    pub fn publish_alarm(&self, alarm: AlarmMessage) {
        let mut alarm = alarm;
        loop {
            match self.alarms.try_send(alarm) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => break,
                Err(TrySendError::Full(back)) => {
                    if self.alarms_oldest.try_recv().is_ok() {
                        self.shared.dropped_alarms.fetch_add(1, Ordering::Relaxed);
                    }
                    alarm = back;
                }
            }
        }
        let _ = self.wake.try_send(());
    }

    /// Hands over the latest trend (retained; replacing one not yet sent).
    pub fn publish_trend(&self, trend: Trend) {
        *lock(&self.shared.trend) = Some(trend);
        let _ = self.wake.try_send(());
    }

    /// Where publishing stands.
    pub fn state(&self) -> PublishState {
        lock(&self.shared.state).clone()
    }

    /// Alarm events dropped because the queue was full.
    pub fn dropped_alarms(&self) -> u64 {
        self.shared.dropped_alarms.load(Ordering::Relaxed)
    }

    /// Stops publishing (`online` = `false` when connected, then disconnect) and waits at most
    /// `wait` for it to be done. For the command line at exit; the UI drops the publisher.
    pub fn stop(mut self, wait: Duration) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + wait;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the connection thread reports.
type ConnectionEvent = Result<Event, Failure>;

/// The `mqtt-publish` thread.
fn run(
    config: &PublishConfig,
    shared: &Shared,
    alarms: &Receiver<AlarmMessage>,
    wake: &Receiver<()>,
) {
    let bed = &config.bed;
    let options = config.broker.mqtt_options(&client_id(bed), Some(bed));
    let (client, connection) = Client::new(options, 64);
    let (events_tx, events) = crossbeam_channel::unbounded();
    let connection_thread = {
        let url = config.broker.url.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_connection = stop.clone();
        let handle = std::thread::Builder::new()
            .name("mqtt-connection".into())
            .spawn(move || drive(connection, &url, &events_tx, &stop_connection))
            .ok();
        (handle, stop)
    };
    let mut out = Outbox::new(config);
    while !shared.stop.load(Ordering::SeqCst) {
        crossbeam_channel::select! {
            recv(events) -> event => match event {
                Ok(event) => out.on_event(event, shared),
                // No connection thread: nothing will come; wait like the default.
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            },
            recv(wake) -> _ => {},
            default(out.next_due()) => {},
        }
        while let Ok(event) = events.try_recv() {
            out.on_event(event, shared);
        }
        if out.connected {
            out.send(&client, shared, alarms);
        }
    }
    // A clean stop: say so, then disconnect, and give the connection a moment to send both.
    connection_thread.1.store(true, Ordering::SeqCst);
    if out.connected {
        let _ = client.try_publish(bed.online(), QoS::AtLeastOnce, true, "false");
    }
    let _ = client.try_disconnect();
    drop(client);
    if let Some(handle) = connection_thread.0 {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// What waits to be published, and when the status last went.
struct Outbox {
    bed: Bed,
    user: String,
    connected: bool,
    status: Option<BedStatus>,
    /// The last status sent, sent again on reconnection.
    last_status: Option<BedStatus>,
    status_sent: Option<Instant>,
    trend: Option<Trend>,
    last_trend: Option<Trend>,
    /// An alarm the client could not take yet.
    alarm: Option<AlarmMessage>,
    announce: bool,
}

impl Outbox {
    /// How long the thread may sleep: until a waiting status is due (so it goes the moment
    /// the once-a-second limit allows, not up to a tick later), else 200 ms.
    fn next_due(&self) -> Duration {
        let idle = Duration::from_millis(200);
        match (&self.status, self.status_sent) {
            (Some(_), Some(sent)) if self.connected => STATUS_INTERVAL
                .saturating_sub(sent.elapsed())
                .clamp(Duration::from_millis(5), idle),
            _ => idle,
        }
    }

    fn new(config: &PublishConfig) -> Outbox {
        Outbox {
            bed: config.bed.clone(),
            user: config.broker.url.user.clone(),
            connected: false,
            status: None,
            last_status: None,
            status_sent: None,
            trend: None,
            last_trend: None,
            alarm: None,
            announce: false,
        }
    }

    fn on_event(&mut self, event: ConnectionEvent, shared: &Shared) {
        let state = match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                self.connected = true;
                self.announce = true;
                self.status = self.status.take().or_else(|| self.last_status.take());
                self.trend = self.trend.take().or_else(|| self.last_trend.take());
                self.status_sent = None;
                PublishState::Connected
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => match ack.reason {
                PubAckReason::NotAuthorized => PublishState::Failed(Failure::Acl {
                    user: self.user.clone(),
                    topic: format!("{}/{}/#", super::topic::ROOT, self.bed),
                }),
                PubAckReason::Success | PubAckReason::NoMatchingSubscribers => {
                    PublishState::Connected
                }
                other => PublishState::Failed(Failure::Other {
                    detail: format!("the broker refused a message ({other:?})"),
                }),
            },
            Ok(_) => return,
            Err(failure) => {
                self.connected = false;
                PublishState::Failed(failure)
            }
        };
        *lock(&shared.state) = state;
    }

    /// Hands the client what is due; whatever it cannot take now waits.
    fn send(&mut self, client: &Client, shared: &Shared, alarms: &Receiver<AlarmMessage>) {
        let publish = |topic: String, retain: bool, payload: Vec<u8>| {
            client
                .try_publish(topic, QoS::AtLeastOnce, retain, payload)
                .is_ok()
        };
        if self.announce {
            if !publish(self.bed.online(), true, b"true".to_vec()) {
                return;
            }
            self.announce = false;
        }
        if let Some(status) = lock(&shared.status).take() {
            self.status = Some(status);
        }
        let due = self
            .status_sent
            .is_none_or(|sent| sent.elapsed() >= STATUS_INTERVAL);
        if due && let Some(status) = self.status.take() {
            if let Ok(json) = serde_json::to_vec(&status)
                && publish(self.bed.status(), true, json)
            {
                self.status_sent = Some(Instant::now());
                self.last_status = Some(status);
            } else {
                self.status = Some(status);
            }
        }
        let mut pending: VecDeque<AlarmMessage> = self.alarm.take().into_iter().collect();
        loop {
            let next = match pending.pop_front() {
                Some(a) => a,
                None => match alarms.try_recv() {
                    Ok(a) => a,
                    Err(_) => break,
                },
            };
            let Ok(json) = serde_json::to_vec(&next) else {
                continue;
            };
            if !publish(self.bed.alarm(), false, json) {
                self.alarm = Some(next);
                break;
            }
        }
        if let Some(trend) = lock(&shared.trend).take() {
            self.trend = Some(trend);
        }
        if let Some(trend) = self.trend.take() {
            if let Ok(json) = serde_json::to_vec(&trend)
                && publish(self.bed.trend(), true, json)
            {
                self.last_trend = Some(trend);
            } else {
                self.trend = Some(trend);
            }
        }
    }
}

/// The wait after `backoff` failed: twice as long, at most [`BACKOFF_MAX`].
fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).min(BACKOFF_MAX)
}

/// The `mqtt-connection` thread: polls the connection (which reconnects when polled after an
/// error), waiting 0.5 s, 1 s, 2 s, 4 s, then 5 s between failed attempts.
fn drive(
    mut connection: Connection,
    url: &super::broker::BrokerUrl,
    events: &Sender<ConnectionEvent>,
    stop: &AtomicBool,
) {
    let mut backoff = BACKOFF_START;
    let mut stopping_since: Option<Instant> = None;
    loop {
        match connection.recv() {
            Err(_) => return,
            Ok(Ok(event)) => {
                if matches!(event, Event::Incoming(Packet::ConnAck(_))) {
                    backoff = BACKOFF_START;
                }
                let disconnected = matches!(event, Event::Outgoing(Outgoing::Disconnect));
                if events.send(Ok(event)).is_err() || disconnected {
                    return;
                }
                // Stopped, but the disconnect queued last has not gone in 5 s: close anyway
                // (the broker then publishes the last will).
                if stop.load(Ordering::SeqCst) {
                    let since = *stopping_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(5) {
                        return;
                    }
                }
            }
            Ok(Err(error)) => {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let failure = Failure::classify(&error, url);
                tracing::debug!("ward broker: {failure}");
                if events.send(Err(failure)).is_err() {
                    return;
                }
                let until = Instant::now() + backoff;
                while Instant::now() < until {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                backoff = next_backoff(backoff);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnection_waits_half_a_second_then_doubles_up_to_5_s() {
        let waits: Vec<u128> =
            std::iter::successors(Some(BACKOFF_START), |b| Some(next_backoff(*b)))
                .take(7)
                .map(|d| d.as_millis())
                .collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 5000, 5000, 5000]);
    }

    #[test]
    fn a_full_alarm_queue_drops_the_oldest_and_counts_it_without_blocking() {
        // A port nothing listens on: the publisher never connects, so nothing is taken off
        // the queue but by the caller's drops.
        let broker = BrokerConfig::new("mqtt://bay1@127.0.0.1:1", None, None, None).unwrap();
        let bed = Bed::new("bay1").unwrap();
        let mut config = PublishConfig::new(broker, bed.clone());
        config.alarm_queue = 3;
        let publisher = Publisher::start(config);
        for i in 0..5 {
            publisher.publish_alarm(AlarmMessage {
                schema: super::super::message::SCHEMA,
                bed: bed.clone(),
                event: "raised".into(),
                code: format!("A{i}"),
                priority: "HIGH".into(),
                text: String::new(),
                at_utc: String::new(),
            });
        }
        assert_eq!(publisher.dropped_alarms(), 2);
        let left: Vec<String> = publisher.alarms_oldest.try_iter().map(|a| a.code).collect();
        assert_eq!(left, ["A2", "A3", "A4"]);
    }
}
