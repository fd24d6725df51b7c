//! A real MQTT broker for the tests: mosquitto on free loopback ports, with a password file
//! (`mosquitto_passwd -b`), per-bed ACLs (`pattern readwrite apheresis/%u/#`, and a `ward`
//! user that reads `apheresis/#`), optionally a TLS listener with a CA and server certificate
//! made by `openssl` in a temporary folder. Killed on drop. And a subscriber that keeps the
//! last message of every topic, as the ward would.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{Client, Event, MqttOptions};

/// The last payload of each topic and when it came.
type LastByTopic = Arc<Mutex<HashMap<String, (Vec<u8>, Instant)>>>;

/// The ward reader's user and password.
pub const WARD_USER: (&str, &str) = ("ward", "ward-pw");

pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    pub tls_port: Option<u16>,
    pub dir: tempfile::TempDir,
    conf: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} cannot run ({e}): apt install mosquitto openssl"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Broker {
    /// A broker knowing `users` (and the ward reader), with a TLS listener if `tls`.
    pub fn start(users: &[(&str, &str)], tls: bool) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let passwords = dir.path().join("passwords");
        std::fs::write(&passwords, "").unwrap();
        for (user, password) in users.iter().chain([&WARD_USER]) {
            run(Command::new("mosquitto_passwd")
                .arg("-b")
                .arg(&passwords)
                .args([user, password]));
        }
        let acl = dir.path().join("acl");
        std::fs::write(
            &acl,
            "user ward\ntopic read apheresis/#\n\npattern readwrite apheresis/%u/#\n",
        )
        .unwrap();
        let port = free_port();
        let mut conf = format!(
            "per_listener_settings false\nallow_anonymous false\npersistence false\n\
             password_file {}\nacl_file {}\nlistener {port} 127.0.0.1\n",
            passwords.display(),
            acl.display()
        );
        let tls_port = tls.then(|| {
            make_certificates(dir.path());
            let tls_port = free_port();
            let _ = write!(
                conf,
                "listener {tls_port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\n\
                 keyfile {0}/server.key\n",
                dir.path().display()
            );
            tls_port
        });
        if is_root() {
            conf.push_str("user root\n");
        }
        let conf_path = dir.path().join("mosquitto.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut broker = Broker {
            child: None,
            port,
            tls_port,
            dir,
            conf: conf_path,
        };
        broker.restart();
        broker
    }

    /// Starts mosquitto (again, on the same ports) and waits until it listens.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the broker is running");
        let log = std::fs::File::create(self.dir.path().join("mosquitto.log")).unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("mosquitto must be installed (apt install mosquitto)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in std::iter::once(self.port).chain(self.tls_port) {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not listen on {port}: {}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Stops mosquitto (SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// mosquitto's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// The test CA (with `tls`).
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A CA that did not sign the broker's certificate.
    pub fn other_ca(&self) -> PathBuf {
        self.dir.path().join("other-ca.pem")
    }

    /// `mqtt://USER@127.0.0.1:PORT`.
    pub fn url(&self, user: &str) -> String {
        format!("mqtt://{user}@127.0.0.1:{}", self.port)
    }

    /// `mqtts://USER@127.0.0.1:TLS_PORT`.
    pub fn tls_url(&self, user: &str) -> String {
        format!("mqtts://{user}@127.0.0.1:{}", self.tls_port.unwrap())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA, a server certificate it signed for 127.0.0.1 and localhost, and another CA.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| run(Command::new("openssl").current_dir(dir).args(args));
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=apheresis test {ca}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}

/// The ward's view for the tests: the last payload of every topic under `apheresis/`, and when
/// it came. Resubscribes after the broker comes back.
pub struct Watcher {
    pub last: LastByTopic,
    stop: Arc<AtomicBool>,
    client: Client,
}

impl Watcher {
    pub fn start(port: u16) -> Watcher {
        let mut options = MqttOptions::new(format!("test-ward-{}", free_port()), "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(5))
            .set_credentials(WARD_USER.0, WARD_USER.1);
        let (client, mut connection) = Client::new(options, 64);
        let last: LastByTopic = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        {
            let last = last.clone();
            let stop = stop.clone();
            let client = client.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match connection.recv_timeout(Duration::from_millis(500)) {
                        Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                            let _ = client.try_subscribe("apheresis/#", QoS::AtLeastOnce);
                        }
                        Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                            let topic = String::from_utf8_lossy(&p.topic).into_owned();
                            last.lock()
                                .unwrap()
                                .insert(topic, (p.payload.to_vec(), Instant::now()));
                        }
                        Ok(Ok(_)) | Err(rumqttc::v5::RecvTimeoutError::Timeout) => {}
                        Ok(Err(_)) => std::thread::sleep(Duration::from_millis(100)),
                        Err(rumqttc::v5::RecvTimeoutError::Disconnected) => return,
                    }
                }
            });
        }
        Watcher { last, stop, client }
    }

    /// The last payload on `topic`, as text.
    pub fn text(&self, topic: &str) -> Option<String> {
        self.last
            .lock()
            .unwrap()
            .get(topic)
            .map(|(p, _)| String::from_utf8_lossy(p).into_owned())
    }

    /// When the last message on `topic` came.
    pub fn when(&self, topic: &str) -> Option<Instant> {
        self.last.lock().unwrap().get(topic).map(|(_, t)| *t)
    }

    /// The last JSON payload on `topic`.
    pub fn json(&self, topic: &str) -> Option<serde_json::Value> {
        serde_json::from_str(&self.text(topic)?).ok()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.client.try_disconnect();
    }
}
