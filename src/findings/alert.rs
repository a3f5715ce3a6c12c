//! Alerting for long runs (`faultline watch`): once per problem, then a digest, then recovered.
//! A finding's alert opens the first time it is seen (or seen again after it recovered); while it
//! is open, the lines that keep coming are counted and summed up in a `repeat` digest every
//! interval; a success of its component closes it with `recovered`. The state is plain data with
//! findings named by their [`FindingKey`], so it is saved with a watch's checkpoints and a
//! restart does not open again what was already open.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Aggregation, Delta, FindingKey, Status};

/// What an alert says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A problem started.
    Open,
    /// A problem goes on: the lines since the last alert.
    Repeat,
    /// Its component works again.
    Recovered,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Open, repeat or recovered.
    pub kind: AlertKind,
    /// Which finding.
    pub key: FindingKey,
    /// Failing lines since the previous alert of this finding (the digest's count).
    pub lines: u64,
    /// Over how long, for a digest.
    pub window: Duration,
}

/// An open alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Open {
    key: FindingKey,
    /// Lines since the last alert.
    since_last: u64,
    /// When the last alert (open or digest) of it went out.
    last_alert: Timestamp,
}

/// Which alerts are open, and when each last spoke.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerting {
    open: Vec<Open>,
}

impl Alerting {
    /// The alerts that a block's deltas call for, at wall-clock time `now`.
    pub fn on_deltas(&mut self, deltas: &[Delta], agg: &Aggregation, now: Timestamp) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for d in deltas {
            match d {
                Delta::New { key } => self.open(key, agg, now, &mut alerts),
                Delta::Seen { key, added, .. } => {
                    match self.open.iter_mut().find(|o| &o.key == key) {
                        Some(o) => o.since_last += added,
                        // Seen again after it recovered: a new episode.
                        None => self.open(key, agg, now, &mut alerts),
                    }
                }
                Delta::Status {
                    component,
                    now: Status::Recovered,
                    ..
                } => {
                    let (closed, open): (Vec<Open>, Vec<Open>) = std::mem::take(&mut self.open)
                        .into_iter()
                        .partition(|o| o.key.component == *component);
                    self.open = open;
                    for o in closed {
                        alerts.push(Alert {
                            kind: AlertKind::Recovered,
                            key: o.key,
                            lines: o.since_last,
                            window: Duration::ZERO,
                        });
                    }
                }
                Delta::Status { .. } => {}
            }
        }
        alerts
    }

    fn open(
        &mut self,
        key: &FindingKey,
        agg: &Aggregation,
        now: Timestamp,
        alerts: &mut Vec<Alert>,
    ) {
        if self.open.iter().any(|o| &o.key == key) {
            return;
        }
        // A failure older than its component's last success (lines read out of order across
        // files) does not reopen a recovered component.
        if agg.status(key.component) == Status::Recovered {
            return;
        }
        self.open.push(Open {
            key: key.clone(),
            since_last: 0,
            last_alert: now,
        });
        alerts.push(Alert {
            kind: AlertKind::Open,
            key: key.clone(),
            lines: 1,
            window: Duration::ZERO,
        });
    }

    /// The digests due at `now`: every open alert whose finding had new lines and whose last
    /// alert is at least `interval` old.
    pub fn due(&mut self, now: Timestamp, interval: Duration) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for o in &mut self.open {
            let age = o.last_alert.duration_until(now);
            let age = Duration::try_from(age).unwrap_or_default();
            if o.since_last > 0 && age >= interval {
                alerts.push(Alert {
                    kind: AlertKind::Repeat,
                    key: o.key.clone(),
                    lines: o.since_last,
                    window: age,
                });
                o.since_last = 0;
                o.last_alert = now;
            }
        }
        alerts
    }

    /// How many alerts are open.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Component;

    fn key(cause: &str) -> FindingKey {
        FindingKey {
            component: Component::Export,
            cause: cause.into(),
            fix: None,
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn once_then_a_digest_then_recovered_then_open_again() {
        let agg = Aggregation::default();
        let mut a = Alerting::default();
        let now = t("2025-10-14T09:00:00Z");
        let open = a.on_deltas(
            &[Delta::New {
                key: key("timeout"),
            }],
            &agg,
            now,
        );
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].kind, AlertKind::Open);
        let seen = |added| Delta::Seen {
            key: key("timeout"),
            added,
            count: 0,
        };
        assert!(a.on_deltas(&[seen(10), seen(32)], &agg, now).is_empty());
        // Not due before the interval is over.
        let five = Duration::from_secs(300);
        assert!(a.due(t("2025-10-14T09:04:59Z"), five).is_empty());
        let digest = a.due(t("2025-10-14T09:05:00Z"), five);
        assert_eq!(digest.len(), 1);
        assert_eq!((digest[0].kind, digest[0].lines), (AlertKind::Repeat, 42));
        assert_eq!(digest[0].window, five);
        // No new lines: no digest.
        assert!(a.due(t("2025-10-14T09:20:00Z"), five).is_empty());
        let rec = a.on_deltas(
            &[Delta::Status {
                component: Component::Export,
                was: Status::Failing,
                now: Status::Recovered,
            }],
            &agg,
            now,
        );
        assert_eq!(rec.len(), 1);
        assert_eq!(rec[0].kind, AlertKind::Recovered);
        assert_eq!(a.open_count(), 0);
        // Seen again after recovering: a new episode opens.
        let again = a.on_deltas(&[seen(1)], &agg, now);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].kind, AlertKind::Open);
    }

    #[test]
    fn the_state_round_trips() {
        let mut a = Alerting::default();
        a.on_deltas(
            &[Delta::New { key: key("dns") }],
            &Aggregation::default(),
            t("2025-10-14T09:00:00Z"),
        );
        let text = serde_json::to_string(&a).unwrap();
        let back: Alerting = serde_json::from_str(&text).unwrap();
        assert_eq!(back, a);
        // Restored, the open alert is not opened again.
        let mut back = back;
        assert!(back
            .on_deltas(
                &[Delta::Seen {
                    key: key("dns"),
                    added: 1,
                    count: 2
                }],
                &Aggregation::default(),
                t("2025-10-14T09:01:00Z")
            )
            .is_empty());
    }
}
