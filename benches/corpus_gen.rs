//! The deterministic generator of AutoOps agent logs, shared by `examples/gencorpus.rs` (corpus
//! files of any size) and `benches/micro.rs` (buffers built in-process). Both include it with
//! `#[path = "../benches/corpus_gen.rs"] mod corpus_gen;`, so it is written once.
//!
//! Lines are built as [`Event`]s (level, caller, message, error, fields) and rendered in one of
//! the five envelopes the agent's log arrives in: zap JSON, ECS NDJSON, zap console, Docker
//! json-file around zap JSON, and CRI around zap JSON. The same seed gives the same bytes on every
//! machine: the generator has its own PRNG (splitmix64) and no clock.
//!
//! What a corpus holds (see `benches/README.md`):
//! - healthy lines, weighted as in [`HEALTHY`]: metricset fetches (`fetching X metricset` /
//!   `completed fetching X metricset`, the six 10-second metricsets; the three 24-hour ones at
//!   start-up and rarely), exporter requests and queue statistics, libbeat's 30-second monitoring
//!   line, debug `Preparing to make HTTP request`, lines naming the Elasticsearch, Cloud Connect and
//!   OTLP URLs in healthy context, empty `"error":""` fields, and the traps (`no such file or
//!   directory`, the cloud-metadata probe of 169.254.169.254 being refused);
//! - a start-up block (collector and receiver start, registration, the cloud-metadata probes) at
//!   the top of the file and at every restart;
//! - failure lines, each line independently with probability `failures_percent / 100`, spread over
//!   the three connections (export 40 %, cluster 35 %, registration 20 %) and the agent (5 %), with
//!   the exact strings of `autoops-facts.md` §5–§6.

#![allow(dead_code)]

use std::io::{self, Write};

/// A splitmix64 generator: tiny, fast, and good enough for picking log lines.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for this seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_1e55_f00d_cafe)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// An index drawn by weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// `n` random characters of `alphabet`.
    pub fn token(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| self.pick(alphabet) as char).collect()
    }
}

const HEX: &[u8] = b"0123456789abcdef";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The envelope a line is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"level":"info","ts":"…","caller":"…","msg":"…",…}`
    Zap,
    /// `{"log.level":"info","@timestamp":"…","log.logger":"…","message":"…",…}`
    Ecs,
    /// `<ts>\t<level>\t<caller>\t<msg>\t{fields}`
    Console,
    /// `{"log":"<zap JSON>\n","stream":"stderr","time":"…"}`
    Docker,
    /// `<ts> stderr F <zap JSON>`
    Cri,
}

impl Envelope {
    /// Every envelope, in the order `--envelope mixed` cycles through them.
    pub const ALL: [Envelope; 5] = [
        Envelope::Zap,
        Envelope::Ecs,
        Envelope::Console,
        Envelope::Docker,
        Envelope::Cri,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Envelope::Zap => "zap",
            Envelope::Ecs => "ecs",
            Envelope::Console => "console",
            Envelope::Docker => "docker",
            Envelope::Cri => "cri",
        }
    }
}

/// One envelope for the whole file, or a switch every few thousand lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole file in one envelope (what a real file looks like).
    One(Envelope),
    /// Switch envelope (and restart the agent) every 2 000–8 000 lines.
    Mixed,
}

impl Mode {
    /// Parses `zap|ecs|console|docker|cri|mixed`.
    pub fn parse(s: &str) -> Option<Mode> {
        if s == "mixed" {
            return Some(Mode::Mixed);
        }
        Envelope::ALL
            .iter()
            .find(|e| e.name() == s)
            .map(|&e| Mode::One(e))
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::One(e) => e.name(),
            Mode::Mixed => "mixed",
        }
    }
}

/// A log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// debug
    Debug,
    /// info
    Info,
    /// warn
    Warn,
    /// error
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Which part of the collector logs a line: decides the component fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The `metricbeatreceiver` (the `autoops_es` module).
    Receiver,
    /// The `otlphttp` exporter.
    Exporter,
    /// The collector service itself.
    Service,
}

/// A field value.
#[derive(Debug, Clone)]
pub enum Val {
    /// A string, escaped when rendered.
    Str(String),
    /// Raw JSON: a number, a boolean or an object.
    Raw(String),
}

/// One log line before it is put in an envelope.
#[derive(Debug, Clone)]
pub struct Event {
    /// The level.
    pub level: Level,
    /// Who logs it.
    pub who: Who,
    /// zap's `caller`, `file.go:line`.
    pub caller: &'static str,
    /// The Go function, for ECS `log.origin.function` (empty: none).
    pub func: &'static str,
    /// The ECS `log.logger`.
    pub logger: String,
    /// The message.
    pub msg: String,
    /// The `error` field.
    pub error: Option<String>,
    /// Other fields, in order.
    pub fields: Vec<(&'static str, Val)>,
}

impl Event {
    fn new(level: Level, who: Who, caller: &'static str, logger: &str, msg: String) -> Event {
        Event {
            level,
            who,
            caller,
            func: "",
            logger: logger.to_string(),
            msg,
            error: None,
            fields: Vec::new(),
        }
    }

    fn func(mut self, f: &'static str) -> Event {
        self.func = f;
        self
    }

    fn err(mut self, e: String) -> Event {
        self.error = Some(e);
        self
    }

    fn s(mut self, k: &'static str, v: impl Into<String>) -> Event {
        self.fields.push((k, Val::Str(v.into())));
        self
    }

    fn raw(mut self, k: &'static str, v: impl ToString) -> Event {
        self.fields.push((k, Val::Raw(v.to_string())));
        self
    }
}

/// The connection a failure line concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// agent → Elasticsearch
    Cluster,
    /// agent → Cloud Connect API
    Registration,
    /// agent → AutoOps OTLP endpoint
    Export,
    /// the agent itself
    Agent,
}

impl Conn {
    /// All connections, in the order of [`Stats::failures_by_conn`].
    pub const ALL: [Conn; 4] = [Conn::Cluster, Conn::Registration, Conn::Export, Conn::Agent];

    /// The component name faultline reports.
    pub fn name(self) -> &'static str {
        match self {
            Conn::Cluster => "cluster",
            Conn::Registration => "registration",
            Conn::Export => "export",
            Conn::Agent => "agent",
        }
    }
}

/// What was generated so far.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Bytes, newlines included.
    pub bytes: u64,
    /// Lines.
    pub lines: u64,
    /// Failure lines.
    pub failures: u64,
    /// Failure lines per [`Conn::ALL`].
    pub failures_by_conn: [u64; 4],
    /// Lines per [`Envelope::ALL`].
    pub lines_by_envelope: [u64; 5],
    /// Agent (re)starts, each with its start-up block.
    pub restarts: u64,
}

/// How to generate.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The PRNG seed.
    pub seed: u64,
    /// The envelope(s).
    pub mode: Mode,
    /// The share of failure lines, in percent (0.5 = one line in 200).
    pub failures_percent: f64,
}

const METRICSETS_10S: [&str; 6] = [
    "cat_shards",
    "cluster_health",
    "cluster_settings",
    "license",
    "node_stats",
    "tasks_management",
];
const METRICSETS_24H: [&str; 3] = ["cat_template", "component_template", "index_template"];

fn es_path(metricset: &str) -> &'static str {
    match metricset {
        "cat_shards" => "/_cat/shards?format=json&bytes=b&h=index,shard,prirep,state,docs,store,node,unassigned.reason",
        "cluster_health" => "/_cluster/health?level=indices",
        "cluster_settings" => "/_cluster/settings?include_defaults=true&filter_path=**.cluster.routing,**.cluster.max_shards_per_node",
        "license" => "/_license",
        "node_stats" => "/_nodes/stats/indices,jvm,os,process,thread_pool,fs,transport,http,breaker",
        "tasks_management" => "/_tasks?detailed=true&group_by=none&actions=*search*,*bulk*,*reindex*",
        "cat_template" => "/_cat/templates?format=json",
        "component_template" => "/_component_template",
        "index_template" => "/_index_template",
        _ => "/",
    }
}

const FETCH_FUNC: &str =
    "github.com/elastic/beats/v7/x-pack/metricbeat/module/autoops_es/metricset.(*AutoOpsMetricSet[...]).Fetch";
const REGISTER_FUNC: &str =
    "github.com/elastic/beats/v7/x-pack/metricbeat/module/autoops_es/metricset.(*AutoOpsMetricSet[...]).register";
const CCM_API: &str = "https://api.elastic-cloud.com/api/v1/cloud-connected/clusters";

const ES_HOSTS: [(&str, &str, &str); 5] = [
    ("https", "es01.internal", "10.20.0.15"),
    ("http", "elasticsearch", "172.18.0.3"),
    ("https", "10.20.0.15", "10.20.0.15"),
    ("https", "elasticsearch.prod.example.com", "10.40.3.21"),
    ("http", "localhost", "127.0.0.1"),
];
const REGIONS: [(&str, &str); 8] = [
    ("eu-west-1", "aws"),
    ("us-east-1", "aws"),
    ("us-east-2", "aws"),
    ("ap-northeast-1", "aws"),
    ("eu-central-1", "aws"),
    ("europe-west1", "gcp"),
    ("us-central1", "gcp"),
    ("us-west2", "aws"),
];
const AGENT_VERSIONS: [&str; 4] = ["9.1.4", "9.1.5", "9.2.0", "9.2.5"];
const OTEL_VERSIONS: [&str; 4] = ["v0.130.0", "v0.132.0", "v0.135.0", "v0.137.0"];

/// What stays the same between two restarts: the hosts, ids and logger style.
#[derive(Debug, Clone)]
struct Segment {
    env: Envelope,
    lines_left: u64,
    es_scheme: &'static str,
    es_host: &'static str,
    es_ip: &'static str,
    otel_url: String,
    otel_host: String,
    otel_port: u16,
    cluster_id: String,
    resource_id: String,
    instance_id: String,
    agent_version: &'static str,
    otel_version: &'static str,
    /// zap lines carry `"resource":{…}` (newer collectors).
    resource: bool,
    /// Old field names `kind`/`data_type`/`name` instead of `otelcol.component.*`.
    old_fields: bool,
}

impl Segment {
    fn es_url(&self) -> String {
        format!("{}://{}:9200", self.es_scheme, self.es_host)
    }
}

/// The debug line the receiver writes before it registers the cluster with Cloud Connect.
fn cloud_connect_request(seg: &Segment) -> Event {
    Event::new(
        Level::Debug,
        Who::Receiver,
        "metricset/register.go:160",
        "autoops_es",
        "Sending Cloud Connect request".into(),
    )
    .func(REGISTER_FUNC)
    .s("url", CCM_API)
    .s("cluster_uuid", seg.cluster_id.clone())
}

/// Healthy line kinds and their weights (per mille of the steady-state healthy lines).
pub const HEALTHY: [(&str, u32); 16] = [
    ("fetching X metricset", 210),
    ("completed fetching X metricset", 210),
    ("fetching/completed a 24h metricset", 6),
    ("debug Preparing to make HTTP request (OTLP URL)", 90),
    ("debug Elasticsearch request (ES URL)", 70),
    ("exporter request completed (OTLP URL, \"error\":\"\")", 90),
    ("exporter queue statistics", 60),
    ("debug Publish event", 80),
    ("libbeat Non-zero metrics in the last 30s (long)", 40),
    ("debug batch processor flush", 50),
    (
        "debug Cloud Connect API request (api.elastic-cloud.com)",
        10,
    ),
    ("trap: no such file or directory", 15),
    ("trap: cloud-metadata probe refused (169.254.169.254)", 10),
    ("Elasticsearch node info (ES URL, \"error\":\"\")", 30),
    ("debug HTTP client keep-alive (OTLP host)", 20),
    ("monitoring snapshot written", 9),
];

/// The generator: call [`Generator::next_line`] or [`Generator::write_to`].
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    cfg: Config,
    seg: Segment,
    now_ms: i64,
    pending: Vec<Event>,
    next_metricset: usize,
    stats: Stats,
    zap: Vec<u8>,
    healthy_weights: Vec<u32>,
    mixed_index: usize,
}

/// 2025-10-14T09:14:55Z, in milliseconds.
const START_MS: i64 = 1_760_433_295_000;

impl Generator {
    /// A generator; the same config always gives the same lines.
    pub fn new(cfg: Config) -> Generator {
        let mut rng = Rng::new(cfg.seed);
        let env = match cfg.mode {
            Mode::One(e) => e,
            Mode::Mixed => Envelope::ALL[0],
        };
        let seg = Self::segment(&mut rng, env, cfg.mode);
        let mut g = Generator {
            rng,
            cfg,
            seg,
            now_ms: START_MS,
            pending: Vec::new(),
            next_metricset: 0,
            stats: Stats::default(),
            zap: Vec::with_capacity(4096),
            healthy_weights: HEALTHY.iter().map(|&(_, w)| w).collect(),
            mixed_index: 0,
        };
        g.restart();
        g
    }

    /// What was generated so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn segment(rng: &mut Rng, env: Envelope, mode: Mode) -> Segment {
        let (es_scheme, es_host, es_ip) = rng.pick(&ES_HOSTS);
        let (region, csp) = rng.pick(&REGIONS);
        let (otel_host, otel_port, otel_url) = if rng.chance(0.6) {
            let h = format!("otel-auto-ops.{region}.{csp}.svc.elastic.cloud");
            (h.clone(), 443, format!("https://{h}"))
        } else {
            let h = format!("otel-collector.auto-ops.{region}.{csp}.cloud.elastic.co");
            let port = if rng.chance(0.5) { 4318 } else { 443 };
            (h.clone(), port, format!("https://{h}:{port}"))
        };
        let lines_left = match mode {
            Mode::Mixed => rng.range(2_000, 8_000),
            Mode::One(_) => rng.range(50_000, 200_000),
        };
        let uuid = |rng: &mut Rng| {
            format!(
                "{}-{}-{}-{}-{}",
                rng.token(HEX, 8),
                rng.token(HEX, 4),
                rng.token(HEX, 4),
                rng.token(HEX, 4),
                rng.token(HEX, 12)
            )
        };
        let old_fields = rng.chance(0.1);
        let resource = !old_fields && rng.chance(0.5);
        Segment {
            env,
            lines_left,
            es_scheme,
            es_host,
            es_ip,
            otel_url,
            otel_host,
            otel_port,
            cluster_id: rng.token(B64URL, 22),
            resource_id: rng.token(HEX, 32),
            instance_id: uuid(rng),
            agent_version: rng.pick(&AGENT_VERSIONS),
            otel_version: rng.pick(&OTEL_VERSIONS),
            resource,
            old_fields,
        }
    }

    /// The agent (re)starts: in mixed mode with a new envelope and new hosts.
    fn restart(&mut self) {
        match self.cfg.mode {
            Mode::Mixed => {
                if self.stats.restarts > 0 {
                    self.mixed_index = (self.mixed_index + 1) % Envelope::ALL.len();
                    self.seg = Self::segment(
                        &mut self.rng,
                        Envelope::ALL[self.mixed_index],
                        self.cfg.mode,
                    );
                }
            }
            Mode::One(_) => {
                self.seg.lines_left = self.rng.range(50_000, 200_000);
            }
        }
        self.stats.restarts += 1;
        let block = self.startup_block();
        // Popped from the end.
        self.pending = block.into_iter().rev().collect();
    }

    /// Appends one line (with its newline) to `out`; returns whether it is a failure line.
    pub fn next_line(&mut self, out: &mut Vec<u8>) -> bool {
        if self.seg.lines_left == 0 {
            self.restart();
        }
        self.seg.lines_left -= 1;
        let failing = self.rng.chance(self.cfg.failures_percent / 100.0);
        let event = if failing {
            self.now_ms += self.rng.range(1, 400) as i64;
            let (conn, ev) = self.failure();
            self.stats.failures += 1;
            self.stats.failures_by_conn[conn as usize] += 1;
            ev
        } else if let Some(ev) = self.pending.pop() {
            self.now_ms += self.rng.range(0, 40) as i64;
            ev
        } else {
            self.now_ms += self.rng.range(1, 800) as i64;
            self.healthy()
        };
        let start = out.len();
        self.render(&event, out);
        out.push(b'\n');
        self.stats.bytes += (out.len() - start) as u64;
        self.stats.lines += 1;
        self.stats.lines_by_envelope[self.seg.env as usize] += 1;
        failing
    }

    /// Appends whole lines to `out` until it holds at least `len` bytes.
    pub fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        while out.len() < len {
            self.next_line(out);
        }
    }

    /// Writes whole lines to `w` until the next one would pass `size` bytes.
    pub fn write_to<W: Write>(&mut self, w: &mut W, size: u64) -> io::Result<()> {
        let mut line = Vec::with_capacity(4096);
        let mut written = 0u64;
        loop {
            line.clear();
            let before = self.stats.clone();
            self.next_line(&mut line);
            if written + line.len() as u64 > size {
                self.stats = before;
                return Ok(());
            }
            w.write_all(&line)?;
            written += line.len() as u64;
        }
    }

    fn metricset(&mut self) -> &'static str {
        let m = METRICSETS_10S[self.next_metricset % METRICSETS_10S.len()];
        self.next_metricset += 1;
        m
    }

    fn fetch_event(&self, metricset: &'static str, completed: bool) -> Event {
        let (caller, msg) = if completed {
            (
                "metricset/metricset.go:122",
                format!("completed fetching {metricset} metricset"),
            )
        } else {
            (
                "metricset/metricset.go:90",
                format!("fetching {metricset} metricset"),
            )
        };
        Event::new(
            Level::Info,
            Who::Receiver,
            caller,
            &format!("autoops_es.{metricset}"),
            msg,
        )
        .func(FETCH_FUNC)
    }

    fn healthy(&mut self) -> Event {
        let kind = self.rng.weighted(&self.healthy_weights);
        let seg = &self.seg;
        match kind {
            0 => {
                let m = self.metricset();
                self.fetch_event(m, false)
            }
            1 => {
                let m = METRICSETS_10S[(self.next_metricset + 5) % 6];
                self.fetch_event(m, true)
            }
            2 => {
                let m = self.rng.pick(&METRICSETS_24H);
                let completed = self.rng.chance(0.5);
                self.fetch_event(m, completed)
            }
            3 => Event::new(
                Level::Debug,
                Who::Exporter,
                otlp_caller(seg.otel_version),
                "otlphttp",
                "Preparing to make HTTP request".into(),
            )
            .s("url", format!("{}/v1/logs", seg.otel_url)),
            4 => {
                let m = self.rng.pick(&METRICSETS_10S);
                let took = self.rng.range(3, 900);
                Event::new(
                    Level::Debug,
                    Who::Receiver,
                    "helper/http.go:118",
                    &format!("autoops_es.{m}"),
                    format!(
                        "GET {}{} completed with status 200 OK",
                        seg.es_url(),
                        es_path(m)
                    ),
                )
                .raw("took_ms", took)
                .raw("response_bytes", self.rng.range(600, 4_000_000))
            }
            5 => {
                let records = self.rng.range(1, 400);
                let ms = self.rng.range(40, 900);
                let frac = self.rng.below(10);
                Event::new(
                    Level::Info,
                    Who::Exporter,
                    otlp_caller(seg.otel_version),
                    "otlphttp",
                    "Export request completed".into(),
                )
                .s("url", format!("{}/v1/logs", seg.otel_url))
                .raw("status_code", 200)
                .raw("log_records", records)
                .s("duration", format!("{ms}.{frac}ms"))
                .s("error", "")
            }
            6 => {
                let size = self.rng.range(0, 2_000_000);
                Event::new(
                    Level::Info,
                    Who::Exporter,
                    "exporterhelper/internal/queue_sender.go:88",
                    "otlphttp",
                    "Sending queue statistics".into(),
                )
                .raw("queue_size", size)
                .raw("queue_capacity", 52_428_800)
                .s("sizer", "bytes")
                .raw("block_on_overflow", true)
                .raw("batches_in_flight", self.rng.range(0, 4))
            }
            7 => {
                let m = self.rng.pick(&METRICSETS_10S);
                Event::new(
                    Level::Debug,
                    Who::Receiver,
                    "pipeline/client.go:122",
                    "publisher",
                    "Publish event".into(),
                )
                .s("metricset", m)
                .raw("events", self.rng.range(1, 300))
                .s("cluster_uuid", seg.cluster_id.clone())
            }
            8 => self.monitoring(),
            9 => Event::new(
                Level::Debug,
                Who::Service,
                "batchprocessor/batch_processor.go:262",
                "batch",
                "Flushing batch".into(),
            )
            .raw("batch_size", self.rng.range(1, 8192))
            .s(
                "trigger",
                if self.rng.chance(0.5) {
                    "timeout"
                } else {
                    "size"
                },
            )
            .s("otelcol.pipeline.id", "logs"),
            10 => cloud_connect_request(seg),
            11 => {
                let path = self.rng.pick(&[
                    "/sys/fs/cgroup/cpuacct/cpuacct.usage",
                    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                    "/usr/share/elastic-agent/data/registry/filebeat/meta.json",
                ]);
                Event::new(
                    Level::Info,
                    Who::Receiver,
                    "cgroup/reader.go:131",
                    "cgroup",
                    "Skipping cgroup v1 controller, falling back to cgroup v2".into(),
                )
                .err(format!("open {path}: no such file or directory"))
            }
            12 => self.metadata_probe(),
            13 => Event::new(
                Level::Info,
                Who::Receiver,
                "elasticsearch/elasticsearch.go:412",
                "autoops_es",
                format!("Connected to Elasticsearch at {}", seg.es_url()),
            )
            .s("cluster_uuid", seg.cluster_id.clone())
            .s("es_version", "8.15.3")
            .s("error", ""),
            14 => Event::new(
                Level::Debug,
                Who::Exporter,
                "confighttp/clientinfohandler.go:58",
                "otlphttp",
                "Reusing idle HTTP connection".into(),
            )
            .s("host", format!("{}:{}", seg.otel_host, seg.otel_port))
            .raw("idle_conns", self.rng.range(0, 4)),
            _ => Event::new(
                Level::Info,
                Who::Receiver,
                "monitoring/snapshot.go:77",
                "monitoring",
                "Wrote state snapshot".into(),
            )
            .s(
                "path",
                "/usr/share/elastic-agent/data/elastic-agent-1f2e3d/run/metricbeat/state.json",
            )
            .raw("bytes", self.rng.range(1_000, 90_000)),
        }
    }

    fn metadata_probe(&mut self) -> Event {
        let which = self.rng.below(3) as usize;
        self.metadata_probe_of(which)
    }

    fn metadata_probe_of(&self, which: usize) -> Event {
        let (provider, url, err) = [
            (
                "aws",
                "http://169.254.169.254/2014-02-25/dynamic/instance-identity/document",
                "dial tcp 169.254.169.254:80: connect: connection refused",
            ),
            (
                "openstack",
                "http://169.254.169.254/2009-04-04/meta-data/instance-id",
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            ),
            (
                "azure",
                "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01",
                "dial tcp 169.254.169.254:80: connect: connection refused",
            ),
        ][which % 3];
        Event::new(
            Level::Warn,
            Who::Receiver,
            "add_cloud_metadata/providers.go:182",
            "add_cloud_metadata",
            format!(
                "add_cloud_metadata: received error for provider {provider}: failed requesting {provider} metadata: Get \"{url}\": {err}"
            ),
        )
        .func("github.com/elastic/beats/v7/libbeat/processors/add_cloud_metadata.(*addCloudMetadata).fetchMetadata")
    }

    fn monitoring(&mut self) -> Event {
        let r = &mut self.rng;
        let obj = format!(
            concat!(
                "{{\"metrics\":{{\"beat\":{{\"cpu\":{{\"system\":{{\"ticks\":{},\"time\":{{\"ms\":{}}}}},",
                "\"total\":{{\"ticks\":{},\"time\":{{\"ms\":{}}},\"value\":{}}}}},",
                "\"memstats\":{{\"gc_next\":{},\"memory_alloc\":{},\"memory_total\":{},\"rss\":{}}},",
                "\"runtime\":{{\"goroutines\":{}}}}},",
                "\"libbeat\":{{\"output\":{{\"events\":{{\"acked\":{},\"active\":0,\"batches\":{},\"total\":{}}}}},",
                "\"pipeline\":{{\"clients\":6,\"events\":{{\"active\":0,\"published\":{},\"total\":{}}},",
                "\"queue\":{{\"acked\":{},\"max_events\":3200}}}}}},",
                "\"system\":{{\"load\":{{\"1\":{}.{:02},\"15\":0.{:02},\"5\":0.{:02},\"norm\":{{\"1\":0.{:02}}}}}}}}}}}"
            ),
            r.range(1_000, 90_000),
            r.range(0, 200),
            r.range(10_000, 900_000),
            r.range(0, 900),
            r.range(10_000, 900_000),
            r.range(10_000_000, 90_000_000),
            r.range(10_000_000, 90_000_000),
            r.range(100_000_000, 9_000_000_000),
            r.range(100_000_000, 400_000_000),
            r.range(40, 140),
            r.range(10, 900),
            r.range(1, 30),
            r.range(10, 900),
            r.range(10, 900),
            r.range(10, 900),
            r.range(10, 900),
            r.range(0, 3),
            r.range(0, 100),
            r.range(0, 100),
            r.range(0, 100),
            r.range(0, 100),
        );
        Event::new(
            Level::Info,
            Who::Receiver,
            "log/log.go:195",
            "monitoring",
            "Non-zero metrics in the last 30s".into(),
        )
        .func("github.com/elastic/beats/v7/libbeat/monitoring/report/log.(*reporter).logSnapshot")
        .raw("monitoring", obj)
    }

    fn startup_block(&mut self) -> Vec<Event> {
        let seg = self.seg.clone();
        let svc = |msg: &str| {
            Event::new(
                Level::Info,
                Who::Service,
                "service@v0.132.0/service.go:258",
                "otel",
                msg.to_string(),
            )
        };
        let rcv = |level: Level, caller: &'static str, logger: &str, msg: String| {
            Event::new(level, Who::Receiver, caller, logger, msg)
        };
        let mut block = vec![
            svc("Setting up own telemetry..."),
            svc("Starting elastic-otel-collector...")
                .s("Version", seg.agent_version)
                .raw("NumCPU", 2),
            svc("Starting extensions..."),
            rcv(
                Level::Info,
                "instance/beat.go:1091",
                "beat",
                "Home path: [/usr/share/elastic-agent] Config path: [/usr/share/elastic-agent] Data path: [/usr/share/elastic-agent/data] Logs path: [/usr/share/elastic-agent/logs]".into(),
            ),
            rcv(
                Level::Info,
                "instance/beat.go:1099",
                "beat",
                format!("Beat ID: {}", seg.instance_id),
            ),
            rcv(
                Level::Info,
                "add_docker_metadata/add_docker_metadata.go:113",
                "add_docker_metadata",
                "add_docker_metadata: docker environment not detected: stat /var/run/docker.sock: no such file or directory".into(),
            ),
        ];
        for which in 0..3 {
            block.push(self.metadata_probe_of(which));
        }
        block.push(rcv(
            Level::Info,
            "add_cloud_metadata/add_cloud_metadata.go:102",
            "add_cloud_metadata",
            "add_cloud_metadata: hosting provider type not detected.".into(),
        ));
        block.push(
            Event::new(
                Level::Info,
                Who::Exporter,
                otlp_caller(seg.otel_version),
                "otlphttp",
                "Starting exporter".into(),
            )
            .s("endpoint", seg.otel_url.clone()),
        );
        block.push(
            rcv(
                Level::Debug,
                "metricset/register.go:98",
                "autoops_es",
                "Attempting to get cluster info for Cloud Connect...".into(),
            )
            .func(REGISTER_FUNC),
        );
        block.push(cloud_connect_request(&seg));
        block.push(
            rcv(
                Level::Info,
                "metricset/register.go:213",
                "autoops_es",
                format!(
                    "Registered cluster {} for Cloud Connect: {}",
                    seg.cluster_id, seg.resource_id
                ),
            )
            .func(REGISTER_FUNC),
        );
        block.push(svc("Starting pipelines...").s("otelcol.pipeline.id", "logs"));
        block.push(svc("Pipeline is starting...").s("otelcol.pipeline.id", "logs"));
        block.push(svc("Pipeline is started.").s("otelcol.pipeline.id", "logs"));
        block.push(svc(
            "Everything is ready. Begin running and processing data.",
        ));
        for m in METRICSETS_24H {
            block.push(self.fetch_event(m, false));
            block.push(self.fetch_event(m, true));
        }
        block
    }

    /// A failure line: the connection it concerns and the event.
    fn failure(&mut self) -> (Conn, Event) {
        let conn = Conn::ALL[self.rng.weighted(&[35, 20, 40, 5])];
        let ev = match conn {
            Conn::Cluster => self.cluster_failure(),
            Conn::Registration => self.registration_failure(),
            Conn::Export => self.export_failure(),
            Conn::Agent => self.agent_failure(),
        };
        (conn, ev)
    }

    /// A Go network error on the way to `host` (`ip`:`port`).
    fn net_error(&mut self, host: &str, ip: &str, port: u16) -> String {
        match self.rng.below(11) {
            0 => format!("dial tcp: lookup {host} on 127.0.0.11:53: no such host"),
            1 => format!("dial tcp: lookup {host}: Temporary failure in name resolution"),
            2 => format!("dial tcp {ip}:{port}: connect: connection refused"),
            3 => format!("dial tcp {ip}:{port}: i/o timeout"),
            4 => "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".into(),
            5 => "proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused".into(),
            6 => "Proxy Authentication Required".into(),
            7 => "tls: failed to verify certificate: x509: certificate signed by unknown authority".into(),
            8 => format!("tls: failed to verify certificate: x509: certificate is valid for *.corp.example.com, corp.example.com, not {host}"),
            9 => format!(
                "read tcp 172.17.0.2:{}->{ip}:{port}: read: connection reset by peer",
                self.rng.range(32_768, 61_000)
            ),
            _ => format!("dial tcp {ip}:{port}: connect: no route to host"),
        }
    }

    fn cluster_failure(&mut self) -> Event {
        let m = self.rng.pick(&METRICSETS_10S);
        let url = self.seg.es_url();
        let (host, ip) = (self.seg.es_host, self.seg.es_ip);
        let wrapper = if self.rng.chance(0.5) {
            format!("failed to get data, {m} metricset")
        } else {
            format!("failed to get cluster info from cluster, {m} metricset")
        };
        let path = if wrapper.starts_with("failed to get data") {
            es_path(m)
        } else {
            "/"
        };
        if self.rng.chance(0.05) {
            return Event::new(
                Level::Error,
                Who::Receiver,
                "metricset/cluster_info.go:71",
                "autoops_es",
                "cluster ID is unset, which means the cluster is not ready".into(),
            );
        }
        let msg = match self.rng.below(20) {
            0..=13 => {
                let e = self.net_error(host, ip, 9200);
                format!("{wrapper} error making http request: Get \"{url}{path}\": {e}: HTTP error failed to send request")
            }
            14..=15 => {
                let status = self.rng.pick(&[
                    "401 Unauthorized",
                    "403 Forbidden",
                    "502 Bad Gateway",
                    "504 Gateway Timeout",
                ]);
                format!("{wrapper} failed to fetch data: HTTP error {status}")
            }
            16..=18 => format!("{wrapper} error making http request: Get \"{url}{path}\": tls: failed to verify certificate: x509: certificate signed by unknown authority: HTTP error failed to send request"),
            _ => {
                let (code, status) = self.rng.pick(&[
                    (401, "401 Unauthorized"),
                    (403, "403 Forbidden"),
                    (404, "404 Not Found"),
                ]);
                return Event::new(
                    Level::Error,
                    Who::Receiver,
                    "metricset/cluster_info.go:58",
                    "autoops_es",
                    format!("autoops agent can't fetch the metrics due to http error! Code: {code}, Status: {status}"),
                );
            }
        };
        Event::new(
            Level::Error,
            Who::Receiver,
            if path == "/" {
                "metricset/metricset.go:98"
            } else {
                "metricset/metricset.go:104"
            },
            &format!("autoops_es.{m}"),
            msg,
        )
        .func(FETCH_FUNC)
    }

    fn registration_failure(&mut self) -> Event {
        let wrapper = self.rng.pick(&[
            "failed to register Cloud Connected Mode: failed to register for Cloud Connected Mode",
            "failed to register Cloud Connected Mode",
            "error communicating with Cloud Connect API",
        ]);
        let msg = match self.rng.below(20) {
            0..=14 => {
                let e = self.net_error("api.elastic-cloud.com", "35.190.23.11", 443);
                format!("{wrapper}: Post \"{CCM_API}\": {e}: HTTP error failed to send request")
            }
            15..=17 => {
                let status =
                    self
                        .rng
                        .pick(&["401 Unauthorized", "403 Forbidden", "503 Service Unavailable"]);
                format!("{wrapper}: failed to fetch data: HTTP error {status}")
            }
            18 => "failed to register Cloud Connected Mode: cluster license type is not supported: basic".into(),
            19 if self.rng.chance(0.5) => "failed to enable AutoOps because cluster version is not supported: 7.16.3 < 7.17.0".into(),
            _ => "failed to register Cloud Connected Mode: cluster license is not active: expired".into(),
        };
        Event::new(
            Level::Error,
            Who::Receiver,
            "metricset/metricset.go:71",
            "autoops_es",
            msg,
        )
        .func(REGISTER_FUNC)
    }

    fn export_failure(&mut self) -> Event {
        let url = format!("{}/v1/logs", self.seg.otel_url);
        let host = self.seg.otel_host.clone();
        let port = self.seg.otel_port;
        let exporter = |level: Level, caller: &'static str, msg: &str| {
            Event::new(level, Who::Exporter, caller, "otlphttp", msg.to_string())
        };
        match self.rng.below(20) {
            0..=6 => {
                let e = self.net_error(&host, "34.120.45.6", port);
                exporter(
                    Level::Error,
                    "internal/queue_sender.go:49",
                    "Exporting failed. Dropping data.",
                )
                .err(format!(
                    "no more retries left: failed to make an HTTP request: Post \"{url}\": {e}"
                ))
                .raw("dropped_items", self.rng.range(1, 2048))
            }
            7..=11 => {
                let status = self.rng.pick(&[429, 502, 503, 503, 504]);
                let interval = self.rng.range(10, 300);
                exporter(
                    Level::Info,
                    "internal/retry_sender.go:133",
                    "Exporting failed. Will retry the request after interval.",
                )
                .err(format!("rpc error: code = Unavailable desc = error exporting items, request to {url} responded with HTTP Status Code {status}"))
                .s("interval", format!("{}.{}s", interval / 10, interval % 10))
            }
            12..=13 => {
                let e = self.net_error(&host, "34.120.45.6", port);
                let interval = self.rng.range(10, 300);
                exporter(
                    Level::Info,
                    "internal/retry_sender.go:133",
                    "Exporting failed. Will retry the request after interval.",
                )
                .err(format!(
                    "failed to make an HTTP request: Post \"{url}\": {e}"
                ))
                .s("interval", format!("{}.{}s", interval / 10, interval % 10))
            }
            14..=15 => exporter(
                Level::Error,
                "exporterhelper/common.go:296",
                "Exporting failed. Rejecting data.",
            )
            .err("sending queue is full".into())
            .raw("rejected_items", self.rng.range(1, 4096)),
            _ => {
                let (code, status) = self.rng.pick(&[
                    ("Unauthenticated", 401),
                    ("PermissionDenied", 403),
                    ("Unavailable", 503),
                ]);
                exporter(
                    Level::Error,
                    "internal/queue_sender.go:49",
                    "Exporting failed. Dropping data.",
                )
                .err(format!("not retryable error: Permanent error: rpc error: code = {code} desc = error exporting items, request to {url} responded with HTTP Status Code {status}"))
                .raw("dropped_items", self.rng.range(1, 2048))
            }
        }
    }

    fn agent_failure(&mut self) -> Event {
        let (key, expected, got) = self.rng.pick(&[
            ("metricbeat.modules.0.hosts.0", "object", "string"),
            (
                "metricbeat.modules.1.ssl.certificate_authorities",
                "string",
                "[]string",
            ),
            ("metricbeat.modules.0.ccm.api_key", "object", "string"),
        ]);
        Event::new(
            Level::Error,
            Who::Service,
            "service@v0.132.0/service.go:189",
            "otel",
            "Failed to create receiver".into(),
        )
        .err(format!(
            "can not convert '{expected}' into '{got}' accessing '{key}' (source:'elastic-agent.yml')"
        ))
        .s("otelcol.component.id", "metricbeatreceiver")
    }

    /// Renders `ev` in the segment's envelope, stamped with the current time.
    fn render(&mut self, ev: &Event, out: &mut Vec<u8>) {
        let sub_ms_ns = self.rng.below(1_000_000) as u32;
        render(
            ev,
            self.seg.env,
            &self.seg,
            self.now_ms,
            sub_ms_ns,
            &mut self.zap,
            out,
        );
    }
}

fn otlp_caller(version: &str) -> &'static str {
    match version {
        "v0.130.0" => "otlphttpexporter@v0.130.0/otlp.go:181",
        "v0.132.0" => "otlphttpexporter@v0.132.0/otlp.go:183",
        "v0.135.0" => "otlphttpexporter@v0.135.0/otlp.go:190",
        _ => "otlphttpexporter@v0.137.0/otlp.go:190",
    }
}

fn render(
    ev: &Event,
    env: Envelope,
    seg: &Segment,
    ms: i64,
    sub_ms_ns: u32,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    match env {
        Envelope::Zap => render_zap(ev, seg, ms, out),
        Envelope::Ecs => render_ecs(ev, ms, out),
        Envelope::Console => render_console(ev, seg, ms, out),
        Envelope::Docker => {
            scratch.clear();
            render_zap(ev, seg, ms, scratch);
            scratch.push(b'\n');
            out.extend_from_slice(b"{\"log\":\"");
            escape(scratch, true, out);
            out.extend_from_slice(b"\",\"stream\":\"stderr\",\"time\":\"");
            push_ts(out, ms, Some(sub_ms_ns));
            out.extend_from_slice(b"\"}");
        }
        Envelope::Cri => {
            push_ts(out, ms, Some(sub_ms_ns));
            out.extend_from_slice(b" stderr F ");
            render_zap(ev, seg, ms, out);
        }
    }
}

fn component_fields(ev: &Event, seg: &Segment) -> &'static [(&'static str, &'static str)] {
    match (ev.who, seg.old_fields) {
        (Who::Receiver, false) => &[
            ("otelcol.component.id", "metricbeatreceiver"),
            ("otelcol.component.kind", "receiver"),
            ("otelcol.signal", "logs"),
        ],
        (Who::Exporter, false) => &[
            ("otelcol.component.id", "otlphttp"),
            ("otelcol.component.kind", "exporter"),
            ("otelcol.signal", "logs"),
        ],
        (Who::Receiver, true) => &[
            ("kind", "receiver"),
            ("name", "metricbeatreceiver"),
            ("data_type", "logs"),
        ],
        (Who::Exporter, true) => &[
            ("kind", "exporter"),
            ("data_type", "logs"),
            ("name", "otlphttp"),
        ],
        (Who::Service, _) => &[],
    }
}

fn render_zap(ev: &Event, seg: &Segment, ms: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"level\":\"");
    out.extend_from_slice(ev.level.name().as_bytes());
    out.extend_from_slice(b"\",\"ts\":\"");
    push_ts(out, ms, None);
    out.extend_from_slice(b"\",\"caller\":\"");
    out.extend_from_slice(ev.caller.as_bytes());
    out.extend_from_slice(b"\",\"msg\":\"");
    escape(ev.msg.as_bytes(), false, out);
    out.push(b'"');
    if seg.resource {
        out.extend_from_slice(b",\"resource\":{\"service.instance.id\":\"");
        out.extend_from_slice(seg.instance_id.as_bytes());
        out.extend_from_slice(
            b"\",\"service.name\":\"elastic-otel-collector\",\"service.version\":\"",
        );
        out.extend_from_slice(seg.agent_version.as_bytes());
        out.extend_from_slice(b"\"}");
    }
    for (k, v) in component_fields(ev, seg) {
        push_str_field(out, k, v.as_bytes(), false);
    }
    if let Some(e) = &ev.error {
        push_str_field(out, "error", e.as_bytes(), false);
    }
    push_fields(out, &ev.fields, false);
    out.push(b'}');
}

fn render_ecs(ev: &Event, ms: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"log.level\":\"");
    out.extend_from_slice(ev.level.name().as_bytes());
    out.extend_from_slice(b"\",\"@timestamp\":\"");
    push_ts(out, ms, None);
    out.extend_from_slice(b"\",\"log.logger\":\"");
    escape(ev.logger.as_bytes(), false, out);
    out.extend_from_slice(b"\",\"log.origin\":{");
    if !ev.func.is_empty() {
        out.extend_from_slice(b"\"function\":\"");
        out.extend_from_slice(ev.func.as_bytes());
        out.extend_from_slice(b"\",");
    }
    let (file, line) = ev.caller.rsplit_once(':').unwrap_or((ev.caller, "0"));
    out.extend_from_slice(b"\"file.name\":\"");
    out.extend_from_slice(file.as_bytes());
    out.extend_from_slice(b"\",\"file.line\":");
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"},\"message\":\"");
    escape(ev.msg.as_bytes(), false, out);
    out.push(b'"');
    if let Some(e) = &ev.error {
        push_str_field(out, "error.message", e.as_bytes(), false);
    }
    push_fields(out, &ev.fields, false);
    match ev.who {
        Who::Receiver => out.extend_from_slice(b",\"service.name\":\"metricbeat\""),
        Who::Exporter => out.extend_from_slice(
            b",\"service.name\":\"elastic-otel-collector\",\"otelcol.component.id\":\"otlphttp\"",
        ),
        Who::Service => out.extend_from_slice(b",\"service.name\":\"elastic-otel-collector\""),
    }
    out.extend_from_slice(b",\"ecs.version\":\"1.6.0\"}");
}

fn render_console(ev: &Event, seg: &Segment, ms: i64, out: &mut Vec<u8>) {
    push_ts(out, ms, None);
    out.push(b'\t');
    out.extend_from_slice(ev.level.name().as_bytes());
    out.push(b'\t');
    out.extend_from_slice(ev.caller.as_bytes());
    out.push(b'\t');
    out.extend_from_slice(ev.msg.as_bytes());
    let comp = component_fields(ev, seg);
    if comp.is_empty() && ev.error.is_none() && ev.fields.is_empty() {
        return;
    }
    // zap's console encoder writes the fields as JSON with a space after ':' and ','.
    out.extend_from_slice(b"\t{");
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !first {
            out.extend_from_slice(b", ");
        }
        first = false;
    };
    for (k, v) in comp {
        sep(out);
        push_kv(out, k, v.as_bytes(), true);
    }
    if let Some(e) = &ev.error {
        sep(out);
        push_kv(out, "error", e.as_bytes(), true);
    }
    for (k, v) in &ev.fields {
        sep(out);
        match v {
            Val::Str(s) => push_kv(out, k, s.as_bytes(), true),
            Val::Raw(r) => {
                out.push(b'"');
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"\": ");
                out.extend_from_slice(r.as_bytes());
            }
        }
    }
    out.push(b'}');
}

fn push_kv(out: &mut Vec<u8>, k: &str, v: &[u8], spaced: bool) {
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(if spaced { b"\": \"" } else { b"\":\"" });
    escape(v, false, out);
    out.push(b'"');
}

fn push_str_field(out: &mut Vec<u8>, k: &str, v: &[u8], spaced: bool) {
    out.push(b',');
    push_kv(out, k, v, spaced);
}

fn push_fields(out: &mut Vec<u8>, fields: &[(&'static str, Val)], spaced: bool) {
    for (k, v) in fields {
        match v {
            Val::Str(s) => push_str_field(out, k, s.as_bytes(), spaced),
            Val::Raw(r) => {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"\":");
                out.extend_from_slice(r.as_bytes());
            }
        }
    }
}

/// JSON string escaping; `html` adds Go's `\u003c`/`\u003e`/`\u0026` (Docker's json-file driver).
fn escape(s: &[u8], html: bool, out: &mut Vec<u8>) {
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'<' if html => out.extend_from_slice(b"\\u003c"),
            b'>' if html => out.extend_from_slice(b"\\u003e"),
            b'&' if html => out.extend_from_slice(b"\\u0026"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
}

/// `2025-10-14T09:15:03.512Z`, or with nanoseconds (`.512345678Z`) when `sub_ms_ns` is given.
fn push_ts(out: &mut Vec<u8>, ms: i64, sub_ms_ns: Option<u32>) {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
    push_num(out, year, 4);
    out.push(b'-');
    push_num(out, month, 2);
    out.push(b'-');
    push_num(out, day, 2);
    out.push(b'T');
    push_num(out, sod / 3600, 2);
    out.push(b':');
    push_num(out, sod / 60 % 60, 2);
    out.push(b':');
    push_num(out, sod % 60, 2);
    out.push(b'.');
    match sub_ms_ns {
        None => push_num(out, milli, 3),
        Some(ns) => push_num(out, milli * 1_000_000 + ns, 9),
    }
    out.push(b'Z');
}

fn push_num(out: &mut Vec<u8>, n: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(b'0' + (n / 10u32.pow(i) % 10) as u8);
    }
}

/// Fixed single lines for the micro-benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// registration × proxy, a failure every rule set must find.
    Failing,
    /// `completed fetching node_stats metricset`: a healthy line the prefilter lets through.
    Candidate,
    /// The cloud-metadata probe refused: matched by anchors, then ignored.
    Trap,
    /// `fetching node_stats metricset`: a healthy line without anchors.
    Healthy,
}

/// One line (without newline) of `sample`, in `env`.
pub fn sample_line(sample: Sample, env: Envelope) -> Vec<u8> {
    let mut g = Generator::new(Config {
        seed: 7,
        mode: Mode::One(env),
        failures_percent: 0.0,
    });
    g.seg.resource = true;
    g.seg.old_fields = false;
    let ev = match sample {
        Sample::Failing => Event::new(
            Level::Error,
            Who::Receiver,
            "metricset/metricset.go:71",
            "autoops_es",
            format!("failed to register Cloud Connected Mode: failed to register for Cloud Connected Mode: Post \"{CCM_API}\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused: HTTP error failed to send request"),
        )
        .func(REGISTER_FUNC),
        Sample::Candidate => g.fetch_event("node_stats", true),
        Sample::Trap => Event::new(
            Level::Warn,
            Who::Receiver,
            "add_cloud_metadata/providers.go:182",
            "add_cloud_metadata",
            "add_cloud_metadata: received error for provider aws: failed requesting aws metadata: Get \"http://169.254.169.254/2014-02-25/dynamic/instance-identity/document\": dial tcp 169.254.169.254:80: connect: connection refused".into(),
        ),
        Sample::Healthy => g.fetch_event("node_stats", false),
    };
    let mut out = Vec::new();
    g.render(&ev, &mut out);
    out
}
