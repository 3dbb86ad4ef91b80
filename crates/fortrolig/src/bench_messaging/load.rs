//! The load and the measurements: senders over HTTP, probes on the live channel.
//!
//! A send is `POST /k/{org}/meldinger/{thread}` as the patient (session cookie), a
//! multipart form with the `csrf` and `tekst` fields as the browser sends it; it counts
//! only when the server answers 303 back to the thread, which it does after the message is
//! committed. Anything else is an error. A probe message's delivery time runs from the
//! start of its send to the `samtale` event naming its thread on the probe clinician's
//! stream (`GET /k/{org}/ansatt/strom`); one without an event within 2 s is missed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::{Fixture, ProbePair, Sender};
use crate::commands::CliError;

/// A fixed multipart boundary; the bodies are built by hand.
const BOUNDARY: &str = "fortroligbench0c7e5d2a91f4";
/// Message text length, as the Matrix load generator sends.
const BODY_BYTES: usize = 160;
/// How often each probe patient sends.
const PROBE_EVERY: Duration = Duration::from_millis(100);
/// A probe message not announced within this time is missed.
const PROBE_LIMIT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What to run against.
#[derive(Debug)]
pub(crate) struct Load {
    pub base: String,
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub server_pid: u32,
}

/// What was measured.
#[derive(Debug)]
pub(crate) struct Report {
    measured: Duration,
    latencies: Vec<Duration>,
    errors: u64,
    warmup_sends: u64,
    deliveries: Vec<Duration>,
    missed: u64,
    lagged: u64,
    server_cpu: Option<f64>,
    loadavg: (String, String),
}

/// Counts shared by the senders.
#[derive(Debug, Default)]
struct Counts {
    next: AtomicUsize,
    errors: AtomicU64,
    warmup: AtomicU64,
}

pub(crate) async fn run(load: &Load, fixture: &Fixture) -> Result<Report, CliError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(load.concurrency + 2 * fixture.probes.len() + 4)
        .build()
        .map_err(|e| CliError::Server(format!("HTTP client: {e}")))?;
    let site = Arc::new(Site {
        client,
        base: load.base.clone(),
        org: fixture.org.clone(),
    });
    let loadavg_start = loadavg();
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let stop_at = measure_from + load.duration;

    // The probe clinicians listen first, so that nothing is sent before they do.
    let mut probes = Vec::new();
    for pair in &fixture.probes {
        probes.push(Probe::listen(site.clone(), pair.clone()).await?);
    }

    let counts = Arc::new(Counts::default());
    let senders: Arc<[Sender]> = fixture.senders.clone().into();
    let mut workers = Vec::with_capacity(load.concurrency);
    for _ in 0..load.concurrency {
        let (site, counts, senders) = (site.clone(), counts.clone(), senders.clone());
        workers.push(tokio::spawn(async move {
            worker(&site, &senders, &counts, measure_from, stop_at).await
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_start = cpu_seconds(load.server_pid);
    let mut probe_runs = Vec::new();
    for probe in probes {
        probe_runs.push(tokio::spawn(probe.run(
            site.clone(),
            stop_at,
            counts.clone(),
        )));
    }

    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.map_err(|e| CliError::Server(e.to_string()))?);
    }
    let measured = start.elapsed().saturating_sub(load.warmup);
    let cpu_end = cpu_seconds(load.server_pid);
    let mut deliveries = Vec::new();
    let (mut missed, mut lagged) = (0, 0);
    for run in probe_runs {
        let probed = run.await.map_err(|e| CliError::Server(e.to_string()))?;
        deliveries.extend(probed.deliveries);
        missed += probed.missed;
        lagged += probed.lagged;
    }
    Ok(Report {
        measured,
        latencies,
        errors: counts.errors.load(Ordering::Relaxed),
        warmup_sends: counts.warmup.load(Ordering::Relaxed),
        deliveries,
        missed,
        lagged,
        server_cpu: cpu_start
            .zip(cpu_end)
            .map(|(a, b)| (b - a) / measured.as_secs_f64().max(1e-9)),
        loadavg: (loadavg_start, loadavg()),
    })
}

/// The server and the client that talks to it.
#[derive(Debug)]
struct Site {
    client: reqwest::Client,
    base: String,
    org: String,
}

impl Site {
    /// One message in the sender's thread: `Ok(true)` on the 303 back to the thread.
    async fn send(&self, sender: &Sender, n: usize) -> bool {
        let path = format!("/k/{}/meldinger/{}", self.org, sender.thread);
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("fortrolig_okt={}", sender.token))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(form(&sender.csrf, &text(n)))
            .send()
            .await;
        match response {
            Ok(r) => {
                r.status() == reqwest::StatusCode::SEE_OTHER
                    && r.headers()
                        .get("location")
                        .is_some_and(|l| l.as_bytes() == path.as_bytes())
            }
            Err(_) => false,
        }
    }
}

/// The reply form as a browser posts it (no file chosen).
fn form(csrf: &str, text: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"tekst\"\r\n\r\n{text}\r\n\
         --{BOUNDARY}--\r\n"
    )
}

/// A 160-byte text.
fn text(n: usize) -> String {
    let mut text = format!("Melding {n} fra ytelsestesten: ");
    while text.len() < BODY_BYTES {
        text.push('x');
    }
    text
}

/// One sender: round-robin over the threads (a shared counter) until `stop_at`. Sends
/// started before `measure_from` are warm-up and not counted.
async fn worker(
    site: &Site,
    senders: &[Sender],
    counts: &Counts,
    measure_from: Instant,
    stop_at: Instant,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    loop {
        let started = Instant::now();
        if started >= stop_at {
            return latencies;
        }
        let n = counts.next.fetch_add(1, Ordering::Relaxed);
        let ok = site.send(&senders[n % senders.len()], n).await;
        if !ok {
            counts.errors.fetch_add(1, Ordering::Relaxed);
        } else if started < measure_from {
            counts.warmup.fetch_add(1, Ordering::Relaxed);
        } else {
            latencies.push(started.elapsed());
        }
    }
}

/// A probe pair: its clinician's stream and the sends awaiting their event.
#[derive(Debug)]
struct Probe {
    pair: ProbePair,
    pending: Arc<Mutex<Pending>>,
    listener: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Pending {
    sent: VecDeque<(u64, Instant)>,
    deliveries: Vec<Duration>,
    missed: u64,
    lagged: u64,
}

impl Pending {
    /// The event for the oldest outstanding message arrived at `at`.
    fn arrived(&mut self, at: Instant) {
        while let Some((_, sent)) = self.sent.pop_front() {
            let took = at.saturating_duration_since(sent);
            if took > PROBE_LIMIT {
                self.missed += 1;
            } else {
                self.deliveries.push(took);
                return;
            }
        }
    }
}

#[derive(Debug)]
struct Probed {
    deliveries: Vec<Duration>,
    missed: u64,
    lagged: u64,
}

impl Probe {
    /// Opens the clinician's live stream and reads it in the background.
    async fn listen(site: Arc<Site>, pair: ProbePair) -> Result<Self, CliError> {
        let response = site
            .client
            .get(format!("{}/k/{}/ansatt/strom", site.base, site.org))
            .header("cookie", format!("fortrolig_okt={}", pair.clinician_token))
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| CliError::Server(format!("live stream: {e}")))?;
        let is_stream = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        if !response.status().is_success() || !is_stream {
            return Err(CliError::Server(format!(
                "the probe clinician's live stream answered {}",
                response.status()
            )));
        }
        let pending = Arc::new(Mutex::new(Pending::default()));
        let thread = pair.patient.thread.clone();
        let listener = tokio::spawn(read_stream(response, thread, pending.clone()));
        Ok(Self {
            pair,
            pending,
            listener,
        })
    }

    /// Sends every [`PROBE_EVERY`] until `stop_at`, then waits for the last events.
    async fn run(self, site: Arc<Site>, stop_at: Instant, counts: Arc<Counts>) -> Probed {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seq = 0u64;
        while Instant::now() < stop_at {
            tick.tick().await;
            seq += 1;
            self.pending
                .lock()
                .await
                .sent
                .push_back((seq, Instant::now()));
            if !site
                .send(&self.pair.patient, 1_000_000 + seq as usize)
                .await
            {
                counts.errors.fetch_add(1, Ordering::Relaxed);
                self.pending.lock().await.sent.retain(|(s, _)| *s != seq);
            }
        }
        let deadline = Instant::now() + PROBE_LIMIT;
        while Instant::now() < deadline && !self.pending.lock().await.sent.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.listener.abort();
        let mut pending = self.pending.lock().await;
        let missed = pending.missed + pending.sent.len() as u64;
        Probed {
            deliveries: std::mem::take(&mut pending.deliveries),
            missed,
            lagged: pending.lagged,
        }
    }
}

/// Reads Server-Sent Events; each `samtale` event naming `thread` is a delivery.
async fn read_stream(
    mut response: reqwest::Response,
    thread: String,
    pending: Arc<Mutex<Pending>>,
) {
    let mut buffer = String::new();
    let mut event = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find('\n') {
            let line = buffer[..end].trim_end_matches('\r').to_owned();
            buffer.drain(..=end);
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_owned();
            } else if let Some(data) = line.strip_prefix("data:") {
                match event.as_str() {
                    "samtale" if data.trim() == thread => pending.lock().await.arrived(at),
                    "oppdater" => pending.lock().await.lagged += 1,
                    _ => {}
                }
            } else if line.is_empty() {
                event.clear();
            }
        }
    }
}

/// The server's user + system CPU seconds so far (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Nearest-rank percentile of sorted durations, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

impl Report {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.measured.as_secs_f64().max(1e-9)
    }

    /// Informative lines before the summary.
    pub(crate) fn details(&self) -> Vec<String> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let max = sorted.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let mut lines = vec![
            format!(
                "sends: {} counted in {:.2} s ({} in warm-up), send max {max:.1} ms",
                self.latencies.len(),
                self.measured.as_secs_f64(),
                self.warmup_sends
            ),
            format!(
                "delivery: {} probe messages announced live, {} missed (over {} s), {} lag notice(s)",
                self.deliveries.len(),
                self.missed,
                PROBE_LIMIT.as_secs(),
                self.lagged
            ),
        ];
        if let Some(cores) = self.server_cpu {
            lines.push(format!(
                "server CPU: {cores:.2} cores during the measured time (machine has {}); load average {} at start, {} at end",
                std::thread::available_parallelism().map_or(0, |n| n.get()),
                self.loadavg.0,
                self.loadavg.1
            ));
        }
        lines
    }

    /// The last line, in the exact form.
    pub(crate) fn summary(&self, backend: &str, concurrency: usize, peak_rss_mib: u64) -> String {
        let mut sends = self.latencies.clone();
        sends.sort_unstable();
        let mut deliveries = self.deliveries.clone();
        deliveries.sort_unstable();
        format!(
            "fortrolig {backend} c={concurrency}: {:.0} msg/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, \
             delivery p50 {:.1} ms, p99 {:.1} ms (n={}, missed {}), errors {}, server peak RSS {peak_rss_mib} MiB",
            self.rate(),
            percentile(&sends, 50.0),
            percentile(&sends, 95.0),
            percentile(&sends, 99.0),
            percentile(&deliveries, 50.0),
            percentile(&deliveries, 99.0),
            deliveries.len(),
            self.missed,
            self.errors
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile(&d, 50.0) - 50.0).abs() < 1e-9);
        assert!((percentile(&d, 99.0) - 99.0).abs() < 1e-9);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn a_late_event_counts_the_older_message_as_missed() {
        let now = Instant::now();
        let mut p = Pending::default();
        p.sent.push_back((1, now));
        p.sent.push_back((2, now + Duration::from_secs(3)));
        p.arrived(now + Duration::from_millis(3_010));
        assert_eq!((p.missed, p.deliveries.len()), (1, 1));
        assert_eq!(p.deliveries[0], Duration::from_millis(10));
    }

    #[test]
    fn the_form_has_the_fields_the_server_reads() {
        let body = form("abc", &text(7));
        assert!(body.contains("name=\"csrf\"\r\n\r\nabc\r\n"));
        assert!(body.contains("name=\"tekst\""));
        assert!(body.ends_with(&format!("--{BOUNDARY}--\r\n")));
        assert_eq!(text(7).len(), BODY_BYTES);
    }
}
