//! The ward's side of the broker: the thread `mqtt-ward` subscribes to every bed's topics
//! ([`WARD_FILTER`], QoS 1) and hands each message to the ward as a [`WardInput`], stamped
//! with when it arrived (the ward measures ages on its own clock), with news of the
//! connection: connected, or failed and why (wrong password, TLS, unknown host, refused, the
//! ACL not letting this user read). It reconnects with the publisher's backoff (0.5 s
//! doubling, capped at 5 s) and subscribes again on every connection; the retained statuses
//! and online flags then arrive at once.
//!
//! The ward only reads: it publishes nothing and has no last will.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use jiff::Timestamp;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, SubscribeReasonCode};
use rumqttc::v5::{Client, Connection, Event};

use super::board::{BrokerState, WardInput};
use super::broker::{BrokerConfig, Failure, install_crypto_provider};
use super::publish::{BACKOFF_MAX, BACKOFF_START};
use super::topic::WARD_FILTER;

/// Called after each input is sent (the window repaints at once).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// The running subscription; dropping it (or [`Subscriber::stop`]) disconnects.
pub struct Subscriber {
    client: Client,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Subscriber {
    /// Connects to `config`'s broker and sends what arrives to `out`, calling `wake` after
    /// each input.
    pub fn start(config: &BrokerConfig, out: Sender<WardInput>, wake: Wake) -> Subscriber {
        install_crypto_provider();
        let client_id = format!("apheresis-ward-{}", std::process::id());
        let (client, connection) = Client::new(config.mqtt_options(&client_id, None), 64);
        let stop = Arc::new(AtomicBool::new(false));
        let url = config.url.clone();
        let (thread_client, thread_stop) = (client.clone(), Arc::clone(&stop));
        let _ = out.send(WardInput::Connection(BrokerState::Connecting));
        let thread = std::thread::Builder::new()
            .name("mqtt-ward".into())
            .spawn(move || run(connection, &thread_client, &url, &out, &wake, &thread_stop))
            .ok();
        Subscriber {
            client,
            stop,
            thread,
        }
    }

    /// Disconnects and waits for the thread (at most a few seconds).
    pub fn stop(mut self) {
        self.shut_down();
    }

    /// Asks the thread to disconnect and stop, without waiting for it (a process about to
    /// exit).
    pub fn detach(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.client.try_disconnect();
        drop(self.thread.take());
    }

    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.client.try_disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn run(
    mut connection: Connection,
    client: &Client,
    url: &super::broker::BrokerUrl,
    out: &Sender<WardInput>,
    wake: &Wake,
    stop: &AtomicBool,
) {
    let send = |input: WardInput| {
        let sent = out.send(input).is_ok();
        wake();
        sent
    };
    let mut backoff = BACKOFF_START;
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // Blocks until the next event; a broker that is down errs within the connection
        // timeout (5 s), so a stop is seen within that.
        let Ok(event) = connection.recv() else {
            return;
        };
        let ok = match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = BACKOFF_START;
                let subscribed = client.try_subscribe(WARD_FILTER, QoS::AtLeastOnce);
                match subscribed {
                    Ok(()) => send(WardInput::Connection(BrokerState::Connected)),
                    Err(e) => send(WardInput::Connection(BrokerState::Failed(format!(
                        "cannot subscribe to {WARD_FILTER}: {e}"
                    )))),
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let refused = ack
                    .return_codes
                    .iter()
                    .any(|c| !matches!(c, SubscribeReasonCode::Success(_)));
                if refused {
                    send(WardInput::Connection(BrokerState::Failed(format!(
                        "refused by the broker's ACL: user {} may not read {WARD_FILTER}",
                        url.user
                    ))))
                } else {
                    true
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => send(WardInput::Message {
                topic: String::from_utf8_lossy(&p.topic).into_owned(),
                payload: p.payload.to_vec(),
                received: Instant::now(),
                wall: Timestamp::now(),
                retained: p.retain,
            }),
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
            Ok(_) => true,
            Err(error) => {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let failure = Failure::classify(&error, url);
                let delivered = send(WardInput::Connection(BrokerState::Failed(
                    failure.to_string(),
                )));
                let until = Instant::now() + backoff;
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                delivered
            }
        };
        if !ok {
            // The ward is gone.
            return;
        }
    }
}
