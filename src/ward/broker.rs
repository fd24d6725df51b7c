//! The broker a bedside publishes to (and the ward reads from): its URL, the password's
//! sources, the client options, and why a connection failed, named in one line.
//!
//! The password is never written anywhere by this module: [`BrokerUrl`]'s `Debug` and
//! `Display` leave it out, and no [`Failure`] text can hold it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, LastWill};
use rumqttc::v5::{ConnectionError, MqttOptions, StateError};
use rumqttc::{TlsConfiguration, Transport};

use super::topic::Bed;

/// The environment variable a password may come from (so it is not in the process list).
pub const PASSWORD_ENV: &str = "APHERESIS_MQTT_PASSWORD";

/// The keepalive: a bedside that dies is noticed by the broker within 1.5 × this, and its
/// last will (`online` = `false`) published.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(5);

/// `mqtt://USER[:PASS]@HOST:PORT` or `mqtts://…`, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub user: String,
    /// The password written in the URL, if one was (better: `--password-file` or the
    /// environment).
    password: Option<String>,
    pub host: String,
    pub port: u16,
}

/// Why a broker URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the broker URL must start with mqtt:// or mqtts://")]
    Scheme,
    #[error("the broker URL names no user: write mqtt://USER@HOST:PORT (one user per bedside)")]
    MissingUser,
    #[error("the broker URL names no host")]
    EmptyHost,
    #[error("the broker URL's port {0:?} is not a number from 1 to 65535")]
    BadPort(String),
    #[error("the broker URL names no port: write mqtt://USER@HOST:PORT")]
    MissingPort,
}

impl BrokerUrl {
    pub fn parse(text: &str) -> Result<BrokerUrl, UrlError> {
        let text = text.trim();
        let (tls, rest) = if let Some(rest) = text.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(UrlError::Scheme);
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let Some((userinfo, hostport)) = rest.rsplit_once('@') else {
            return Err(UrlError::MissingUser);
        };
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password.to_owned())),
            None => (userinfo, None),
        };
        if user.is_empty() {
            return Err(UrlError::MissingUser);
        }
        let (host, port) = match hostport.rsplit_once(':') {
            // An IPv6 literal is written [::1]:1883.
            Some((host, port)) if !port.contains(']') => (host, port),
            _ => {
                if hostport.is_empty() {
                    return Err(UrlError::EmptyHost);
                }
                return Err(UrlError::MissingPort);
            }
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(UrlError::EmptyHost);
        }
        let port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(UrlError::BadPort(port.to_owned())),
        };
        Ok(BrokerUrl {
            tls,
            user: user.to_owned(),
            password: password.filter(|p| !p.is_empty()),
            host: host.to_owned(),
            port,
        })
    }

    /// Whether the URL itself holds a password.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
}

impl std::fmt::Display for BrokerUrl {
    /// The URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}@{}:{}", self.user, self.host, self.port)
    }
}

impl std::fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BrokerUrl({self})")
    }
}

/// Everything needed to connect: the URL, the password found, the CA for `mqtts`.
#[derive(Clone)]
pub struct BrokerConfig {
    pub url: BrokerUrl,
    password: Option<String>,
    /// The CA certificate(s), PEM, for `mqtts`.
    ca_pem: Option<Vec<u8>>,
    pub keepalive: Duration,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("ca", &self.ca_pem.is_some())
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

/// Why a publishing configuration cannot be used (before any connection is tried).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Url(#[from] UrlError),
    #[error("cannot read the password file {path}: {source}")]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the password file {0} is empty")]
    EmptyPasswordFile(PathBuf),
    #[error("mqtts:// needs the broker's CA certificate: give --ca FILE (PEM)")]
    MissingCa,
    #[error("--ca is for mqtts:// only; this broker URL is mqtt:// (unencrypted)")]
    CaWithoutTls,
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CA file {0} holds no PEM certificate")]
    CaNotPem(PathBuf),
    #[error("{0}")]
    Bed(#[from] super::topic::BedError),
}

impl BrokerConfig {
    /// The URL, the password from (in order) the URL, `password_file` (its first line) or
    /// `env_password` (the caller reads [`PASSWORD_ENV`]), and the CA file for `mqtts`.
    pub fn new(
        url: &str,
        password_file: Option<&Path>,
        env_password: Option<String>,
        ca: Option<&Path>,
    ) -> Result<BrokerConfig, ConfigError> {
        let url = BrokerUrl::parse(url)?;
        let password = if let Some(p) = url.password.clone() {
            Some(p)
        } else if let Some(path) = password_file {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::PasswordFile {
                    path: path.to_owned(),
                    source,
                })?;
            let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
            if first.is_empty() {
                return Err(ConfigError::EmptyPasswordFile(path.to_owned()));
            }
            Some(first.to_owned())
        } else {
            env_password.filter(|p| !p.is_empty())
        };
        let ca_pem = match (url.tls, ca) {
            (true, None) => return Err(ConfigError::MissingCa),
            (false, Some(_)) => return Err(ConfigError::CaWithoutTls),
            (false, None) => None,
            (true, Some(path)) => {
                let pem = std::fs::read(path).map_err(|source| ConfigError::CaFile {
                    path: path.to_owned(),
                    source,
                })?;
                if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                    return Err(ConfigError::CaNotPem(path.to_owned()));
                }
                Some(pem)
            }
        };
        Ok(BrokerConfig {
            url,
            password,
            ca_pem,
            keepalive: DEFAULT_KEEPALIVE,
        })
    }

    /// Whether a password was found.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The MQTT 5 client options: `client_id`, the keepalive, a clean session, the user and
    /// password, TLS with the CA for `mqtts`, and — for a publisher, `will` = its bed — the
    /// last will `apheresis/<bed>/online` = `false`, retained, QoS 1. The ward's subscriber
    /// passes `None`.
    pub fn mqtt_options(&self, client_id: &str, will: Option<&Bed>) -> MqttOptions {
        install_crypto_provider();
        let mut options = MqttOptions::new(client_id, self.url.host.clone(), self.url.port);
        options
            .set_keep_alive(self.keepalive)
            .set_clean_start(true)
            .set_connection_timeout(5)
            .set_credentials(
                self.url.user.clone(),
                self.password.clone().unwrap_or_default(),
            );
        if let Some(bed) = will {
            options.set_last_will(LastWill::new(
                bed.online(),
                "false",
                QoS::AtLeastOnce,
                true,
                None,
            ));
        }
        if let Some(ca) = &self.ca_pem {
            options.set_transport(Transport::Tls(TlsConfiguration::Simple {
                ca: ca.clone(),
                alpn: None,
                client_auth: None,
            }));
        }
        options
    }
}

/// A client id for `bed` unique to this process: `apheresis-<bed>-<pid>`.
pub fn client_id(bed: &Bed) -> String {
    format!("apheresis-{bed}-{}", std::process::id())
}

/// Installs rustls's ring provider for the process (once; a provider already installed is
/// kept).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Why a connection failed or a publish was refused, by kind; its text names which, in one
/// line, for the screen and the command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("wrong user name or password for {user} (not authorised by the broker)")]
    Credentials { user: String },
    #[error("TLS failure with {host}: {detail} (check --ca and the broker's certificate)")]
    Tls { host: String, detail: String },
    #[error("unknown host {host} (DNS lookup failed)")]
    UnknownHost { host: String },
    #[error("connection refused by {host}:{port} (is the broker running?)")]
    Refused { host: String, port: u16 },
    #[error("{host}:{port} unreachable: {detail}")]
    Unreachable {
        host: String,
        port: u16,
        detail: String,
    },
    #[error("refused by the broker's ACL: user {user} may not publish to {topic}")]
    Acl { user: String, topic: String },
    #[error("connection to the broker lost: {detail}")]
    Lost { detail: String },
    #[error("broker connection failed: {detail}")]
    Other { detail: String },
}

impl Failure {
    /// A short name of the kind, for a footer: `wrong password`, `TLS failure`, …
    pub fn short(&self) -> &'static str {
        match self {
            Failure::Credentials { .. } => "wrong user or password",
            Failure::Tls { .. } => "TLS failure",
            Failure::UnknownHost { .. } => "unknown host",
            Failure::Refused { .. } => "connection refused",
            Failure::Unreachable { .. } => "unreachable",
            Failure::Acl { .. } => "refused by the ACL",
            Failure::Lost { .. } => "connection lost",
            Failure::Other { .. } => "connection failed",
        }
    }

    /// Classifies a connection error of the client for `url`. An I/O error that is not a
    /// refusal is taken for a DNS failure when the host does not resolve.
    pub fn classify(error: &ConnectionError, url: &BrokerUrl) -> Failure {
        let host = url.host.clone();
        let port = url.port;
        let one_line = |e: &dyn std::fmt::Display| e.to_string().replace('\n', " ");
        match error {
            ConnectionError::ConnectionRefused(code) => match code {
                ConnectReturnCode::BadUserNamePassword
                | ConnectReturnCode::NotAuthorized
                | ConnectReturnCode::BadAuthenticationMethod
                | ConnectReturnCode::Banned => Failure::Credentials {
                    user: url.user.clone(),
                },
                other => Failure::Other {
                    detail: format!("the broker refused the connection ({other:?})"),
                },
            },
            ConnectionError::Tls(e) => Failure::Tls {
                host,
                detail: tls_detail(e),
            },
            ConnectionError::Io(e) => Failure::from_io(e, url),
            ConnectionError::Timeout(_) => Failure::Unreachable {
                host,
                port,
                detail: "no answer within 5 s".into(),
            },
            ConnectionError::MqttState(StateError::ServerDisconnect { reason_code, .. }) => {
                Failure::Lost {
                    detail: format!("the broker disconnected ({reason_code:?})"),
                }
            }
            ConnectionError::MqttState(StateError::Io(e)) => Failure::Lost {
                detail: one_line(e),
            },
            ConnectionError::MqttState(StateError::ConnectionAborted) => Failure::Lost {
                detail: "closed by the broker".into(),
            },
            other => Failure::Other {
                detail: one_line(other),
            },
        }
    }

    fn from_io(e: &std::io::Error, url: &BrokerUrl) -> Failure {
        use std::io::ErrorKind;
        let host = url.host.clone();
        let port = url.port;
        match e.kind() {
            ErrorKind::ConnectionRefused => Failure::Refused { host, port },
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                Failure::Lost {
                    detail: e.to_string(),
                }
            }
            _ => {
                use std::net::ToSocketAddrs as _;
                if (url.host.as_str(), url.port).to_socket_addrs().is_err() {
                    Failure::UnknownHost { host }
                } else {
                    Failure::Unreachable {
                        host,
                        port,
                        detail: e.to_string(),
                    }
                }
            }
        }
    }
}

/// The TLS error in words: the certificate problem, if it was one.
fn tls_detail(e: &rumqttc::TlsError) -> String {
    if let rumqttc::TlsError::Io(io) = e
        && let Some(inner) = io.get_ref()
    {
        return inner.to_string();
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_parse_or_say_what_is_wrong() {
        let url = BrokerUrl::parse("mqtt://bay1:secret@ward.local:1883").unwrap();
        assert_eq!(
            (url.tls, url.user.as_str(), url.host.as_str(), url.port),
            (false, "bay1", "ward.local", 1883)
        );
        assert!(url.has_password());
        assert_eq!(url.to_string(), "mqtt://bay1@ward.local:1883");
        assert!(!format!("{url:?}").contains("secret"));
        let tls = BrokerUrl::parse("mqtts://bay2@[::1]:8883").unwrap();
        assert_eq!((tls.tls, tls.host.as_str(), tls.port), (true, "::1", 8883));
        assert!(!tls.has_password());
        assert_eq!(
            BrokerUrl::parse("http://a@b:1"),
            Err(UrlError::Scheme),
            "scheme"
        );
        assert_eq!(BrokerUrl::parse("mqtt://b:1"), Err(UrlError::MissingUser));
        assert_eq!(
            BrokerUrl::parse("mqtt://:pw@b:1"),
            Err(UrlError::MissingUser)
        );
        assert_eq!(BrokerUrl::parse("mqtt://a@:1"), Err(UrlError::EmptyHost));
        assert_eq!(
            BrokerUrl::parse("mqtt://a@host"),
            Err(UrlError::MissingPort)
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://a@host:99999"),
            Err(UrlError::BadPort("99999".into()))
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://a@host:0"),
            Err(UrlError::BadPort("0".into()))
        );
    }

    #[test]
    fn the_password_comes_from_the_url_then_the_file_then_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\nsecond line\n").unwrap();
        let from_url =
            BrokerConfig::new("mqtt://a:in-url@h:1", Some(&file), Some("env".into()), None)
                .unwrap();
        assert_eq!(from_url.password.as_deref(), Some("in-url"));
        let from_file =
            BrokerConfig::new("mqtt://a@h:1", Some(&file), Some("env".into()), None).unwrap();
        assert_eq!(from_file.password.as_deref(), Some("from-file"));
        let from_env = BrokerConfig::new("mqtt://a@h:1", None, Some("env".into()), None).unwrap();
        assert_eq!(from_env.password.as_deref(), Some("env"));
        assert!(!format!("{from_env:?}").contains("env\""));
        let none = BrokerConfig::new("mqtt://a@h:1", None, None, None).unwrap();
        assert!(!none.has_password());
        let missing = BrokerConfig::new("mqtt://a@h:1", Some(&dir.path().join("no")), None, None)
            .unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read the password file"),
            "{missing}"
        );
    }

    #[test]
    fn tls_needs_a_pem_ca_and_plain_mqtt_refuses_one() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "hello").unwrap();
        let err = |url: &str, ca: Option<&Path>| {
            BrokerConfig::new(url, None, None, ca)
                .unwrap_err()
                .to_string()
        };
        assert!(err("mqtts://a@h:1", None).contains("--ca"));
        assert!(err("mqtt://a@h:1", Some(&not_pem)).contains("mqtts:// only"));
        assert!(err("mqtts://a@h:1", Some(&not_pem)).contains("holds no PEM certificate"));
    }

    #[test]
    fn publisher_options_carry_the_will_and_the_keepalive() {
        let config = BrokerConfig::new("mqtt://bay1:pw@127.0.0.1:1883", None, None, None).unwrap();
        let bed = Bed::new("bay1").unwrap();
        let options = config.mqtt_options(&client_id(&bed), Some(&bed));
        let will = options.last_will().unwrap();
        assert_eq!(&will.topic[..], b"apheresis/bay1/online");
        assert_eq!(&will.message[..], b"false");
        assert!(will.retain);
        assert_eq!(will.qos, QoS::AtLeastOnce);
        assert_eq!(options.keep_alive(), Duration::from_secs(5));
        assert!(options.clean_start());
        assert!(
            options
                .client_id()
                .starts_with(&format!("apheresis-bay1-{}", std::process::id()))
        );
        assert!(config.mqtt_options("ward", None).last_will().is_none());
    }

    #[test]
    fn failures_are_classified_by_kind() {
        let url = BrokerUrl::parse("mqtt://bay1@localhost:1883").unwrap();
        let refused = ConnectionError::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(
            Failure::classify(&refused, &url).to_string(),
            "connection refused by localhost:1883 (is the broker running?)"
        );
        let bad = ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword);
        assert_eq!(
            Failure::classify(&bad, &url),
            Failure::Credentials {
                user: "bay1".into()
            }
        );
        let unknown = BrokerUrl::parse("mqtt://bay1@no-such-host.invalid:1883").unwrap();
        let io = ConnectionError::Io(std::io::Error::other("failed to lookup address"));
        assert_eq!(
            Failure::classify(&io, &unknown),
            Failure::UnknownHost {
                host: "no-such-host.invalid".into()
            }
        );
    }
}
