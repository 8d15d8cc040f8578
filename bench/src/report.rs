//! `docs/BENCHMARKS.md`, written from one run's measurements: every figure with the command
//! that reproduces it and the machine it ran on.

use std::fmt::Write as _;
use std::time::Duration;

use crate::coldstart::{FunctionRun, TABLE_HEADER};
use crate::cost::{
    FULL_VCPU_MB, MEMORY_SIZES_MB, PRICE_PER_GB_SECOND, PRICE_PER_MILLION_REQUESTS, PRICE_SOURCE,
    billed_duration, cost_per_million,
};
use crate::criterion_estimates::{BENCH_TARGETS, Estimate, command_line, short};
use crate::machine::Machine;
use crate::oracle::{Failure, OracleRun};
use crate::pipeline::{FAULT_CYCLE_LENGTH, PipelineRun, RUN_ENVIRONMENT, TIMEOUT_HOLD};
use crate::sizes::BinarySize;
use crate::stats::{bytes_mib, median, ms, quantile, seconds};

/// The command that runs everything and rewrites the report.
pub const COMMAND: &str = "cargo run --release -p lambdauth-bench --bin benchmarks";

/// The settings of a run, as given on the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether criterion ran in `--quick` mode.
    pub quick: bool,
    /// Warm invocations per function under the Runtime API stand-in.
    pub invocations: usize,
    /// Rounds of the oracle check.
    pub oracle_rounds: usize,
    /// Signups per pipeline run.
    pub signups: usize,
    /// Signups in flight at most.
    pub concurrency: usize,
    /// The command line of this run.
    pub command_line: String,
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Measurements {
    /// The machine.
    pub machine: Machine,
    /// The criterion estimates.
    pub estimates: Vec<Estimate>,
    /// Cold start and warm invocations.
    pub functions: Vec<FunctionRun>,
    /// The oracle check.
    pub oracle: Option<OracleRun>,
    /// The pipeline runs, without and with faults.
    pub pipelines: Vec<PipelineRun>,
    /// Binary and zip sizes.
    pub sizes: Vec<BinarySize>,
    /// How long the whole run took.
    pub took: Duration,
}

/// What each criterion benchmark measures.
fn describe(id: &str) -> &'static str {
    match id {
        "password/argon2id_hash_default" => "Argon2id hash, m = 19456 KiB, t = 2, p = 1",
        "password/argon2id_verify_default" => "Argon2id verify, same parameters",
        "password/legacy_pbkdf2_sha1_verify" => {
            "legacy PBKDF2-HMAC-SHA1 verify (4096 iterations, 128-byte key)"
        }
        "password/unknown_user_dummy_verify" => "the dummy verify an unknown address costs",
        "token_generate_and_hash" => "link token: 32 random bytes, SHA-256",
        "login_request/decode" => "login: event JSON → request → body → email and attempt",
        "login_request/decide" => "login: throttle admit + conclude (password check given)",
        "login_request/encode" => "login: success answer → payload 2.0 response JSON",
        "login_request/decode_decide_encode" => "login without the hash, end to end",
        _ => "",
    }
}

/// The criterion benchmark ids the report reads, bench by bench.
pub const ESTIMATE_IDS: [(&str, &[&str]); 2] = [
    (
        "hashing",
        &[
            "password/argon2id_hash_default",
            "password/argon2id_verify_default",
            "password/legacy_pbkdf2_sha1_verify",
            "password/unknown_user_dummy_verify",
            "token_generate_and_hash",
        ],
    ),
    (
        "login_request",
        &[
            "login_request/decode",
            "login_request/decide",
            "login_request/encode",
            "login_request/decode_decide_encode",
        ],
    ),
];

/// A part of the run and of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// The criterion benches.
    Criterion,
    /// Cold start and warm invocations of the release binaries.
    Coldstart,
    /// The login timing oracle check.
    Oracle,
    /// The mail pipeline under load.
    Pipeline,
    /// Binary and zip sizes.
    Sizes,
    /// Cost per million requests (from the criterion and cold start figures).
    Cost,
}

impl Section {
    /// Every section, in the report's order.
    pub const ALL: [Self; 6] = [
        Self::Criterion,
        Self::Coldstart,
        Self::Oracle,
        Self::Pipeline,
        Self::Sizes,
        Self::Cost,
    ];
}

/// The whole report as Markdown.
pub fn render(settings: &Settings, m: &Measurements) -> String {
    let mut doc = String::new();
    header(&mut doc, settings, m);
    doc.push_str(&render_sections(settings, m, &Section::ALL));
    doc
}

/// The given sections as Markdown, without the header.
pub fn render_sections(settings: &Settings, m: &Measurements, sections: &[Section]) -> String {
    let mut doc = String::new();
    for section in sections {
        match section {
            Section::Criterion => criterion_section(&mut doc, settings, m),
            Section::Coldstart => coldstart_section(&mut doc, settings, m),
            Section::Oracle => oracle_section(&mut doc, settings, m),
            Section::Pipeline => pipeline_section(&mut doc, settings, m),
            Section::Sizes => sizes_section(&mut doc, m),
            Section::Cost => cost_section(&mut doc, m),
        }
    }
    doc
}

fn header(doc: &mut String, settings: &Settings, m: &Measurements) {
    let machine = &m.machine;
    let _ = write!(
        doc,
        "# Benchmarks\n\n\
         Figures, not assertions: medians and ratios from one run on a shared, noisy machine, \
         written by the run itself. Nothing here is checked by a test. Run everything again and \
         rewrite this file with\n\n\
         ```sh\n{COMMAND}\n```\n\n\
         (`-- --quick` for a smaller run; `-- --help` for the knobs; `-- --only SECTION` prints \
         one section without touching this file). This file came from\n\n\
         ```sh\n{}\n```\n\n\
         which took {} in all.\n\n\
         | machine | |\n| --- | --- |\n\
         | CPU | {} ({} logical cores available, {}) |\n\
         | memory | {} |\n\
         | kernel | {} |\n\
         | compiler | {} |\n\
         | date | {} |\n\
         | load average at start | {} |\n\n\
         The deploy target is arm64 (Graviton, `provided.al2023`); this machine is {}. Times, CPU \
         time and binary sizes are this machine's and will differ on Graviton.\n\n",
        settings.command_line,
        minutes(m.took),
        machine.cpu_model,
        machine.cores,
        machine.architecture,
        machine.memory,
        machine.kernel,
        machine.rustc,
        machine.date,
        machine.load_at_start,
        machine.architecture,
    );
}

fn criterion_section(doc: &mut String, settings: &Settings, m: &Measurements) {
    let mode = if settings.quick {
        "criterion's `--quick` mode"
    } else {
        "criterion's default sampling"
    };
    let _ = write!(
        doc,
        "## In-process work (criterion)\n\n\
         Medians per iteration with the 95 % confidence interval of the median, {mode}. The \
         login request bench decodes the API Gateway event and the JSON body as the handler \
         does, runs the domain's throttle admission and login decision with the password check \
         already made, and encodes the success answer (a Cognito-sized token) as the payload 2.0 \
         response: everything a login does on the CPU except the hash and the AWS calls.\n\n\
         | benchmark | what | median | 95 % CI of the median | command |\n\
         | --- | --- | --- | --- | --- |\n"
    );
    for (bench, ids) in ESTIMATE_IDS {
        let target = BENCH_TARGETS
            .iter()
            .find(|target| target.bench == bench)
            .copied();
        for id in ids {
            let Some(estimate) = m.estimates.iter().find(|e| e.id == *id) else {
                continue;
            };
            let command = target.map_or_else(String::new, |t| command_line(t, settings.quick));
            let _ = writeln!(
                doc,
                "| `{id}` | {} | {} | {} – {} | `{command}` |",
                describe(id),
                short(estimate.median),
                short(estimate.median_low),
                short(estimate.median_high),
            );
        }
    }
    if let (Some(hash), Some(rest)) = (
        find(m, "password/argon2id_verify_default"),
        find(m, "login_request/decode_decide_encode"),
    ) {
        let _ = write!(
            doc,
            "\nThe Argon2id verify is {:.0} times the rest of a login's in-process work.\n",
            hash.median.as_secs_f64() / rest.median.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
    doc.push('\n');
}

fn find<'a>(m: &'a Measurements, id: &str) -> Option<&'a Estimate> {
    m.estimates.iter().find(|e| e.id == id)
}

fn coldstart_section(doc: &mut String, settings: &Settings, m: &Measurements) {
    let _ = write!(
        doc,
        "## Cold start and warm invocations (release binaries)\n\n\
         Each function's stripped release binary runs as a child process under a Lambda Runtime \
         API stand-in (`bench/src/runtime_api.rs`) against the local emulator, with the \
         production Argon2id cost. *init* is spawn until the binary first asks for an event; \
         *first response* is spawn until the first answer; *warm* is event handed out until \
         answered, for the {} invocations after the first; *CPU per warm invocation* is the \
         process's user + system time (all threads, from `/proc/PID/stat`) over the warm \
         invocations divided by their number; *peak RSS* is `VmHWM`. Login is a verified account \
         with its right password (one Argon2id verify, a conditional write to count the attempt, \
         one to clear it, a Cognito token); CreateUser is a new address each time (one Argon2id \
         hash, a KMS encrypt, a transaction of user + outbox item). The warm times include the \
         emulator's answers (moto, one request at a time), which are slower than DynamoDB's. No \
         memory limit or CPU share is applied here: the process has the machine's cores.\n\n\
         ```sh\ncargo run --release -p lambdauth-bench --bin coldstart -- --invocations {}\n```\n\n\
         {TABLE_HEADER}\n",
        settings.invocations, settings.invocations,
    );
    for run in &m.functions {
        let _ = writeln!(doc, "{}", run.row());
    }
    doc.push('\n');
}

fn oracle_section(doc: &mut String, settings: &Settings, m: &Measurements) {
    let Some(oracle) = &m.oracle else {
        return;
    };
    let _ = write!(
        doc,
        "## Login timing oracle\n\n\
         Does the time of a failed login tell what the address is? Logins through the real \
         handler code (the functions' own event handling, `Functions::from_source` over a \
         provisioned stack in the emulator), production Argon2id cost, the lockout on at its \
         defaults, {} rounds after 3 thrown away; each round runs one login of each kind, so a \
         noisy neighbour slows them alike. Every attempt has an address of its own, so none \
         fails often enough to lock, except the two each round locks on purpose (five failures) \
         to time the 429 of an address with and without an account. The unverified account is \
         tried with its right password (the case that would skip work if any path did); the \
         legacy and older-cost accounts hold a PBKDF2 hash from the LambdAuth fixture and an \
         Argon2id hash of m=4096, t=1. The goal is every ratio within 0.9–1.1.\n\n\
         ```sh\n{COMMAND} -- --only oracle --oracle-rounds {}\n```\n\n\
         | login fails because of | n | median | p95 | median ÷ its reference's median |\n\
         | --- | --- | --- | --- | --- |\n",
        settings.oracle_rounds, settings.oracle_rounds,
    );
    for failure in Failure::ALL {
        let samples = oracle.samples(failure);
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {} | {:.3} ({}) |",
            failure.label(),
            samples.len(),
            ms(median(samples)),
            ms(quantile(samples, 0.95)),
            oracle.ratio(failure, failure.reference()),
            failure.reference().label(),
        );
    }
    let within = Failure::ALL
        .iter()
        .all(|failure| (0.9..=1.1).contains(&oracle.ratio(*failure, failure.reference())));
    let _ = write!(
        doc,
        "\n{}\n\n\
         Besides the hash, every kind makes the same AWS calls in the same order (one `Query` of \
         the user and the throttle, one conditional `PutItem` of the counted attempt; a 429 only \
         the `Query`), which the test suite asserts through a recording proxy. A wrong password \
         against a cheaper hash (legacy, or an older Argon2id cost) also pays the dummy at \
         today's cost, so it costs that hash's check more than today's Argon2id verify.\n\n",
        if within {
            "Every ratio is within 0.9–1.1 in this run."
        } else {
            "Not every ratio is within 0.9–1.1 in this run; see the medians above."
        }
    );
}

fn pipeline_section(doc: &mut String, settings: &Settings, m: &Measurements) {
    let _ = write!(
        doc,
        "## Mail pipeline under load\n\n\
         {} signups (a new address each), at most {} in flight, over HTTP on loopback to the \
         local runtime (`DevServer` in the benchmark's process: the functions' own event \
         handling for the API, the mailer fed by polling the table's stream and the retry queue \
         every 250 ms), with the production Argon2id cost. *All mail accepted* runs from the \
         first signup sent until the emulator's SES, behind the recording proxy, has accepted a \
         verification mail to every address. The faulty run fails SES `SendEmail` requests in a \
         fixed cycle: of every {FAULT_CYCLE_LENGTH}, two are throttled (429), two answer 503 and \
         one is held {} (past the mailer's 5 s attempt timeout), 20 % in all. For the run, {}: a \
         retried mail waits about one second (doubling per attempt) instead of thirty.\n\n\
         The emulator is the bottleneck, and the figures are mostly its: the bundled moto serves \
         one request at a time and deep-copies the table for every `TransactWriteItems` (each \
         signup is one), so a signup gets slower as the table grows, and the mailer's calls queue \
         behind the signups'. The mailer handles a batch one record at a time, so each injected \
         timeout stalls it for 5 s. Against DynamoDB and SES neither holds.\n\n\
         ```sh\n{COMMAND} -- --only pipeline --signups {} --concurrency {}\n```\n\n\
         | SES | signups | signup p50 | signup p95 | signups failed | all answered | all mail accepted | mails accepted | SES send requests | faults injected |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        settings.signups,
        settings.concurrency,
        seconds(TIMEOUT_HOLD),
        RUN_ENVIRONMENT
            .iter()
            .map(|(name, value)| format!("`{name}={value}`"))
            .collect::<Vec<_>>()
            .join(" and "),
        settings.signups,
        settings.concurrency,
    );
    for run in &m.pipelines {
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            if run.faults {
                "20 % faults"
            } else {
                "no faults"
            },
            run.signups,
            ms(quantile(&run.latencies, 0.5)),
            ms(quantile(&run.latencies, 0.95)),
            run.failed_signups,
            seconds(run.all_answered),
            seconds(run.all_mail_accepted),
            run.mails_accepted,
            run.send_requests,
            run.faults_injected,
        );
    }
    doc.push('\n');
}

fn sizes_section(doc: &mut String, m: &Measurements) {
    let _ = write!(
        doc,
        "## Binary and deployment zip sizes\n\n\
         Each release binary (profile `release`: `lto = true`, `codegen-units = 1`, \
         `strip = true`, `opt-level = 3`) and the zip that deploys it: the binary alone as an \
         executable `bootstrap`, deflated at the default level (the `zip` crate). These are \
         x86_64 binaries built on this machine; the deployed ones are arm64 and will differ \
         somewhat.\n\n\
         ```sh\n{COMMAND} -- --only sizes\n```\n\n\
         | function | binary | zip | stripped |\n| --- | --- | --- | --- |\n"
    );
    for size in &m.sizes {
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {} |",
            size.name,
            bytes_mib(size.binary),
            bytes_mib(size.zip),
            if size.stripped { "yes" } else { "no" },
        );
    }
    doc.push('\n');
}

fn cost_section(doc: &mut String, m: &Measurements) {
    let _ = write!(
        doc,
        "## Cost per million requests\n\n\
         Prices: ${PRICE_PER_GB_SECOND} per GB-second and ${PRICE_PER_MILLION_REQUESTS:.2} per \
         million requests ({PRICE_SOURCE}); the free tier is left out.\n\n\
         The model: Lambda gives a function CPU in proportion to its memory, one full vCPU at \
         {FULL_VCPU_MB} MB. Work that needs `c` of CPU on one thread therefore takes about \
         `c × {FULL_VCPU_MB} / memory` below that size (a CPU-bound 28 ms hash takes about \
         28 ms × {FULL_VCPU_MB} / 128 ≈ 387 ms at 128 MB), and Lambda bills that duration, \
         rounded up to the millisecond, at `memory / 1024` GB. For CPU-bound work the \
         GB-seconds hardly change with memory (the duration shrinks as the memory grows), which \
         the table shows; what more memory buys is latency. The CPU time is the one measured \
         above on this machine (the warm invocations' CPU per invocation from `/proc`, or \
         criterion's median for a hash alone). Not modelled: the time a request waits on \
         DynamoDB, KMS, Cognito or SES, which is billed at every memory size but is not CPU \
         (against the emulator it says nothing about AWS: add your own measured wait × \
         memory / 1024 × the GB-second price), and the billed init of a cold start.\n\n\
         | work | CPU per request |"
    );
    for memory in MEMORY_SIZES_MB {
        let _ = write!(doc, " billed at {memory} MB |");
    }
    for memory in MEMORY_SIZES_MB {
        let _ = write!(doc, " $ per million at {memory} MB |");
    }
    doc.push_str("\n| --- | --- |");
    for _ in 0..MEMORY_SIZES_MB.len() * 2 {
        doc.push_str(" --- |");
    }
    doc.push('\n');
    let mut rows: Vec<(String, Duration)> = m
        .functions
        .iter()
        .map(|run| {
            (
                format!("{} (warm, whole request)", run.name),
                run.cpu_per_invocation(),
            )
        })
        .collect();
    for (id, label) in [
        ("password/argon2id_verify_default", "Argon2id verify alone"),
        ("password/argon2id_hash_default", "Argon2id hash alone"),
    ] {
        if let Some(estimate) = find(m, id) {
            rows.push((label.to_owned(), estimate.median));
        }
    }
    for (label, cpu) in rows {
        let _ = write!(doc, "| {label} | {} |", ms(cpu));
        for memory in MEMORY_SIZES_MB {
            let _ = write!(doc, " {} |", ms(billed_duration(cpu, memory)));
        }
        for memory in MEMORY_SIZES_MB {
            let _ = write!(doc, " ${:.2} |", cost_per_million(cpu, memory));
        }
        doc.push('\n');
    }
}

/// Minutes and seconds.
fn minutes(duration: Duration) -> String {
    let secs = duration.as_secs();
    format!("{} min {} s", secs / 60, secs % 60)
}
